"""The departments' API through the broker: the same updates as ``/v1/department/claims/{number}/…``,
taken as JSON messages from a durable queue (``claimflow.department-updates`` by default) on the
department queues' connection (``settings.effective_department_queue_url``).

A message is ``{"key": "cfk_…", "claim_number": "RK-…", "action": …, <the action's HTTP body fields>,
"reply_to"?, "correlation_id"?}``, the action one of ``acknowledge``, ``request-information``,
``customer-replied``, ``decision``, ``executed``, ``reroute``. ``reply_to``/``correlation_id`` may also
come as the message's AMQP properties. Each message is checked like an HTTP request (the same pydantic
bodies, the same key rules, the same ``transitions`` function through ``service.change_claim``) and
its outcome, when it names a ``reply_to`` queue, is published there (default exchange) as JSON:
``{"correlation_id", "ok": true, "claim": <as the HTTP answer>}`` or
``{"correlation_id", "ok": false, "error": code, "message": text[, "status", "allowed"]}``.

Every outcome is acknowledged — a refusal is final, it is never redelivered in a loop — except the
database (or broker) being unreachable: that message is requeued and the consumer backs off."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import structlog
from kombu import Connection, Consumer, Exchange, Producer, Queue
from pydantic import BaseModel, ValidationError

from services.departments import service, transitions as t
from services.departments.keys import MAX_KEY_LENGTH, Principal, authenticate
from services.departments.schemas import (CustomerReply, DecisionRequest, ExecutionReport, InformationRequest,
                                          RerouteRequest)
from services.gateway.errors import is_unavailable
from shared.bootstrap import App
from shared.db.models import Claim
from shared.messaging.connections import department_connection, release_quietly

log = structlog.get_logger("department_updates")

DEFAULT_QUEUE = "claimflow.department-updates"
ENVELOPE = ("key", "claim_number", "action", "reply_to", "correlation_id")


def _make(app: App, action: str, body: BaseModel | None) -> Callable[[Claim], t.Change]:
    """The same transition as the HTTP handler of ``action`` (see ``services.departments.api``)."""
    if action == "acknowledge":
        return lambda c: t.acknowledge(c.status)
    if action == "request-information":
        return lambda c: t.request_information(c.status, body.question)
    if action == "customer-replied":
        return lambda c: t.customer_replied(c.status, body.note if body else None)
    if action == "decision":
        resolution = getattr(body.resolution, "value", body.resolution)
        return lambda c: t.decide(c.status, t.decision_of(resolution, body.amount, body.currency, body.reason))
    if action == "executed":
        return lambda c: t.execute(c.status, body.evidence, body.note)
    if action == "reroute":
        return lambda c: t.reroute(c, body.department.strip(), body.reason, app.policy, body.category)
    raise AssertionError(action)


#: each action and its HTTP body (None: no fields)
BODIES: dict[str, type[BaseModel] | None] = {
    "acknowledge": None, "request-information": InformationRequest, "customer-replied": CustomerReply,
    "decision": DecisionRequest, "executed": ExecutionReport, "reroute": RerouteRequest}


class Refused(Exception):
    """An update that is answered with an error and acknowledged (never retried)."""

    def __init__(self, error: str, message: str, **extra):
        super().__init__(message)
        self.error, self.message, self.extra = error, message, extra


def _validation_message(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg', 'invalid')}"
             for e in exc.errors()[:5]]
    return "; ".join(parts) or "the update is invalid"


def _decode(message) -> dict:
    """The message's JSON object, whether published as a dict (kombu's json) or as a JSON text."""
    raw = message.body
    try:
        value = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
        if isinstance(value, str):            # a JSON text published with kombu's json serializer
            value = json.loads(value)
    except (TypeError, ValueError):
        raise Refused("bad_request", "the message is not JSON") from None
    if not isinstance(value, dict):
        raise Refused("bad_request", "the message is not a JSON object")
    return value


class DepartmentUpdates:
    """Consumes department updates from ``queue_name`` and applies them as the HTTP API would."""

    def __init__(self, app: App, queue_name: str = DEFAULT_QUEUE, *, url: str | None = None,
                 polling_interval: float | None = None, retry_delay: float = 5.0):
        self.app = app
        self.url = url or app.settings.effective_department_queue_url
        self.queue = Queue(queue_name, durable=True)      # the default exchange: routing key = queue name
        self.retry_delay = retry_delay
        options: dict[str, Any] = {}
        if polling_interval is not None and not self.url.startswith("amqp"):
            options["polling_interval"] = polling_interval
        self._transport_options = options
        self._connection: Connection | None = None
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._settled = 0
        self._requeued = False
        self._lock = threading.Lock()

    # --- the connection ---------------------------------------------------------------------------

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = department_connection(self.url, self._transport_options)
            self._connection.ensure_connection(max_retries=3)
            channel = self._connection.channel()
            self._consumer = Consumer(channel, queues=[self.queue], on_message=self._on_message,
                                      accept=["json", "text/plain", "application/data"], auto_declare=True)
            self._consumer.qos(prefetch_count=1)
            self._consumer.consume()
            self._producer = Producer(self._connection.channel(), exchange=Exchange(""))
        return self._connection

    def _reset(self) -> None:
        release_quietly(self._connection)
        self._connection = self._consumer = self._producer = None

    def close(self) -> None:
        with self._lock:
            self._reset()

    # --- consuming ---------------------------------------------------------------------------------

    def drain(self, limit: int | None = None, timeout: float = 1.0) -> int:
        """Handle the messages waiting, until none comes for ``timeout`` seconds, ``limit`` are settled,
        or one had to be requeued (the database is unreachable). Returns how many were settled (acked)."""
        with self._lock:
            connection = self._connect()
            self._settled, self._requeued = 0, False
            while (limit is None or self._settled < limit) and not self._requeued:
                try:
                    connection.drain_events(timeout=timeout)
                except socket.timeout:
                    break
            return self._settled

    def run(self, stop_event: threading.Event, timeout: float = 1.0) -> None:
        """Consume until ``stop_event`` is set; back off ``retry_delay`` seconds after a requeue or a
        broker failure."""
        log.info("department_updates.started", queue=self.queue.name)
        while not stop_event.is_set():
            try:
                self.drain(timeout=timeout)
                backoff = self._requeued
            except Exception as exc:   # noqa: BLE001 - the broker went away: reconnect after a pause
                log.warning("department_updates.broker_error", error=type(exc).__name__, detail=str(exc)[:200])
                self.close()
                backoff = True
            if backoff:
                stop_event.wait(self.retry_delay)
        self.close()
        log.info("department_updates.stopped", queue=self.queue.name)

    def _on_message(self, message) -> None:
        props = message.properties or {}
        reply_to, correlation_id = props.get("reply_to"), props.get("correlation_id")
        number = action = None
        try:
            try:
                update = _decode(message)
                reply_to = update.get("reply_to", reply_to)
                correlation_id = update.get("correlation_id", correlation_id)
                number, action = update.get("claim_number"), update.get("action")
                claim = self.apply(update)
            except Refused as exc:
                answer = {"ok": False, "error": exc.error, "message": exc.message, **exc.extra}
            else:
                answer = {"ok": True, "claim": claim}
        except Exception as exc:   # noqa: BLE001 - decided below: retried when unavailable, else answered
            if is_unavailable(exc):
                log.warning("department_update.requeued", claim_number=_str(number), action=_str(action),
                            outcome="unavailable", error=type(exc).__name__,
                            request_correlation_id=_str(correlation_id))
                message.requeue()
                self._requeued = True
                return
            log.exception("department_update.failed", claim_number=_str(number), action=_str(action))
            answer = {"ok": False, "error": "internal_error", "message": "the update could not be applied"}
        log.info("department_update", claim_number=_str(number), action=_str(action),
                 outcome="ok" if answer["ok"] else answer["error"],
                 status=answer["claim"]["status"] if answer["ok"] else None,
                 request_correlation_id=_str(correlation_id))     # the sender's id, echoed in the reply
        self._reply(reply_to, correlation_id, answer)
        message.ack()
        self._settled += 1

    def _reply(self, reply_to, correlation_id, answer: dict) -> None:
        if not isinstance(reply_to, str) or not reply_to.strip():
            return
        body = {"correlation_id": correlation_id, **answer}
        try:
            self._producer.publish(json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                                   routing_key=reply_to.strip(), content_type="application/json",
                                   content_encoding="utf-8", delivery_mode=2,
                                   correlation_id=None if correlation_id is None else str(correlation_id))
        except Exception as exc:   # noqa: BLE001 - the update stands; only its answer is lost
            log.warning("department_update.reply_failed", reply_to=reply_to, error=type(exc).__name__)

    # --- one update ---------------------------------------------------------------------------------

    def apply(self, update: dict) -> dict:
        """Apply one decoded update; the claim as the HTTP API answers it, or Refused."""
        missing = [f for f in ("key", "claim_number", "action") if not isinstance(update.get(f), str)
                   or not update[f].strip()]
        if missing:
            raise Refused("invalid_request", f"the update needs {', '.join(missing)} (non-empty text)")
        who = self._principal(update["key"].strip())          # first, as over HTTP: a stranger learns nothing
        action = update["action"].strip()
        if action not in BODIES:
            raise Refused("unknown_action", f"{action[:40]!r} is not an action; known: {', '.join(BODIES)}")
        fields = {k: v for k, v in update.items() if k not in ENVELOPE}
        model = BODIES[action]
        if model is None:
            if fields:
                raise Refused("invalid_request", f"{action} takes no fields; got {', '.join(sorted(fields))[:200]}")
            body = None
        else:
            try:
                body = model.model_validate(fields)
            except ValidationError as exc:
                raise Refused("invalid_request", _validation_message(exc)) from None
        try:
            return service.change_claim(self.app, who, update["claim_number"], _make(self.app, action, body))
        except service.NotFound:
            raise Refused("not_found", "no claim with this number") from None
        except service.Forbidden:
            raise Refused("forbidden", "this key's department may not see that department's claims") from None
        except t.InvalidRequest as exc:
            raise Refused(exc.error, str(exc)) from None
        except t.IllegalAction as exc:
            raise Refused("illegal_transition", str(exc), status=exc.current.value, allowed=exc.allowed) from None

    def _principal(self, secret: str) -> Principal:
        if len(secret) > MAX_KEY_LENGTH:
            raise Refused("unauthorized", "the API key is unknown or revoked")
        with self.app.sessions() as session:
            found = authenticate(session, secret)
        if found is None:
            raise Refused("unauthorized", "the API key is unknown or revoked")
        return found


def _str(value) -> str | None:
    """A field for the log: text, cut short (never the key, which is not passed here)."""
    return value[:40] if isinstance(value, str) else None
