"""Tier 3: intake on real PostgreSQL with the in-process broker — what only a real database shows."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from intake_worker.channels import NORMALISERS, web
from services.export import export_claims, list_quarantine
from services.pipeline_run import run_replay
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.db.models import Base
from shared.schema import Channel
from shared.settings import Settings

pytestmark = pytest.mark.services


@pytest.fixture
def app(migrated_pg_url, names, tmp_path):
    settings = Settings(database_url=migrated_pg_url, broker_url=None,
                        department_queue_url=f"sqla+sqlite:///{tmp_path / 'queues.db'}", log_level="WARNING",
                        **names)
    app = bootstrap(settings, configure_logs=False)
    yield app
    app.close()


def test_the_migrations_build_exactly_the_models(app):
    with app.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_an_event_the_database_refuses_is_quarantined_and_spares_its_batch(app, monkeypatch):
    def poisoned(envelope, context):
        claim = web.normalise(envelope, context)
        if envelope.event_id.endswith("0000004"):
            return claim.model_copy(update={"language": "x" * 50})    # longer than the column allows
        return claim

    monkeypatch.setitem(NORMALISERS, Channel.WEB, poisoned)
    report = run_replay(app, None, lines=web_events(12, seed=21))

    assert (report.claims, report.quarantined) == (11, 1)
    [record] = list(list_quarantine(app))
    assert record["reason"] == "processing_error" and record["event_id"].endswith("0000004")
    assert len(list(export_claims(app))) == 11


def test_hostile_but_valid_text_is_stored_exactly(app):
    import json
    hostile = ("Robert'); DROP TABLE claims; -- <script>alert(1)</script> \u202eтекст\u202c \u200b"
               + "Я" * 5000)
    line = json.loads(web_events(1, seed=22)[0])
    line["payload"].update(name=hostile, sku="S" * 3000, order_number="№ " + "7" * 3000,
                           description=hostile + " чайник сломался")
    report = run_replay(app, None, lines=[json.dumps(line, ensure_ascii=False)])
    assert report.claims == 1
    [claim] = list(export_claims(app))
    assert claim["customer"]["name"] == hostile
