"""The wait before a notice's next try: exponential, capped, fully jittered."""
from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify_worker.backoff import ceiling, delay


def test_the_ceiling_doubles_from_the_base_up_to_the_cap():
    assert [ceiling(n, 30, 3600) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@given(attempt=st.integers(1, 10_000), base=st.floats(0.01, 1e4), cap=st.floats(0.01, 1e6),
       draw=st.floats(0, 1, exclude_max=True))
def test_a_delay_lies_between_zero_and_the_ceiling(attempt, base, cap, draw):
    wait = delay(attempt, base=base, cap=cap, draw=lambda: draw)
    assert 0 <= wait <= cap and wait <= base * 2.0 ** min(attempt - 1, 64)


def test_jitter_spreads_the_retries_of_notices_that_failed_together():
    rng = random.Random(7)
    waits = [delay(4, base=30, cap=3600, draw=rng.random) for _ in range(1000)]
    assert max(waits) <= 240 and min(waits) >= 0
    assert len({round(w) for w in waits}) > 150            # not one instant for all
    assert 100 < sum(waits) / len(waits) < 140             # uniform over [0, 240): mean near 120


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        delay(0, base=1, cap=1, draw=lambda: 0.5)
