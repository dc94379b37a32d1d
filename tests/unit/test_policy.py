"""parse_policy / load_policy: a retailer's policy file, and the errors that explain a broken one."""
from __future__ import annotations

import copy
from datetime import time

import pytest

from shared.policy import PolicyError, load_policy, parse_policy

BASE = {
    "departments": {"quality": {"title": "Quality control"}, "finance": {"title": "Finance"}},
    "categories": {
        "defect": {"department": "quality", "keywords": {"ru": ["!брак", "слома"], "en": ["broken"]}},
        "billing": {"department": "finance", "keywords": ["charged twice"]},
    },
    "fallback_category": "defect",
    "priority": {"high_keywords": {"en": ["=court"]}, "repeat_customer_is_high": True},
    "deadlines": {"first_response_business_hours": 24, "decision_days": {"refund": 10, "other": 30},
                  "closure_days": 30},
    "calendar": {"timezone": "Europe/Moscow", "working_days": ["mon", "tue", "wed", "thu", "fri"],
                 "working_hours": ["09:00", "18:00"]},
}


def doc(**changes):
    """BASE with dotted-path changes; a value of None removes the key."""
    d = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = d
        for p in parents:
            node = node[p]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return d


def test_base_document_parses():
    policy = parse_policy(doc(), "test")
    assert policy.department_of("billing") == "finance"
    assert policy.fallback_category == "defect"
    assert [k.words for k in policy.categories["defect"].keywords] == [("брак",), ("слома",), ("broken",)]
    assert policy.categories["defect"].keywords[0].weight == 3.0
    assert policy.calendar.working_days == frozenset(range(5))
    assert (policy.calendar.opens, policy.calendar.closes) == (time(9), time(18))
    assert policy.deadlines.decision_days_for("refund") == 10
    assert policy.deadlines.decision_days_for("repair") == 30      # not listed: "other"
    assert policy.deadlines.decision_days_for(None) == 30


@pytest.mark.parametrize("changes, words", [
    ({"categories__billing__department": "accounting"}, ["billing", "accounting"]),
    ({"deadlines": None}, ["deadlines"]),
    ({"departments": None}, ["departments"]),
    ({"categories": None}, ["categories"]),
    ({"deadlines__closure_days": None}, ["closure_days"]),
    ({"calendar__working_hours": ["9am", "6pm"]}, ["working_hours", "9am"]),
    ({"calendar__working_hours": ["18:00", "09:00"]}, ["working_hours", "open before"]),
    ({"calendar__working_hours": ["09:00", "09:00"]}, ["working_hours"]),
    ({"deadlines__decision_days": {"refund": 10}}, ["decision_days", "other"]),
    ({"calendar__working_days": ["mon", "monday", "fri"]}, ["working_days", "monday"]),
    ({"calendar__working_days": ["Mon"]}, ["working_days", "Mon"]),
    ({"fallback_category": "misc"}, ["fallback_category", "misc"]),
    ({"categories__defect__keywords": ["  "]}, ["defect", "keyword"]),
    ({"priority__high_keywords": ["!"]}, ["high_keywords"]),
    # closing: and notifications: are checked with the whole file, at load, not at the first housekeeping
    ({"closing": {"answer_dayz": 7}}, ["closing", "answer_dayz", "answer_days"]),
    ({"closing": {"answer_days": "two weeks"}}, ["closing", "two weeks"]),
    ({"closing": {"low_score": 9}}, ["closing.low_score"]),
    ({"notifications": {"staff_langauge": "en"}}, ["notifications", "staff_langauge"]),
    ({"notifications": {"departments": {"repairs": {"lead": {"email": ["x@example.com"]}}}}},
     ["notifications.departments.repairs"]),
])
def test_broken_policy_is_a_policy_error_that_says_where(changes, words):
    with pytest.raises(PolicyError) as err:
        parse_policy(doc(**changes), "retailer.yaml")
    message = str(err.value)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("bad", [None, [], "departments: x", 42])
def test_policy_must_be_a_mapping(bad):
    with pytest.raises(PolicyError, match="mapping"):
        parse_policy(bad, "retailer.yaml")


YAML = """\
departments:
  kitchen: {title: "Kitchen"}
  front_desk: {}
categories:
  cold_food:
    department: kitchen
    keywords: {en: [cold, "!frozen"], ru: ["холодн"]}
  other:
    department: front_desk
fallback_category: other
deadlines:
  first_response_business_hours: 4
  decision_days: {refund: 5, other: 14}
  closure_days: 21
calendar:
  timezone: Asia/Yekaterinburg
  working_days: [mon, tue, wed, thu, fri, sat]
  working_hours: ["10:00", "20:30"]
"""


def test_load_policy_reads_a_yaml_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(YAML, encoding="utf-8")
    policy = load_policy(path)
    assert policy.departments == {"kitchen": "Kitchen", "front_desk": "front_desk"}
    assert policy.department_of("cold_food") == "kitchen"
    assert policy.fallback_category == "other"
    assert policy.deadlines.first_response_business_hours == 4.0
    assert policy.deadlines.decision_days_for("refund") == 5
    assert policy.deadlines.decision_days_for("replacement") == 14
    assert policy.deadlines.closure_days == 21
    assert policy.calendar.timezone == "Asia/Yekaterinburg"
    assert policy.calendar.working_days == frozenset(range(6))
    assert (policy.calendar.opens, policy.calendar.closes) == (time(10), time(20, 30))
    assert policy.source == str(path)
    assert policy.high_priority_keywords == () and policy.repeat_customer_is_high is True


def test_load_policy_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_bundled_policy_matches_the_contract_defaults():
    policy = load_policy()
    assert {c: policy.department_of(c) for c in policy.categories} == {
        "defect": "quality", "not_as_described": "sales", "damaged_in_transit": "logistics",
        "delivery_delay": "logistics", "wrong_item": "warehouse", "billing": "finance",
        "service": "customer_service", "warranty_repair": "service_center"}
    days = policy.deadlines.decision_days_for
    assert (days("refund"), days("discount"), days("replacement"), days("repair"), days(None)) == (10, 10, 7, 45, 30)
    assert policy.deadlines.first_response_business_hours == 24
    assert policy.deadlines.closure_days == 30


def test_unquoted_yaml_working_hours_are_not_silently_misread(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(YAML.replace('["10:00", "20:30"]', "[09:00, 17:30]"), encoding="utf-8")
    try:
        policy = load_policy(path)
    except PolicyError:
        return                                   # refusing it is fine too
    assert policy.calendar.closes == time(17, 30)


@pytest.mark.parametrize("changes", [{"calendar__timezone": "Europe/Moskva"}, {"calendar__working_days": []}])
def test_unusable_calendar_is_refused_at_load(changes):
    with pytest.raises(PolicyError):
        parse_policy(doc(**changes), "retailer.yaml")


def test_a_reason_code_mapped_to_an_unknown_category_is_refused():
    import yaml
    from shared.policy import PolicyError, parse_policy
    from importlib import resources
    doc = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
    doc["reason_codes"]["amazon"]["DEFECTIVE"] = "broken_stuff"
    with pytest.raises(PolicyError, match="broken_stuff"):
        parse_policy(doc, "retailer.yaml")


def test_a_triage_department_that_is_not_a_department_is_refused():
    import yaml
    from importlib import resources
    from shared.policy import PolicyError, parse_policy
    doc = yaml.safe_load(resources.files("shared").joinpath("data/policy.yaml").read_text(encoding="utf-8"))
    doc["triage_department"] = "nobody"
    with pytest.raises(PolicyError, match="triage_department"):
        parse_policy(doc, "retailer.yaml")
