"""``serve``: the gateway as a process. On the embedded default (no broker configured) the intake
and routing stages run in this process too, as ``replay`` runs them; with a broker, the separately
running ``claimflow worker`` processes take the nudges."""
from __future__ import annotations

import signal
import threading

import structlog
import uvicorn

from services.gateway.app import create_app
from services.runner import StageWorker
from services.stages import declare_actors
from shared.bootstrap import bootstrap
from shared.settings import Settings

EMBEDDED_STAGES = ("intake", "routing", "outbox")
log = structlog.get_logger("gateway")


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    settings = settings or Settings()
    host = host or settings.gateway_host
    port = port if port is not None else settings.gateway_port
    app = bootstrap(settings)
    declare_actors(app)
    stages = StageWorker(app, EMBEDDED_STAGES).start() if settings.embedded else None
    if threading.current_thread() is threading.main_thread():
        # uvicorn handles SIGTERM/SIGINT itself, then re-raises the signal to the handler that was
        # there before: a quiet one here, so that the in-process stages and the App are closed below
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: log.info("gateway.stopping", signal=signum))
    config = uvicorn.Config(create_app(app), host=host, port=port, log_config=None, proxy_headers=True,
                            access_log=False)   # the claim lookup's query holds an e-mail or phone: never logged
    log.info("gateway.listening", host=host, port=port, embedded=settings.embedded)
    try:
        uvicorn.Server(config).run()
    finally:
        if stages:
            stages.stop()
        app.close()
        log.info("gateway.stopped")
