"""One wiring place per process: settings, database, broker, department queues, policy, clock.

Nothing connects at import time; ``bootstrap`` builds what the process needs and tests hand it
real services or fakes through the same call."""
from __future__ import annotations

from dataclasses import dataclass, field

import dramatiq
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from routing_worker.confirmation import mark_routed
from shared.clock import Clock, SystemClock
from shared.db.engine import is_postgres, make_engine, make_sessionmaker
from shared.db.migrate import upgrade
from shared.messaging.broker import make_broker
from shared.messaging.department_queues import DepartmentQueues
from shared.messaging.outbox import OutboxRelay
from shared.observability.logging import configure_logging
from shared.policy import Policy, load_policy
from shared.settings import Settings


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    broker: dramatiq.Broker
    department_queues: DepartmentQueues
    policy: Policy
    clock: Clock
    relay: OutboxRelay
    actors: dict[str, dramatiq.Actor] = field(default_factory=dict)

    @property
    def postgres(self) -> bool:
        return is_postgres(self.engine)

    def close(self) -> None:
        self.department_queues.close()
        self.broker.close()
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None,
              configure_logs: bool = True, migrate: bool | None = None) -> App:
    """Wire one process. ``migrate`` defaults to True on the embedded SQLite file, which upgrades
    itself; a PostgreSQL database is upgraded by ``claimflow db upgrade``."""
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    policy = load_policy(settings.policy_file)
    engine = make_engine(settings.database_url)
    if migrate is None:
        migrate = make_url(settings.database_url).get_backend_name() == "sqlite"
    if migrate:
        upgrade(engine)
    queues = DepartmentQueues(settings.effective_department_queue_url, settings.department_exchange,
                              settings.department_queue_prefix, list(policy.departments))
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    return App(settings=settings, engine=engine, sessions=sessions, broker=make_broker(settings),
               department_queues=queues, policy=policy, clock=clock,
               relay=OutboxRelay(sessions, queues, clock, is_postgres(engine), on_published=[mark_routed]))
