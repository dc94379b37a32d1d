"""Staff notices to a chat or an on-call tool: POST JSON to the role's webhook URL.

The body has ``text`` (what chat tools such as Slack or Mattermost show) beside the notice's facts,
and the ``Idempotency-Key`` header and ``idempotency_key`` field let the receiver drop a repeat."""
from __future__ import annotations

import httpx

from notify_worker.delivery import Confirm, LeaseLost, Outgoing
from notify_worker.delivery.http import post_json


def payload(message: Outgoing) -> dict:
    return {"idempotency_key": message.key, "kind": message.kind, "claim_number": message.claim_number,
            "subject": message.subject, "text": f"{message.subject}\n\n{message.text}".strip(), **message.data}


class WebhookChannel:
    def __init__(self, timeout: float = 10.0, client: httpx.Client | None = None):
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: Outgoing, confirm: Confirm) -> None:
        try:
            post_json(self.client, message.address, payload(message), message.key, confirm, message.headers)
        except LeaseLost:
            pass                     # delivered; another worker holds it now and its receiver drops the repeat

    def close(self) -> None:
        self.client.close()
