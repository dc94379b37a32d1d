"""``claimflow worker notify``: threads that each lease and send due notices, polling the table
when idle (``nudge()`` wakes them at once, for callers in the same process)."""
from __future__ import annotations

import random
import sys
import threading
import time

import structlog

from notify_worker.delivery.sms import SmsChannel
from notify_worker.delivery.smtp import SmtpChannel
from notify_worker.delivery.webhook import WebhookChannel
from shared.heartbeat import Heartbeat
from shared.notify_policy import parse_notifications
from notify_worker.rendering import Templates
from notify_worker.sending import Delivery, Retries, Sender
from shared.bootstrap import App
from shared.observability.metrics import STAGE_ERRORS, STAGE_ITEMS, STAGE_SECONDS
from shared.settings import Settings

log = structlog.get_logger("notify")
#: seconds a thread waiting for the GIL lets another hold it (Python's default: 0.005)
SWITCH_INTERVAL = 0.0001


def status_url(settings: Settings, configured: str | None) -> str:
    if configured:
        return configured
    base = getattr(settings, "public_url", None) or f"http://{settings.gateway_host}:{settings.gateway_port}"
    return base.rstrip("/") + "/v1/claims/{claim_number}"


def retries_of(settings: Settings) -> Retries:
    return Retries(settings.notify_max_attempts, settings.notify_backoff_seconds,
                   settings.notify_backoff_max_seconds, settings.notify_lease_seconds)


def channels_of(settings: Settings) -> dict:
    return {"email": SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                                 username=settings.smtp_username, password=settings.smtp_password,
                                 starttls=settings.smtp_starttls),
            "webhook": WebhookChannel(),
            "sms": SmsChannel(settings.sms_gateway_url, settings.sms_gateway_token)}


class NotifyWorker:
    def __init__(self, app: App, threads: int | None = None, draw=None):
        settings = app.settings
        self.app, self.threads = app, threads or settings.worker_threads
        self.policy = parse_notifications(app.policy.document, app.policy.source, app.policy.departments)
        self.templates = Templates(settings.template_dir, app.policy.calendar.timezone)
        self.draw = draw or random.Random().random
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._switch_interval: float | None = None
        self._heartbeats: dict[str, Heartbeat] = {}

    def sender(self) -> Sender:
        settings = self.app.settings
        delivery = Delivery(channels_of(settings), self.templates, self.policy,
                            status_url(settings, self.policy.status_url), self.app.policy.departments)
        return Sender(self.app.engine, delivery, retries_of(settings), self.app.clock, self.draw,
                      settings.notify_batch_size)

    def nudge(self) -> None:
        self.wake.set()

    def _loop(self, heartbeat: Heartbeat) -> None:
        sender = self.sender()
        poll = self.app.settings.notify_poll_seconds
        try:
            while not self.stopping.is_set():
                heartbeat.beat()
                started = time.perf_counter()
                try:
                    n = sender.run_once()
                except Exception as e:   # noqa: BLE001 - a database hiccup must not end the worker
                    STAGE_ERRORS.labels("notify").inc()
                    # the class only: a database error's text carries the statement's parameters
                    log.error("notify.round_failed", error=type(e).__name__)
                    self.stopping.wait(poll)
                    n = 0
                if n:
                    STAGE_SECONDS.labels("notify").observe(time.perf_counter() - started)
                    STAGE_ITEMS.labels("notify").inc(n)
                    continue
                self.wake.wait(poll)
                self.wake.clear()
        finally:
            for channel in sender.delivery.channels.values():
                channel.close()

    def start(self) -> "NotifyWorker":
        # A notice is lost if the process dies between the two writes of its point of no return
        # (COMMIT to PostgreSQL, then the "." to the SMTP server; notify_worker.confirmation). Each
        # write gives the GIL away, and getting it back from a busy sibling thread takes up to the
        # switch interval (5 ms by default), which widened that gap from microseconds to
        # milliseconds: one kill in a few lost a notice. A short interval keeps it narrow.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        for i in range(self.threads):
            heartbeat = self._heartbeats[f"notify-{i}"] = Heartbeat(self.app.settings.stuck_after_seconds)
            thread = threading.Thread(target=self._loop, args=(heartbeat,), name=f"notify-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker.started", stages=["notify"], threads=self.threads)
        return self

    def alive(self) -> bool:
        """Every sending thread runs and came round lately (none stuck in a send)."""
        return (bool(self._threads) and all(t.is_alive() for t in self._threads) and not self.stopping.is_set()
                and all(h.fresh() for h in self._heartbeats.values()))

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
        log.info("worker.stopped", stages=["notify"])

    def drain(self) -> int:
        """Send in this thread until nothing is due now (tests, the embedded default); how many rounds'
        notices were leased in all."""
        sender, total = self.sender(), 0
        try:
            while n := sender.run_once():
                total += n
        finally:
            for channel in sender.delivery.channels.values():
                channel.close()
        return total
