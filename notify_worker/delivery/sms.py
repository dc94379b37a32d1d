"""Customer notices by SMS through an HTTP gateway: POST JSON ``{to, text, idempotency_key}`` with
the ``Idempotency-Key`` header (and a Bearer token where the gateway wants one)."""
from __future__ import annotations

import httpx

from notify_worker.delivery import Confirm, LeaseLost, Outgoing, Permanent
from notify_worker.delivery.http import post_json

MAX_CHARS = 480          # three concatenated Cyrillic SMS parts (UCS-2, 67 characters each) and more


class SmsChannel:
    def __init__(self, url: str | None, token: str | None = None, timeout: float = 10.0,
                 client: httpx.Client | None = None):
        self.url, self.token = url, token
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: Outgoing, confirm: Confirm) -> None:
        if not self.url:
            raise Permanent("sms gateway not configured (CLAIMFLOW_SMS_GATEWAY_URL)")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": message.address, "text": message.text[:MAX_CHARS], "idempotency_key": message.key}
        try:
            post_json(self.client, self.url, body, message.key, confirm, headers, what="sms")
        except LeaseLost:
            pass

    def close(self) -> None:
        self.client.close()
