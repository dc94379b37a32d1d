"""kombu connections to the department queues' broker, made and dropped the same way everywhere."""
from __future__ import annotations

from kombu import Connection


def department_connection(url: str, transport_options: dict | None = None) -> Connection:
    """A connection to ``url``; on Redis through claimflow's channel that caches exchange bindings."""
    transport = None
    if url.startswith(("redis://", "rediss://")):
        from shared.messaging.redis_transport import Transport as transport
    return Connection(url, transport=transport, transport_options=transport_options or {})


def release_quietly(connection: Connection | None) -> None:
    """Drop a connection that may already be broken (closing a broken one can fail; it goes anyway)."""
    if connection is None:
        return
    try:
        connection.release()
    except Exception:   # noqa: BLE001 - see the docstring
        pass
