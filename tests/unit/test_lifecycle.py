"""The claim state machine of policy.md."""
from __future__ import annotations

import pytest

from shared.lifecycle import OPEN, PAUSED, IllegalTransition, allowed_next, transition
from shared.schema import Status as S

HAPPY_PATH = [S.REGISTERED, S.ROUTED, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.IN_PROGRESS, S.DECIDED,
              S.EXECUTED, S.CLOSED, S.ARCHIVED]


def walk(states):
    current = states[0]
    for target in states[1:]:
        current = transition(current, target)
    return current


def test_full_happy_path_is_legal():
    assert walk(HAPPY_PATH) is S.ARCHIVED


@pytest.mark.parametrize("path", [
    [S.IN_PROGRESS, S.REJECTED, S.CLOSED],
    [S.CLOSED, S.REOPENED, S.IN_PROGRESS],
    [S.CLOSED, S.REOPENED, S.ROUTED],
    [S.ROUTED, S.ROUTED, S.IN_PROGRESS],                # a reroute
    [S.IN_PROGRESS, S.ROUTED],                          # sent back to routing
    [S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.IN_PROGRESS],
])
def test_other_legal_paths(path):
    assert walk(path) is path[-1]


@pytest.mark.parametrize("current, target, allowed", [
    (S.REGISTERED, S.IN_PROGRESS, ["routed"]),
    (S.REGISTERED, S.CLOSED, ["routed"]),
    (S.ROUTED, S.DECIDED, ["in_progress", "routed"]),
    (S.AWAITING_CUSTOMER, S.DECIDED, ["in_progress"]),
    (S.DECIDED, S.CLOSED, ["executed"]),
    (S.DECIDED, S.REJECTED, ["executed"]),
    (S.EXECUTED, S.ARCHIVED, ["closed"]),
    (S.CLOSED, S.IN_PROGRESS, ["archived", "reopened"]),
    (S.REJECTED, S.EXECUTED, ["closed", "reopened"]),
    (S.REOPENED, S.CLOSED, ["in_progress", "routed"]),
    (S.ARCHIVED, S.REOPENED, []),
])
def test_illegal_transition_says_what_is_allowed(current, target, allowed):
    with pytest.raises(IllegalTransition) as err:
        transition(current, target)
    assert err.value.allowed == allowed
    assert (err.value.current, err.value.target) == (current, target)
    message = str(err.value)
    assert current.value in message and target.value in message
    for state in allowed:
        assert state in message


@pytest.mark.parametrize("target", list(S))
def test_archived_is_terminal(target):
    assert allowed_next(S.ARCHIVED) == frozenset()
    with pytest.raises(IllegalTransition, match="none"):
        transition(S.ARCHIVED, target)


@pytest.mark.parametrize("state", [s for s in S if s not in (S.ARCHIVED, S.ROUTED)])
def test_no_state_but_routed_loops_onto_itself(state):
    with pytest.raises(IllegalTransition):
        transition(state, state)


def test_every_state_except_archived_can_move_and_archived_is_reachable_from_registered():
    assert all(allowed_next(s) for s in S if s is not S.ARCHIVED)
    seen, frontier = {S.REGISTERED}, [S.REGISTERED]
    while frontier:
        for nxt in allowed_next(frontier.pop()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)


def test_clocks_pause_only_while_awaiting_the_customer_and_closed_claims_are_not_open():
    assert PAUSED == {S.AWAITING_CUSTOMER}
    assert S.CLOSED not in OPEN and S.ARCHIVED not in OPEN
    assert {S.REGISTERED, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.REOPENED} <= OPEN
