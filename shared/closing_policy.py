"""The ``closing:`` section of the retailer's policy file (checked with the rest of the file when
it is loaded, ``shared.policy.parse_policy``): how long a customer has to answer, how
long after closing a low score or a dispute reopens a claim, what a low score is, and how long a
closed claim stays before the archive. A policy file without the section gets these defaults."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from shared.policy import PolicyError, read_policy_document

REPLY_CHOICES = ("dispute", "answer")


@dataclass(frozen=True)
class ClosingPolicy:
    answer_days: float = 14
    reopen_days: float = 30
    low_score: int = 2
    retention_days: float = 365
    reply_without_score: str = "dispute"     # a reply with no score in it: a dispute, or a plain answer

    @property
    def answer_time(self) -> timedelta:
        return timedelta(days=self.answer_days)

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.reopen_days)

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @property
    def survey_lifetime(self) -> timedelta:
        """How long a survey link stays good: the time to answer, then the reopen window."""
        return self.answer_time + self.reopen_window


def parse_closing(doc: dict | None, source: str = "") -> ClosingPolicy:
    section = (doc or {}).get("closing") or {}
    if not isinstance(section, dict):
        raise PolicyError(f"{source}: closing must be a mapping")
    unknown = sorted(map(str, set(section) - set(ClosingPolicy.__dataclass_fields__)))
    if unknown:     # a typo would otherwise leave the default in force, silently
        raise PolicyError(f"{source}: closing: unknown setting {', '.join(unknown)} "
                          f"(known: {', '.join(ClosingPolicy.__dataclass_fields__)})")
    default = ClosingPolicy()
    try:
        found = ClosingPolicy(
            answer_days=float(section.get("answer_days", default.answer_days)),
            reopen_days=float(section.get("reopen_days", default.reopen_days)),
            low_score=int(section.get("low_score", default.low_score)),
            retention_days=float(section.get("retention_days", default.retention_days)),
            reply_without_score=str(section.get("reply_without_score", default.reply_without_score)))
    except (TypeError, ValueError) as e:
        raise PolicyError(f"{source}: closing: {e}") from None
    if min(found.answer_days, found.reopen_days, found.retention_days) < 0:
        raise PolicyError(f"{source}: closing: days may not be negative")
    if not 0 <= found.low_score <= 5:
        raise PolicyError(f"{source}: closing.low_score must be 0 (none is low) to 5")
    if found.reply_without_score not in REPLY_CHOICES:
        raise PolicyError(f"{source}: closing.reply_without_score must be one of {', '.join(REPLY_CHOICES)}")
    return found


def load_closing_policy(path: Path | None = None) -> ClosingPolicy:
    """The ``closing:`` section of the policy at ``path`` (``CLAIMFLOW_POLICY_FILE``), or the bundled one's."""
    return parse_closing(*read_policy_document(path))
