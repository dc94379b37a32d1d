"""POSTing a notice as JSON (webhooks, the SMS gateway) with its ``Idempotency-Key``, and what an
HTTP answer means: 2xx sent; 408, 425, 429, 5xx or no answer at all: try again; other 4xx: never."""
from __future__ import annotations

import httpx

from notify_worker.delivery import Confirm, Permanent, Transient

RETRY_STATUSES = frozenset({408, 425, 429})


def post_json(client: httpx.Client, url: str, payload: dict, key: str, confirm: Confirm,
              headers: dict | None = None, what: str = "webhook") -> None:
    try:
        answer = client.post(url, json=payload, headers={**(headers or {}), "Idempotency-Key": key})
    except httpx.HTTPError as e:       # refused, reset, timed out: the receiver drops a repeat by its key
        raise Transient(f"{what} {type(e).__name__}") from None
    if 200 <= answer.status_code < 300:
        confirm()
        return
    if answer.status_code >= 500 or answer.status_code in RETRY_STATUSES:
        raise Transient(f"{what} HTTP {answer.status_code}")
    raise Permanent(f"{what} HTTP {answer.status_code}")
