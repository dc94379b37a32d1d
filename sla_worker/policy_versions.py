"""Re-timing after a policy change, automatically: each SLA worker, when it starts, compares the
deadline rules of its policy (the ``deadlines`` and calendar sections) with the last ones recorded
in ``sla_policy_versions``. If they differ, it records its own — the fingerprint is unique, so of
workers starting together one wins — and re-times only the open claims the difference affects."""
from __future__ import annotations

import hashlib
import json

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import SlaPolicyVersion
from shared.db.statements import insert_ignoring_conflicts
from shared.policy import Policy, parse_policy
from sla_worker.policy_change import retime_affected

log = structlog.get_logger("sla")
RULE_SECTIONS = ("deadlines", "calendar", "calendars")


def _plain(document: dict) -> dict:
    """The policy document as JSON can keep it (YAML dates become ISO strings)."""
    return json.loads(json.dumps(document, default=str))


def fingerprint(policy: Policy) -> str:
    rules = {k: policy.document.get(k) for k in RULE_SECTIONS}
    return hashlib.sha256(json.dumps(rules, sort_keys=True, default=str).encode()).hexdigest()


def adopt(session: Session, policy: Policy, now) -> int | None:
    """Make ``policy``'s rules the current ones; how many claims were re-timed, or None when they
    already were current (or another worker adopted them at the same moment)."""
    mine = fingerprint(policy)
    last = session.scalars(select(SlaPolicyVersion).order_by(SlaPolicyVersion.id.desc()).limit(1)).first()
    if last is not None and last.fingerprint == mine:
        return None
    inserted = session.execute(insert_ignoring_conflicts(session, SlaPolicyVersion.__table__)
                               .values(fingerprint=mine, rules=_plain(policy.document), applied_at=now, retimed=0)
                               .returning(SlaPolicyVersion.id)).scalar()
    if inserted is None:
        return None
    previous = parse_policy(last.rules, "the previous policy") if last is not None else None
    if previous is None:          # the first rules recorded: the claims were timed under them already
        return 0
    count = retime_affected(session, previous, policy, now)
    session.get(SlaPolicyVersion, inserted).retimed = count
    log.info("sla.policy_adopted", fingerprint=mine[:12], retimed=count)
    return count
