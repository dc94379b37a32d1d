"""Statements whose SQL differs by backend, written once."""
from __future__ import annotations

from sqlalchemy import Select, Table, bindparam, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_SEQUENCES_MADE: set[str] = set()


def _create_sequence(engine, name: str) -> None:
    """In its own transaction, so the DDL commits at once. Two workers creating the year's
    sequence at the same moment may collide in the catalogue; the loser finds it made."""
    for attempt in range(3):
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name}"))
                conn.commit()
            return
        except IntegrityError:
            if attempt == 2:
                raise


def insert_ignoring_conflicts(session: Session, table: Table):
    """INSERT … ON CONFLICT DO NOTHING for the session's backend."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def claim_work(session: Session, query: Select) -> Select:
    """Share a queue of rows among workers: FOR UPDATE SKIP LOCKED on PostgreSQL. SQLite has a
    single writer (its transactions begin IMMEDIATE), which gives the same exclusivity."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def reserve_serials(session: Session, year: int, count: int) -> list[int]:
    """``count`` unused claim serials of ``year``. PostgreSQL: a sequence per year, which takes no
    row lock, so intake workers never wait for each other (a rolled-back batch leaves a gap).
    SQLite: a counter row."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        name = f"claim_serial_{year:04d}"
        engine = session.get_bind().engine
        key = f"{engine.url}/{name}"
        if key not in _SEQUENCES_MADE:
            _create_sequence(engine, name)
            _SEQUENCES_MADE.add(key)
        rows = session.execute(text(f"SELECT nextval('{name}') FROM generate_series(1, :n)"), {"n": count})
        return sorted(r[0] for r in rows)
    session.execute(text("INSERT INTO claim_number_counters (year, value) VALUES (:y, 0) "
                         "ON CONFLICT (year) DO NOTHING"), {"y": year})
    last = session.execute(text("UPDATE claim_number_counters SET value = value + :n WHERE year = :y "
                                "RETURNING value"), {"n": count, "y": year}).scalar_one()
    return list(range(last - count + 1, last + 1))


def in_values(session: Session, column, values):
    """``column IN values`` as one array parameter on PostgreSQL (``= ANY(:values)``), so that the
    statement's text, and the driver's parse of it, is the same for every batch."""
    if session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def insert_rows(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` and return their new ids, in order. PostgreSQL: the ids are drawn from the
    table's sequence first and the rows sent with a plain executemany, whose short statement the
    driver parses once, instead of one long multi-row INSERT … RETURNING per batch."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                                        "FROM generate_series(1, :n)"), {"t": table.name, "n": len(rows)}))
        session.execute(table.insert(), [{**row, "id": i} for row, i in zip(rows, ids)])
        return ids
    return list(session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
