"""Reading a request body as raw bytes, refusing it (413) as soon as it is known to be too
large: from ``Content-Length`` before reading, and from the bytes actually received."""
from __future__ import annotations

import json

from fastapi import Request

from services.gateway.errors import ApiError


def _too_large(limit: int, size: str) -> ApiError:
    return ApiError(413, "oversize", f"the body is {size} bytes; the limit is {limit}. Nothing was stored")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "bad_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise _too_large(limit, declared.strip())
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, f"more than {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes):
    """The body's JSON document, or a 400 ``not_json`` (nothing stored)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:   # UnicodeDecodeError is a ValueError
        raise ApiError(400, "not_json", f"the body is not JSON: {str(exc)[:120]}") from None


def envelope_line(event_id: str, channel: str, source: str, received_at: str, payload) -> str:
    """An envelope as one JSON text, the form the inbox keeps; 422 when the payload cannot be
    written back as JSON (nested deeper than the JSON encoder goes)."""
    try:
        return json.dumps({"event_id": event_id, "channel": channel, "source": source,
                           "received_at": received_at, "payload": payload}, ensure_ascii=False)
    except (ValueError, RecursionError):
        raise ApiError(422, "bad_payload", "the payload is nested too deeply", event_id=event_id) from None
