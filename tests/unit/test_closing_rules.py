"""Tier 1: closing's pure core — survey tokens (signed, expiring, tamper-evident), what an answer or a
silence does to a claim, the archive's retention, scores read from replies, the policy section."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.closing_policy import ClosingPolicy, parse_closing
from services.closing.satisfaction import (ClaimState, Refused, answer_of, answer_steps, archive_steps,
                                           score_in_reply, silence_steps)
from services.closing.survey_token import TokenExpired, TokenRefused, issue, verify
from shared.policy import PolicyError
from shared.schema import Status as S

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
POLICY = ClosingPolicy(answer_days=14, reopen_days=30, low_score=2, retention_days=365)
SECRET = "unit-secret"


def moves(steps) -> list[tuple[str, str | None]]:
    return [(s.action, s.target.value if s.target else None) for s in steps]


# --- survey tokens ------------------------------------------------------------------------------

def test_a_token_carries_its_claim_round_and_expiry():
    token = issue(SECRET, "RK-2026-000042", 1, NOW + timedelta(days=44))
    ticket = verify(SECRET, token, NOW)
    assert (ticket.claim_number, ticket.round) == ("RK-2026-000042", 1)
    assert ticket.expires_at == NOW + timedelta(days=44)


@pytest.mark.parametrize("spoil", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),            # the signature
    lambda t: t.replace(t.split(".")[0], t.split(".")[0][:-3] + "xyz"),     # the payload
    lambda t: "", lambda t: "x" * 1000, lambda t: "not.a.token"])
def test_a_tampered_token_is_refused(spoil):
    token = issue(SECRET, "RK-2026-000042", 0, NOW + timedelta(days=1))
    with pytest.raises(TokenRefused):
        verify(SECRET, spoil(token), NOW)


def test_another_claim_number_cannot_be_signed_in():
    import base64
    import json
    token = issue(SECRET, "RK-2026-000042", 0, NOW + timedelta(days=1))
    payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"c": "RK-2026-000043", "r": 0, "e": 1999999999},
                                                 separators=(",", ":")).encode()).decode().rstrip("=")
    with pytest.raises(TokenRefused):
        verify(SECRET, f"{forged}.{signature}", NOW)


def test_another_secret_or_none_refuses_the_token():
    token = issue(SECRET, "RK-2026-000042", 0, NOW + timedelta(days=1))
    with pytest.raises(TokenRefused):
        verify("another-secret", token, NOW)
    with pytest.raises(TokenRefused, match="not configured"):
        verify("", token, NOW)


def test_a_token_expires():
    token = issue(SECRET, "RK-2026-000042", 0, NOW + timedelta(days=1))
    verify(SECRET, token, NOW + timedelta(days=1) - timedelta(seconds=1))
    with pytest.raises(TokenExpired, match="expired"):
        verify(SECRET, token, NOW + timedelta(days=1))


# --- what an answer does ------------------------------------------------------------------------

def waiting(status=S.EXECUTED, days_ago=1, evidence=True) -> ClaimState:
    return ClaimState(status, NOW - timedelta(days=days_ago), evidence)


def test_a_good_score_closes_an_executed_claim_with_the_answer():
    [step] = answer_steps(waiting(), answer_of(4, " fine "), NOW, POLICY)
    assert (step.action, step.target) == ("closed", S.CLOSED)
    assert step.data["answer"] == {"score": 4, "comment": "fine", "via": "survey"}


def test_a_low_score_closes_then_reopens_an_executed_claim():
    steps = answer_steps(waiting(), answer_of(2, "still leaks"), NOW, POLICY)
    assert moves(steps) == [("closed", "closed"), ("reopened", "reopened")]


def test_a_low_score_reopens_a_rejected_claim_directly():
    assert moves(answer_steps(waiting(S.REJECTED), answer_of(1, None), NOW, POLICY)) == [("reopened", "reopened")]


def test_a_good_score_closes_a_rejection_without_evidence():
    assert moves(answer_steps(waiting(S.REJECTED, evidence=False), answer_of(3, None), NOW, POLICY)) == [
        ("closed", "closed")]


def test_an_executed_claim_without_evidence_cannot_close():
    with pytest.raises(Refused) as refused:
        answer_steps(waiting(evidence=False), answer_of(5, None), NOW, POLICY)
    assert refused.value.code == "no_evidence"
    with pytest.raises(Refused):
        silence_steps(waiting(evidence=False, days_ago=20), NOW, POLICY)


@pytest.mark.parametrize("status, code", [(S.ARCHIVED, "archived"), (S.IN_PROGRESS, "not_awaiting"),
                                          (S.REOPENED, "not_awaiting")])
def test_claims_not_waiting_for_an_answer_refuse_it(status, code):
    with pytest.raises(Refused) as refused:
        answer_steps(waiting(status), answer_of(5, None), NOW, POLICY)
    assert refused.value.code == code


def test_a_closed_claim_reopens_on_a_low_score_or_dispute_within_the_window_only():
    closed = ClaimState(S.CLOSED, NOW - timedelta(days=29))
    assert moves(answer_steps(closed, answer_of(2, None), NOW, POLICY)) == [("reopened", "reopened")]
    assert moves(answer_steps(closed, answer_of(5, None, dispute=True), NOW, POLICY)) == [("reopened", "reopened")]
    assert moves(answer_steps(closed, answer_of(4, None), NOW, POLICY)) == [("survey_answered", None)]
    late = answer_steps(ClaimState(S.CLOSED, NOW - timedelta(days=31)), answer_of(1, None), NOW, POLICY)
    assert moves(late) == [("survey_answered", None)] and late[0].data["late"] is True


def test_the_low_score_threshold_is_the_policys():
    lenient = ClosingPolicy(low_score=1)
    assert moves(answer_steps(waiting(), answer_of(2, None), NOW, lenient)) == [("closed", "closed")]
    strict = ClosingPolicy(low_score=3)
    assert moves(answer_steps(waiting(), answer_of(3, None), NOW, strict))[-1] == ("reopened", "reopened")


def test_scores_outside_one_to_five_are_refused():
    for score in (0, 6, -1):
        with pytest.raises(ValueError):
            answer_of(score, None)


# --- silence and the archive --------------------------------------------------------------------

def test_silence_closes_after_the_answer_time_as_no_response():
    assert silence_steps(waiting(days_ago=13.9), NOW, POLICY) == []
    [step] = silence_steps(waiting(days_ago=14), NOW, POLICY)
    assert (step.action, step.target, step.data) == ("closed", S.CLOSED, {"outcome": "no_response"})
    assert "no response" in step.reason
    assert silence_steps(waiting(S.CLOSED, days_ago=100), NOW, POLICY) == []


def test_closed_claims_are_archived_after_the_retention_period():
    retention = timedelta(days=365)
    assert archive_steps(ClaimState(S.CLOSED, NOW - timedelta(days=364)), NOW, retention) == []
    [step] = archive_steps(ClaimState(S.CLOSED, NOW - timedelta(days=365)), NOW, retention)
    assert (step.action, step.target) == ("archived", S.ARCHIVED)
    assert archive_steps(ClaimState(S.EXECUTED, NOW - timedelta(days=900)), NOW, retention) == []


# --- replies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, score", [
    ("5", 5), ("4/5\nспасибо", 4), ("  3 из 5, могло быть быстрее", 3), ("Оценка: 2, чайник снова течёт", 2),
    ("Thanks! My score: 5", 5), ("> Оцените нас от 1 до 5\n1", 1), ("Всё ещё не работает", None),
    ("Заказ 12345 пришёл", None), ("", None), (None, None), ("7", None)])
def test_a_score_is_read_from_a_reply(text, score):
    assert score_in_reply(text) == score


def test_a_reply_without_a_score_is_a_dispute_unless_the_policy_says_answer():
    reply = answer_of(None, "снова сломался", via="reply", event_id="mail-7")
    closed = ClaimState(S.CLOSED, NOW - timedelta(days=1))
    assert moves(answer_steps(closed, reply, NOW, POLICY)) == [("reopened", "reopened")]
    assert moves(answer_steps(closed, reply, NOW, ClosingPolicy(reply_without_score="answer"))) == [
        ("survey_answered", None)]


# --- the policy section -------------------------------------------------------------------------

def test_the_bundled_policy_has_a_closing_section_and_a_file_without_one_gets_defaults():
    from shared.closing_policy import load_closing_policy
    assert load_closing_policy() == ClosingPolicy(14, 30, 2, 365, "dispute")
    assert parse_closing({"departments": {}}) == ClosingPolicy()


@pytest.mark.parametrize("section, words", [({"low_score": 7}, "low_score"), ({"answer_days": -1}, "negative"),
                                            ({"reply_without_score": "ignore"}, "reply_without_score"),
                                            ({"retention_days": "soon"}, "closing"), ("yes", "mapping")])
def test_a_bad_closing_section_says_what_is_wrong(section, words):
    with pytest.raises(PolicyError, match=words):
        parse_closing({"closing": section}, "policy.yaml")
