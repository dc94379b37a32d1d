"""The database side of deduplication: lock an event's keys, load the claims that share them,
and store what the next event will find a claim by. Every look-up goes through the
(kind, value) index of ``claim_keys``, so its cost does not grow with the number of claims."""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from intake_worker.dedupe import Candidate
from shared.db.models import Claim, ClaimEvent, ClaimKey, InboxEvent
from shared.db.statements import in_values, insert_ignoring_conflicts

KEYS, CLAIMS, EVENTS = ClaimKey.__table__, Claim.__table__, ClaimEvent.__table__
def lock(session: Session, keys: set[tuple[str, str]]) -> None:
    """PostgreSQL: hold a transaction-scoped advisory lock on each key, taken in one sorted pass
    (so two workers never wait on each other in a circle). Two events that could merge share a
    key, so the second waits until the first's claim is committed and then finds it. SQLite
    has one writer at a time, which gives the same order."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    ids = sorted({int.from_bytes(hashlib.sha256(f"{k}\x1f{v}".encode("utf-8", "surrogatepass")).digest()[:8],
                                 "big", signed=True) for k, v in keys})
    session.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k"),
                    {"ids": ids})


def wait_for_older(session: Session, first_id: int, timeout: float, poll: float = 0.02) -> bool:
    """PostgreSQL, with several intake workers: let the batches of older events commit first, so a
    claim is made before its follow-ups look for it (events that share no key would otherwise be
    placed out of order, and a third event joining both finds two claims). Waits at most
    ``timeout`` seconds — an older event nobody has taken yet must not stall intake — and returns
    whether the older events were all placed. Within a transaction at READ COMMITTED each poll
    sees what other workers committed since."""
    if session.get_bind().dialect.name != "postgresql" or timeout <= 0:
        return True
    inbox = InboxEvent.__table__
    older = select(inbox.c.id).where(inbox.c.status == "pending", inbox.c.id < first_id).limit(1)
    deadline = time.monotonic() + timeout
    while session.execute(older).first() is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


def load_candidates(session: Session, keys: set[tuple[str, str]]) -> dict[int, Candidate]:
    """Every claim that has one of ``keys``, with what the rules need of it."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(select(KEYS.c.claim_id, KEYS.c.kind, KEYS.c.value)
                           .where(in_values(session, KEYS.c.kind, {k for k, _ in wanted}),
                                  in_values(session, KEYS.c.value, {v for _, v in wanted}))).all()
    ids = {r.claim_id for r in rows if (r.kind, r.value) in wanted}
    if not ids:
        return {}
    candidates = {}
    for r in session.execute(select(CLAIMS.c.id, CLAIMS.c.order_ref, CLAIMS.c.received_at, CLAIMS.c.status)
                             .where(in_values(session, CLAIMS.c.id, ids)).order_by(CLAIMS.c.id)):
        if r.status == "archived":      # read-only: a new event about it starts a new claim
            continue
        c = candidates[r.id] = Candidate(claim_id=r.id)
        if r.order_ref:
            c.order_refs.add(r.order_ref)
        c.seen.append(r.received_at)
    ids = set(candidates)
    if not ids:
        return {}
    for r in session.execute(select(KEYS.c.claim_id, KEYS.c.kind, KEYS.c.value)
                             .where(in_values(session, KEYS.c.claim_id, ids))):
        candidates[r.claim_id].keys.add((r.kind, r.value))
    for r in session.execute(select(EVENTS.c.claim_id, EVENTS.c.received_at, EVENTS.c.text)
                             .where(in_values(session, EVENTS.c.claim_id, ids))):
        c = candidates[r.claim_id]
        if r.received_at is not None:
            c.seen.append(r.received_at)
        if r.text:
            c.texts.append(r.text)
    return candidates


def store_keys(session: Session, claim_keys: list[tuple[int, tuple[str, str]]]) -> None:
    rows = {(claim_id, *key) for claim_id, key in claim_keys}
    if rows:
        session.execute(insert_ignoring_conflicts(session, KEYS),
                        [{"claim_id": c, "kind": k, "value": v} for c, k, v in sorted(rows)])


class CandidateIndex:
    """Candidates by key, kept current while a batch is planned (a claim made or grown by an
    earlier event of the batch is found by the later ones)."""

    def __init__(self, candidates: dict[int, Candidate]):
        self.by_key: dict[tuple[str, str], dict[int, Candidate]] = defaultdict(dict)
        for c in candidates.values():
            self.add(c)

    def add(self, candidate: Candidate) -> None:
        for key in candidate.keys:
            self.by_key[key][candidate.claim_id] = candidate

    def for_keys(self, keys: set[tuple[str, str]]) -> list[Candidate]:
        found: dict[int, Candidate] = {}
        for key in keys:
            found.update(self.by_key.get(key, {}))
        # claims already stored first, by age; then those this batch made, in the order made
        return sorted(found.values(), key=lambda c: (c.claim_id < 0, abs(c.claim_id)))

