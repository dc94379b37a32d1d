"""SQLAlchemy 2 models: the inbox of raw events, claims, their events and history,
quarantine and the outbox. PostgreSQL is the source of truth; the broker is transport."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db.types import Document, Key, UTCDateTime


class Base(DeclarativeBase):
    pass


class InboxEvent(Base):
    """A channel event exactly as it arrived, written before anyone is told "accepted".

    ``status``: pending → registered | merged | quarantined | ignored (an automatic reply)."""
    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_inbox_source_event"),
        Index("ix_inbox_stage", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    claim: Mapped["Claim | None"] = relationship()


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_stage", "status", "id"),
        Index("ix_claims_email", "customer_email"),
        Index("ix_claims_phone", "customer_phone"),
        Index("ix_claims_order", "order_ref"),
        # the SLA sweep finds due claims through this, never by scanning open ones
        Index("ix_claims_next_sla", "next_sla_at", postgresql_where=text("next_sla_at IS NOT NULL"),
              sqlite_where=text("next_sla_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    confidence: Mapped[float | None] = mapped_column(Float)
    customer_name: Mapped[str | None] = mapped_column(Text)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    order_ref: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(Text)
    purchase_date: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    desired_resolution: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    details: Mapped[dict] = mapped_column(Document, default=dict)   # attachments, channel ids, evidence
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # --- SLA facts (sla_worker): deadlines are recomputed from these, never pushed forward -------
    sla_pauses: Mapped[list] = mapped_column(Document, default=list)   # [[paused_at, resumed_at|null], …] ISO
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # acknowledged
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)          # decided or rejected
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_sla_at: Mapped[datetime | None] = mapped_column(UTCDateTime)         # when a warning or level next fires

    events: Mapped[list["ClaimEvent"]] = relationship(back_populates="claim", order_by="ClaimEvent.id")


class ClaimEvent(Base):
    """Which inbox event belongs to which claim. Unique on the event: no event is in two claims."""
    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox_events.id"), unique=True)
    source: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))            # primary | merged
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)           # what this event said: dedupe compares it
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    claim: Mapped[Claim] = relationship(back_populates="events")


class ClaimKey(Base):
    """What a claim is found by when the next event arrives: a marketplace claim id, an e-mail
    Message-ID, a customer (``email:…``, ``phone:+…``). Looked up through (kind, value)."""
    __tablename__ = "claim_keys"
    __table_args__ = (
        UniqueConstraint("claim_id", "kind", "value", name="uq_claim_keys"),
        Index("ix_claim_keys_lookup", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(300))


class ClaimHistory(Base):
    """Append-only: every transition with who, when and why (triggers refuse UPDATE and DELETE)."""
    __tablename__ = "claim_history"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(Document, default=dict)

    claim: Mapped[Claim] = relationship()


class QuarantinedEvent(Base):
    """An event that cannot become a claim, kept whole with a reason code and a message."""
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)   # sha256 of the body
    source: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(40), index=True)
    message: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id"), unique=True)
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message caused by a state change, written in the same transaction; a relay
    publishes it after commit and stamps ``published_at``."""
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL"),
              sqlite_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(40))         # "department"
    routing_key: Mapped[str] = mapped_column(String(100))  # the department
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    payload: Mapped[dict] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ClaimNumberCounter(Base):
    """Per-year claim number counter, used where the database has no sequences (SQLite)."""
    __tablename__ = "claim_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Key, default=0)


# --- the departments' API (services/departments) ------------------------------------------------
from decimal import Decimal  # noqa: E402  (this section's own imports)

from sqlalchemy import Boolean, Numeric  # noqa: E402

#: a department's claims, newest page by page: the departments' API lists by (department, id)
Index("ix_claims_department", Claim.department, Claim.id)


class ApiKey(Base):
    """A department's (or an administrator's) key to the departments' API. Only the SHA-256 of the
    secret is kept; ``key_prefix`` (its first 8 characters) finds it and is what lists show."""
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str | None] = mapped_column(String(64))    # None: an administrator's key
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(80))                 # a person or a system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClaimDecision(Base):
    """A department's decision on a claim: a remedy (with an amount where it applies) or a
    rejection with its reason. A reopened claim may be decided again: one row per decision."""
    __tablename__ = "claim_decisions"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    resolution: Mapped[str] = mapped_column(String(24))            # a Resolution value, or "rejected"
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClaimExecution(Base):
    """The remedy carried out, with the department's evidence (text or a JSON object)."""
    __tablename__ = "claim_executions"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("claim_decisions.id"))
    evidence: Mapped[dict] = mapped_column(Document)
    executed_by: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(64))
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- notifications (notify_worker) ---------------------------------------------------------------
class Notification(Base):
    """A notice to a customer or to staff, written in the transaction of the change that causes it
    and sent once by the notify worker. ``idempotency_key`` is deterministic (claim number, kind and
    what tells two of a kind apart), so a change written twice writes one notice; the key travels
    with the message (Message-ID, ``Idempotency-Key``) so that a receiver can drop a repeat.

    ``recipient``: ``customer`` or a staff role (``department_queue``, ``department_lead``,
    ``head_of_claims``, ``management``). A staff row is written without ``channel``/``address``
    and expanded by the worker into one child row (``parent_id``) per configured address.
    ``status``: pending → sending (leased until ``next_attempt_at``) → sent | pending (a retry) |
    dead (the dead-letter list); a staff parent row ends ``expanded``."""
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_notifications_key"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    claim_number: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(16))      # email | sms | webhook
    address: Mapped[str | None] = mapped_column(Text)            # personal data: never logged
    language: Mapped[str] = mapped_column(String(8))
    context: Mapped[dict] = mapped_column(Document, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)         # a class and code, no personal data
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- closing reports (services/closing) ----------------------------------------------------------
class ClaimReport(Base):
    """The closing report, written when the claim closes (and again when the customer's answer comes
    after): the facts gathered (``dossier``) and the HTML made of them. Rows are never changed: a
    reopened and closed-again claim, or a late answer, gets the next ``version``."""
    __tablename__ = "claim_reports"
    __table_args__ = (UniqueConstraint("claim_id", "version", name="uq_claim_reports_version"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))          # closed | answered
    produced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dossier: Mapped[dict] = mapped_column(Document)
    html: Mapped[str] = mapped_column(Text)


# --- SLA escalations (sla_worker) -----------------------------------------------------------------
class SlaEscalation(Base):
    """A warning (level 0) or an escalation level (1-3) fired for a claim's target. The unique
    constraint is what makes each fire once, whatever the number of SLA workers and restarts."""
    __tablename__ = "sla_escalations"
    __table_args__ = (UniqueConstraint("claim_id", "target", "level", name="uq_sla_escalations_once"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    target: Mapped[str] = mapped_column(String(24))        # first_response | decision | closure
    level: Mapped[int] = mapped_column(Integer)            # 0 warning, 1, 2, 3
    department: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)   # when it was due to fire
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_by: Mapped[str] = mapped_column(String(100))      # the worker (host:pid) or a sweep command


class SlaPolicyVersion(Base):
    """The deadline rules (``deadlines`` and calendars of the policy file) the open claims were timed
    under. An SLA worker that starts with different rules records them here first — the unique
    fingerprint lets one worker win — and re-times the claims the difference affects."""
    __tablename__ = "sla_policy_versions"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rules: Mapped[dict] = mapped_column(Document)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retimed: Mapped[int] = mapped_column(Integer, default=0)


# --- the dead list (every stage) ------------------------------------------------------------------
class DeadItem(Base):
    """An item a stage could not process even on its own — a claim routing or the SLA sweep failed
    on — set aside so it never blocks the items behind it. ``claimflow dead list|retry|drop``."""
    __tablename__ = "dead_items"
    __table_args__ = (UniqueConstraint("stage", "item_id", name="uq_dead_items_stage_item"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    stage: Mapped[str] = mapped_column(String(24))          # routing | sla | outbox
    item_id: Mapped[int] = mapped_column(Key)               # the claim's id (the outbox row's for outbox)
    status: Mapped[str] = mapped_column(String(12), index=True)   # dead | retried | dropped
    reason: Mapped[str] = mapped_column(Text)               # the exception's type and message, cut short
    digest: Mapped[str] = mapped_column(String(16))         # of the traceback's frames: one bug, one digest
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
