"""Operations: ``/healthz`` (the process is up), ``/readyz`` (the database and the broker answer)
and ``/metrics`` (Prometheus text format: this process's metrics, or every process's in
multiprocess mode, as the workers serve them)."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from services.gateway.deps import claimflow
from shared.observability.exposition import scrape_registry
from services.gateway.models import Health, NotReady, Ready
from shared.bootstrap import App

router = APIRouter(tags=["operations"])
log = structlog.get_logger("gateway")

CHECK_TIMEOUT = 3.0   # seconds each readiness check may take


def check_database(app: App) -> None:
    with app.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def check_broker(app: App) -> None:
    """The stub broker is in this process; Redis is pinged and RabbitMQ connected to, briefly."""
    url = app.settings.broker_url
    if not url:
        return
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT - 1, socket_timeout=CHECK_TIMEOUT - 1)
        try:
            client.ping()
        finally:
            client.close()
    elif url.startswith(("amqp://", "amqps://")):
        from kombu import Connection
        with Connection(url, connect_timeout=CHECK_TIMEOUT - 1) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2)
    else:
        raise ValueError(f"unknown broker scheme {urlsplit(url).scheme!r}")


async def _run(check, app: App) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(check, app), timeout=CHECK_TIMEOUT)
    except asyncio.TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:   # noqa: BLE001 - any failure means "not ready"
        log.warning("gateway.not_ready", check=check.__name__, error=repr(exc)[:300])
        return f"unavailable ({type(exc).__name__})"
    return "ok"


@router.get("/healthz", summary="The process is up", response_model=None,
            responses={200: {"model": Health, "description": "always, while the process runs"}})
async def healthz():
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="The database and the broker answer", response_model=None,
            responses={200: {"model": Ready, "description": "ready to accept events"},
                       503: {"model": NotReady, "description": "a part is unreachable; `checks` says which"}})
async def readyz(app: App = Depends(claimflow)):
    database, broker = await asyncio.gather(_run(check_database, app), _run(check_broker, app))
    checks = {"database": database, "broker": broker}
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return JSONResponse({"error": "not_ready", "message": ", ".join(f"{n}: {checks[n]}" for n in failed),
                             "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "the process's counters, Prometheus text format"}})
async def metrics():
    return Response(await run_in_threadpool(lambda: generate_latest(scrape_registry())),
                    media_type=CONTENT_TYPE_LATEST)
