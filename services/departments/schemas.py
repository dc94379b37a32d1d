"""Request and answer shapes of the departments' API (pydantic: types and lengths; the rules of a
valid change are in ``transitions``)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.models import Deadlines, ErrorBody
from shared.schema import Resolution

TEXT = 4000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InformationRequest(_Body):
    question: str = Field(min_length=1, max_length=TEXT, description="what the customer is asked")


class CustomerReply(_Body):
    note: str | None = Field(None, max_length=TEXT, description="what the customer answered, in short")


class DecisionRequest(_Body):
    resolution: Resolution | Literal["rejected"] = Field(description="the remedy, or `rejected`")
    amount: Decimal | None = Field(None, description="required for refund, discount and compensation: "
                                                     "positive, at most two decimal places")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the amount")
    reason: str | None = Field(None, max_length=TEXT, description="why; required for a rejection")


class ExecutionReport(_Body):
    evidence: str | dict[str, Any] = Field(description="what shows the remedy was carried out: a text, or a "
                                                       "JSON object (transaction id, tracking number, …)")
    note: str | None = Field(None, max_length=TEXT)


class RerouteRequest(_Body):
    department: str = Field(min_length=1, max_length=64, description="a department of the policy file")
    reason: str = Field(min_length=1, max_length=TEXT, description="why the claim is not this department's")
    category: str | None = Field(None, max_length=64, description="the right category, when the department's is "
                                                                  "not clear from it (default: its only one)")


class Customer(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class ClaimSummary(BaseModel):
    claim_number: str
    status: str
    category: str | None
    department: str | None
    priority: str
    channel: str
    customer: Customer
    order_ref: str | None
    sku: str | None
    purchase_date: date | None
    subject: str | None
    description: str
    desired_resolution: str | None
    received_at: datetime
    routed_at: datetime | None
    updated_at: datetime
    deadlines: Deadlines
    escalation_level: int


class DecisionView(BaseModel):
    resolution: str
    amount: str | None
    currency: str | None
    reason: str | None
    decided_by: str
    decided_at: datetime


class ExecutionView(BaseModel):
    evidence: Any
    executed_by: str
    executed_at: datetime


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None


class ClaimDetail(ClaimSummary):
    decisions: list[DecisionView]
    executions: list[ExecutionView]
    history: list[HistoryEntry] = Field(description="every step, oldest first")


class ClaimPage(BaseModel):
    claims: list[ClaimSummary]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last one")


class IllegalTransitionBody(ErrorBody):
    error: Literal["illegal_transition"]
    status: str = Field(description="the claim's current status")
    allowed: list[str] = Field(description="the states the claim may go to next")
