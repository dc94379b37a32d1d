"""SLA clocks on a frozen clock: each target of the bundled policy across weekends, Russian public
holidays, a Saturday worked by override and the claim's pauses; overrides and extensions; the
escalation ladder; the pause ledger; time held per department."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
import yaml

from shared.policy import PolicyError, load_policy, parse_policy
from sla_worker.attribution import assignments_from_routing, time_held
from sla_worker.clocks import Escalation, Level, due_escalations, elapsed, next_moment, schedule
from sla_worker.deadlines import deadlines_for
from sla_worker.pauses import Pause, is_paused, ledger_from_status_changes, merged
from sla_worker.targets import ClaimTerms, Target, rules_for

MSK = ZoneInfo("Europe/Moscow")
POLICY = load_policy()
BUNDLED = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
FR, DEC, CLO = Target.FIRST_RESPONSE, Target.DECISION, Target.CLOSURE
W, L1, L2, L3 = Level.WARNING, Level.LEVEL_1, Level.LEVEL_2, Level.LEVEL_3


def msk(m: int, d: int, hour: int, minute: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=MSK)


RECEIVED = msk(2, 20, 17)                   # Friday before Monday 23 February, a public holiday
REFUND = ClaimTerms("refund")


def policy_with(**deadlines):
    doc = copy.deepcopy(BUNDLED)
    doc["calendars"]["service"] = {"timezone": "Europe/Moscow", "country": "RU", "working_hours": ["10:00", "20:00"],
                                   "working_days": ["mon", "tue", "wed", "thu", "fri", "sat"]}
    doc["deadlines"].update(deadlines)
    return parse_policy(doc, "retailer.yaml")


# --- first response: 24 business hours --------------------------------------------------------

def test_first_response_across_a_weekend_and_23_february():
    c = schedule(RECEIVED, REFUND, POLICY)[FR]
    # Fri 17-18 (1) · Sat, Sun, Mon 23 Feb off · Tue 9 · Wed 9 · Thu 5 -> Thursday 14:00
    assert c.due == msk(2, 26, 14)
    assert c.moments == {W: msk(2, 26, 9, 12), L1: msk(2, 26, 14), L2: msk(2, 27, 14), L3: msk(3, 1, 14)}


def test_a_closed_pause_moves_the_first_response_by_the_business_time_it_took():
    pause = [(msk(2, 24, 12), msk(2, 25, 12))]             # 9 business hours: Tue 12-18, Wed 9-12
    c = schedule(RECEIVED, REFUND, POLICY, pauses=pause)[FR]
    assert c.due == msk(2, 27, 14)
    assert c.moments == {W: msk(2, 27, 9, 12), L1: msk(2, 27, 14), L2: msk(2, 28, 14), L3: msk(3, 2, 14)}


def test_an_open_pause_stops_the_clock_and_what_it_has_not_reached_is_unknown():
    c = schedule(RECEIVED, REFUND, POLICY, pauses=[(msk(2, 26, 10), None)])[FR]
    assert c.warning == msk(2, 26, 9, 12)                  # used up before the customer was asked
    assert c.due is None and c.moments[L1] is c.moments[L2] is c.moments[L3] is None


def test_pauses_after_the_breach_delay_the_next_levels():
    c = schedule(RECEIVED, REFUND, POLICY, pauses=[Pause(msk(2, 26, 20), msk(2, 27, 6))])[FR]
    assert c.due == msk(2, 26, 14)
    assert (c.moments[L2], c.moments[L3]) == (msk(2, 28, 0), msk(3, 2, 0))    # 10 h later each


def test_first_response_across_the_new_year_holidays():
    c = schedule(msk(12, 30, 17, y=2025), REFUND, POLICY)[FR]
    assert c.due == msk(1, 14, 14)                          # 1 h on 30 Dec, then 12, 13, 14 January


def test_a_saturday_worked_by_override_counts():
    doc = copy.deepcopy(BUNDLED)
    doc["calendars"]["moscow"]["working"] = ["2026-11-21"]
    policy = parse_policy(doc, "retailer.yaml")
    friday = msk(11, 20, 17)
    assert schedule(friday, REFUND, policy)[FR].due == msk(11, 24, 14)        # Fri 1, Sat 9, Mon 9, Tue 5
    assert schedule(friday, REFUND, POLICY)[FR].due == msk(11, 25, 14)        # without it: Wednesday


# --- decision and closure: calendar days -------------------------------------------------------

def test_decision_counts_calendar_days_and_stops_while_paused():
    c = schedule(RECEIVED, REFUND, POLICY, pauses=[(msk(2, 24, 12), msk(2, 25, 12))])[DEC]
    assert c.rule.calendar is None
    assert c.due == msk(3, 3, 17)                           # 10 days and the day paused
    assert c.warning == msk(3, 1, 17)                        # 8 days and the day paused
    assert c.moments[L3] == msk(3, 6, 17)


@pytest.mark.parametrize("resolution, flags, days", [
    ("replacement", (), 7), ("replacement", ("quality_check",), 20), ("refund", ("quality_check",), 10),
    ("repair", (), 45), ("discount", (), 10), (None, (), 30),
])
def test_decision_by_resolution_with_the_quality_check_extension(resolution, flags, days):
    c = schedule(RECEIVED, ClaimTerms(resolution, flags=frozenset(flags)), POLICY)[DEC]
    assert c.due == RECEIVED + timedelta(days=days)


def test_closure_is_30_calendar_days_whatever_the_holidays():
    received = msk(12, 20, 12, y=2025)
    assert schedule(received, REFUND, POLICY)[CLO].due == msk(1, 19, 12)
    paused = schedule(received, REFUND, POLICY, pauses=[(msk(1, 5, 12), msk(1, 7, 0))])[CLO]
    assert paused.due == msk(1, 21, 0)                     # and the 36 h paused


def test_deadlines_for_keeps_routing_working_and_takes_the_claims_terms():
    due = deadlines_for(RECEIVED, "replacement", POLICY, flags=["quality_check"])
    assert (due.first_response, due.decision, due.closure) == \
        (msk(2, 26, 14), RECEIVED + timedelta(days=20), RECEIVED + timedelta(days=30))


# --- overrides by priority, channel, category, department --------------------------------------

def test_overrides_by_priority_channel_category_and_department():
    policy = policy_with(overrides=[
        {"when": {"priority": "high"}, "first_response_business_hours": 8},
        {"when": {"channel": "marketplace"}, "decision_days": {"refund": 5}},
        {"when": {"category": ["defect", "warranty_repair"], "priority": "high"},
         "first_response": {"calendar_hours": 4}},
        {"when": {"department": "service_center"}, "calendar": "service"},
    ])
    friday = msk(11, 20, 17)

    def due(target, **terms):
        return schedule(friday, ClaimTerms(**terms), policy)[target].due

    assert due(FR, priority="high", category="billing") == msk(11, 23, 16)      # 8 business hours
    assert due(FR, priority="high", category="defect") == msk(11, 20, 21)       # 4 clock hours
    assert due(FR, priority="normal") == msk(11, 25, 14)
    assert due(DEC, channel="marketplace", desired_resolution="refund") == friday + timedelta(days=5)
    assert due(DEC, channel="marketplace", desired_resolution="replacement") == friday + timedelta(days=7)
    # the service centre works Mon-Sat 10-20: Fri 3, Sat 10, Mon 10, Tue 1
    assert due(FR, department="service_center") == msk(11, 24, 11)
    assert rules_for(ClaimTerms(department="service_center"), policy)[FR].calendar.name == "service"


@pytest.mark.parametrize("override, words", [
    ({"when": {"category": "nope"}, "decision_days": 5}, ["overrides[0].when.category", "nope"]),
    ({"when": {"colour": "red"}, "decision_days": 5}, ["colour"]),
    ({"when": {"priority": "urgent"}, "decision_days": 5}, ["urgent"]),
    ({"when": {"priority": "high"}}, ["changes no target"]),
    ({"when": {"priority": "high"}, "calendar": "mars"}, ["mars"]),
    ({"when": {"priority": "high"}, "first_response": {"business_hours": 4, "calendar": "mars"}}, ["mars"]),
    ({"when": {"priority": "high"}, "decision": {"calendar_days": 4, "calendar": "service"}}, ["calendar"]),
    ({"when": {"priority": "high"}, "decison_days": 5}, ["decison_days"]),
    ({"when": {"priority": "high"}, "decision_days": "soon"}, ["soon"]),
])
def test_broken_overrides_are_refused_at_load(override, words):
    with pytest.raises(PolicyError) as err:
        policy_with(overrides=[override])
    for word in words:
        assert word in str(err.value), str(err.value)


# --- the ladder: what is due now, and the next moment ------------------------------------------

def test_what_is_due_at_each_moment():
    clocks = schedule(RECEIVED, REFUND, POLICY)
    assert due_escalations(clocks, msk(2, 26, 9)) == []
    assert due_escalations(clocks, msk(2, 26, 10)) == [Escalation(msk(2, 26, 9, 12), FR, W)]
    assert due_escalations(clocks, msk(2, 26, 10), fired=[("first_response", 0)]) == []
    assert [(e.target, e.level) for e in due_escalations(clocks, msk(3, 1, 15))] == \
        [(FR, W), (FR, L1), (FR, L2), (DEC, W), (FR, L3)]


def test_a_met_target_fires_nothing_more():
    met_in_time = schedule(RECEIVED, REFUND, POLICY, met={"first_response": msk(2, 26, 11)})
    assert [(e.target, e.level) for e in due_escalations(met_in_time, msk(3, 1, 15))] == [(DEC, W)]
    assert met_in_time[FR].level_at(msk(3, 1, 15)) == W and not met_in_time[FR].breached(msk(3, 1, 15))
    met_late = schedule(RECEIVED, REFUND, POLICY, met={FR: msk(2, 27, 15)})
    assert met_late[FR].level_at(msk(3, 5, 0)) == L2 and met_late[FR].breached(msk(3, 5, 0))


def test_next_moment_anything_fires():
    clocks = schedule(RECEIVED, REFUND, POLICY)
    assert next_moment(clocks) == msk(2, 26, 9, 12)
    assert next_moment(clocks, fired={(FR, W)}) == msk(2, 26, 14)
    assert next_moment(schedule(RECEIVED, REFUND, POLICY, met={FR: msk(2, 24, 10)})) == msk(2, 28, 17)
    everything_met = {FR: msk(2, 24, 10), DEC: msk(2, 25, 10), CLO: msk(2, 27, 10)}
    assert next_moment(schedule(RECEIVED, REFUND, POLICY, met=everything_met)) is None
    # waiting for the customer since Tuesday: nothing fires until they answer
    assert next_moment(schedule(RECEIVED, REFUND, POLICY, pauses=[(msk(2, 24, 12), None)])) is None


# --- the pause ledger ----------------------------------------------------------------------------

def test_ledger_from_status_changes():
    changes = [(msk(2, 24, 12), "awaiting_customer"), (RECEIVED, "routed"), (msk(2, 24, 10), "in_progress"),
               (msk(2, 25, 12), "in_progress"), (msk(2, 26, 12), "awaiting_customer")]
    ledger = ledger_from_status_changes(changes)
    assert ledger == (Pause(msk(2, 24, 12), msk(2, 25, 12)), Pause(msk(2, 26, 12), None))
    assert is_paused(ledger) and not is_paused(ledger[:1])


def test_ledger_is_merged_and_checked():
    a, b, c, d = msk(2, 24, 10), msk(2, 24, 12), msk(2, 24, 14), msk(2, 24, 16)
    utc = ZoneInfo("UTC")
    assert merged([(b, d), (a, c)]) == [(a.astimezone(utc), d.astimezone(utc))]
    assert merged([(c, d), (a, None)]) == [(a.astimezone(utc), None)]
    assert merged([(a, a)]) == []
    with pytest.raises(ValueError, match="before it starts"):
        merged([(b, a)])


# --- time held per department -------------------------------------------------------------------

def test_time_each_department_held_the_claim():
    friday = msk(11, 20, 17)
    routes = [(friday, "quality"), (msk(11, 23, 12), "logistics"), (msk(11, 23, 12), "logistics")]
    history = assignments_from_routing(routes)
    assert history == [("quality", friday, msk(11, 23, 12)), ("logistics", msk(11, 23, 12), None)]
    pauses = [(msk(11, 23, 15), msk(11, 23, 16))]
    rules = rules_for(REFUND, POLICY)
    now = msk(11, 24, 12)
    held = time_held(history, rules[FR], now=now, pauses=pauses)
    assert held == {"quality": timedelta(hours=4), "logistics": timedelta(hours=8)}    # business hours
    assert sum(held.values(), timedelta(0)) == elapsed(rules[FR], friday, now, pauses)
    assert time_held(history, rules[DEC], now=now, pauses=pauses) == \
        {"quality": timedelta(hours=67), "logistics": timedelta(hours=23)}              # clock hours
    back = assignments_from_routing(routes + [(now, "quality")], until=msk(11, 25, 10))
    assert time_held(back, rules[FR], now=msk(11, 26, 0), pauses=pauses) == \
        {"quality": timedelta(hours=11), "logistics": timedelta(hours=8)}
