"""Fixtures for the three tiers. Real services get a database, Redis namespace and queue
names of their own per test, so runs never see each other's data. A service that is down
skips its tests on a laptop and fails them when CLAIMFLOW_REQUIRE_SERVICES=1 (CI)."""
from __future__ import annotations

import itertools
import os
import socket
import uuid

import pytest

from shared.settings import Settings

REQUIRE_SERVICES = os.environ.get("CLAIMFLOW_REQUIRE_SERVICES") == "1"
PG_ADMIN_URL = os.environ.get("CLAIMFLOW_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CLAIMFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("CLAIMFLOW_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RUN_ID = f"t{os.getpid()}x{uuid.uuid4().hex[:6]}"
_serial = itertools.count(1)


def unavailable(what: str, why: object):
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required here (CLAIMFLOW_REQUIRE_SERVICES=1) but unreachable: {why}")
    pytest.skip(f"{what} is unreachable ({why}); start it, or run .ci/run, to run this test")


def unique_name(kind: str) -> str:
    return f"cf_{RUN_ID}_{kind}{next(_serial)}"


@pytest.fixture
def names():
    """Queue, exchange and namespace names of this test alone."""
    base = unique_name("q")
    return {"queue_prefix": f"{base}.", "department_exchange": f"{base}.claims",
            "department_queue_prefix": f"{base}.claims.", "redis_namespace": base}


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'claimflow.db'}"


@pytest.fixture
def embedded_settings(sqlite_url, names, tmp_path):
    return Settings(database_url=sqlite_url, broker_url=None, department_queue_url=None, log_level="WARNING",
                    blob_dir=tmp_path / "blobs", **names)


@pytest.fixture
def pg_url():
    import sqlalchemy as sa
    name = unique_name("db")
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:   # noqa: BLE001 - any failure to reach PostgreSQL means "unavailable"
        unavailable("PostgreSQL", exc)
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated_pg_url(pg_url):
    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    return pg_url


@pytest.fixture
def redis_url(names):
    import redis
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:   # noqa: BLE001
        unavailable("Redis", exc)
    yield REDIS_URL
    for pattern in (f"{names['redis_namespace']}*", f"{names['department_queue_prefix']}*",
                    f"_kombu.binding.{names['department_exchange']}*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def amqp_url(names):
    from kombu import Connection
    try:
        with Connection(AMQP_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:   # noqa: BLE001
        unavailable("RabbitMQ", exc)
    yield AMQP_URL
    from shared.policy import load_policy
    with Connection(AMQP_URL) as conn:
        channel = conn.channel()
        queues = [names["department_queue_prefix"] + d for d in load_policy().departments]
        for stage in ("intake", "routing"):
            base = names["queue_prefix"] + stage
            queues += [base, base + ".DQ", base + ".XQ"]
        for queue in queues:
            try:
                channel.queue_delete(queue)
            except Exception:   # noqa: BLE001 - a queue that was never declared
                channel = conn.channel()
        try:
            channel.exchange_delete(names["department_exchange"])
        except Exception:   # noqa: BLE001
            pass


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@pytest.fixture
def mailbox():
    """A real SMTP server on a free port, for the tests of what claimflow sends."""
    from aiosmtpd.controller import Controller

    from tests.helpers import SmtpMailbox
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = SmtpMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    yield box
    controller.stop()
