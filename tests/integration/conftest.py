"""Fixtures of the real-service tier: a migrated database, a broker, and `claimflow worker`
processes configured to use them, with names of this test alone."""
from __future__ import annotations

import os

import pytest

from tests.integration.processes import Workers


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request):
    return request.getfixturevalue("redis_url" if request.param == "redis" else "amqp_url")


@pytest.fixture
def env(migrated_pg_url, broker_url, names, tmp_path):
    values = {"CLAIMFLOW_DATABASE_URL": migrated_pg_url, "CLAIMFLOW_BROKER_URL": broker_url,
              "CLAIMFLOW_QUEUE_PREFIX": names["queue_prefix"],
              "CLAIMFLOW_DEPARTMENT_EXCHANGE": names["department_exchange"],
              "CLAIMFLOW_DEPARTMENT_QUEUE_PREFIX": names["department_queue_prefix"],
              "CLAIMFLOW_REDIS_NAMESPACE": names["redis_namespace"],
              "CLAIMFLOW_REDRIVE_AFTER_SECONDS": "3", "CLAIMFLOW_REDRIVE_INTERVAL_SECONDS": "1",
              "CLAIMFLOW_LOG_LEVEL": "WARNING", "CLAIMFLOW_BLOB_DIR": str(tmp_path / "blobs")}
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}, **values}


@pytest.fixture
def workers(env, tmp_path):
    w = Workers(env, tmp_path)
    yield w
    w.stop_all()


