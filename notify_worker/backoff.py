"""How long to wait before the next try of a notice: exponential backoff with full jitter
(a uniform draw between 0 and ``min(cap, base · 2^(attempt-1))``), so that many notices failing
together do not retry together. Pure: the random draw is passed in."""
from __future__ import annotations

from collections.abc import Callable


def ceiling(attempt: int, base: float, cap: float) -> float:
    """The longest wait after the ``attempt``-th failed try (1, 2, …)."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    return min(cap, base * 2.0 ** min(attempt - 1, 64))


def delay(attempt: int, *, base: float, cap: float, draw: Callable[[], float]) -> float:
    """Seconds to wait after the ``attempt``-th failed try; ``draw()`` returns a number in [0, 1)
    (``random.Random().random``)."""
    return ceiling(attempt, base, cap) * draw()
