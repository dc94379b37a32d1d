"""When a worker's loop last came round. A thread that is alive but stuck — a sweep waiting on a
lock forever, a send that never returns — does no work while its process looks healthy; a loop
that has not come round for ``stuck_after`` seconds makes ``/healthz`` answer 503, so the liveness
probe restarts the pod (CLAIMFLOW_STUCK_AFTER_SECONDS)."""
from __future__ import annotations

import time


class Heartbeat:
    def __init__(self, stuck_after: float):
        self.stuck_after = stuck_after
        self.at = time.monotonic()

    def beat(self) -> None:
        self.at = time.monotonic()

    def fresh(self) -> bool:
        return time.monotonic() - self.at < self.stuck_after
