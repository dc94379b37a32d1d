"""What the customer's answer — a survey score, a reply, a dispute — or their silence does to a
claim, as pure functions over the claim's state, the clock passed in.

An executed or rejected claim waits for the answer: a good score closes it with the answer; a low
score or a dispute reopens it (an executed claim is closed with the answer first: the state machine
reopens only closed or rejected claims); silence for ``answer_days`` closes it as "no response".
A closed claim still takes an answer for ``reopen_days``: a low score or a dispute reopens it, a
good one is recorded. No claim closes from executed without the remedy's evidence; an archived
claim takes nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.closing_policy import ClosingPolicy
from shared.lifecycle import transition
from shared.schema import Status

S = Status
AWAITING = frozenset({S.EXECUTED, S.REJECTED})
MAX_COMMENT = 4000


class Refused(Exception):
    """The claim cannot take this now: ``code`` says why (archived, not_awaiting, no_evidence)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Answer:
    score: int | None              # 1–5; None: a reply that gives none
    comment: str | None = None
    via: str = "survey"            # survey | reply
    dispute: bool = False          # the customer says the claim is not settled
    event_id: str | None = None    # the reply's event

    def as_data(self) -> dict:
        return {k: v for k, v in {"score": self.score, "comment": self.comment, "via": self.via,
                                  "dispute": self.dispute or None, "event_id": self.event_id}.items()
                if v is not None}


@dataclass(frozen=True)
class ClaimState:
    status: Status
    since: datetime                # when it reached this status (for a closed claim: when it closed)
    has_evidence: bool = False     # the remedy's execution evidence, since the claim was last reopened


@dataclass(frozen=True)
class Step:
    action: str                    # closed | reopened | survey_answered | archived
    target: Status | None          # None: the status stays
    reason: str
    data: dict = field(default_factory=dict)


def answer_of(score: int | None, comment: str | None, *, via: str = "survey", dispute: bool = False,
              event_id: str | None = None) -> Answer:
    if score is not None and not 1 <= score <= 5:
        raise ValueError("the score is 1 to 5")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    return Answer(score, comment, via, dispute, event_id)


def is_low(answer: Answer, policy: ClosingPolicy) -> bool:
    """A low score, a dispute, or (if the policy reads it so) a reply that gives no score."""
    if answer.dispute:
        return True
    if answer.score is None:
        return answer.via == "reply" and policy.reply_without_score == "dispute"
    return answer.score <= policy.low_score


def describe(answer: Answer) -> str:
    told = f"{answer.score}/5" if answer.score is not None else "no score"
    return f"the customer's answer ({answer.via}): {told}" + (", disputed" if answer.dispute else "")


def check_closable(state: ClaimState) -> None:
    """Only executed (with the remedy's evidence) or rejected claims close."""
    if state.status is S.ARCHIVED:
        raise Refused("archived", "the claim is archived: it is read-only")
    if state.status not in AWAITING:
        raise Refused("not_awaiting", f"a claim that is {state.status.value} does not wait for the "
                                      "customer's answer")
    if state.status is S.EXECUTED and not state.has_evidence:
        raise Refused("no_evidence", "the remedy has no execution evidence: the claim cannot close")


def _step(action: str, current: Status, target: Status, reason: str, data: dict) -> Step:
    return Step(action, transition(current, target), reason, data)


def answer_steps(state: ClaimState, answer: Answer, now: datetime, policy: ClosingPolicy) -> list[Step]:
    """The steps an answer makes, in order."""
    data = {"answer": answer.as_data()}
    low = is_low(answer, policy)
    if state.status is S.CLOSED:
        if now - state.since > policy.reopen_window:
            return [Step("survey_answered", None, describe(answer) + "; after the reopen window",
                         {**data, "late": True})]
        if low:
            return [_step("reopened", S.CLOSED, S.REOPENED, describe(answer), data)]
        return [Step("survey_answered", None, describe(answer), data)]
    check_closable(state)
    if low and state.status is S.REJECTED:
        return [_step("reopened", S.REJECTED, S.REOPENED, describe(answer), data)]
    closing = _step("closed", state.status, S.CLOSED, describe(answer), {**data, "outcome": "answered"})
    if low:
        return [closing, _step("reopened", S.CLOSED, S.REOPENED, describe(answer), data)]
    return [closing]


def silence_steps(state: ClaimState, now: datetime, policy: ClosingPolicy) -> list[Step]:
    """Closed as "no response" once the customer had ``answer_days`` and said nothing."""
    if state.status not in AWAITING or now - state.since < policy.answer_time:
        return []
    check_closable(state)
    return [_step("closed", state.status, S.CLOSED,
                  f"no response within {policy.answer_days:g} days", {"outcome": "no_response"})]


def archive_steps(state: ClaimState, now: datetime, retention: timedelta) -> list[Step]:
    """A claim closed for the retention period goes to the archive, read-only."""
    if state.status is not S.CLOSED or now - state.since < retention:
        return []
    return [_step("archived", S.CLOSED, S.ARCHIVED, f"closed for more than {retention.days} days",
                  {"read_only": True})]


_QUOTED = re.compile(r"^\s*>")
_SCORE_LINE = re.compile(r"^\s*([1-5])\s*(?:/\s*5|из\s*5|out\s+of\s+5)?\s*(?:[.!,)\-–—:]|$)", re.I)
_SCORE_WORD = re.compile(r"\b(?:оценка|оцениваю|ставлю|score|rating|rate)\W{0,3}([1-5])\b", re.I)


def score_in_reply(text: str | None) -> int | None:
    """The score a reply gives: its first own line is a digit 1–5 ("4", "5/5", "4 из 5"), or it
    says "оценка 4" / "score: 5". Quoted lines (``>``) are the survey mail itself, not the answer."""
    lines = [line for line in (text or "").splitlines() if line.strip() and not _QUOTED.match(line)]
    if lines and (found := _SCORE_LINE.match(lines[0])):
        return int(found.group(1))
    found = _SCORE_WORD.search("\n".join(lines))
    return int(found.group(1)) if found else None
