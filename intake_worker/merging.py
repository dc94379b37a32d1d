"""Planning a batch: which events make new claims and which join a claim (stored, or made by an
earlier event of the same batch). Pure over the candidate index the store loaded."""
from __future__ import annotations

from dataclasses import dataclass, field

from intake_worker.dedupe import Candidate, DedupeRules, Match, absorb, keys_of, match
from intake_worker.dedupe_store import CandidateIndex
from shared.schema import NormalisedClaim


@dataclass
class Placement:
    row: object                    # the inbox row
    claim: NormalisedClaim
    target: int                    # a stored claim id (> 0) or this batch's new claim (< 0)
    match: Match | None = None     # None: the event made the claim
    keys: frozenset = frozenset()  # what the claim is found by, thanks to this event


@dataclass
class BatchPlan:
    placements: list[Placement] = field(default_factory=list)

    @property
    def new(self) -> list[Placement]:
        return [p for p in self.placements if p.match is None]

    @property
    def merged(self) -> list[Placement]:
        return [p for p in self.placements if p.match is not None]


def plan_batch(items: list[tuple[object, NormalisedClaim]], index: CandidateIndex,
               rules: DedupeRules) -> BatchPlan:
    """Place each event, in order: a later event of the batch sees the claims the earlier made."""
    plan = BatchPlan()
    made = 0
    for row, claim in items:
        keys = keys_of(claim)
        found = match(claim, index.for_keys(keys), rules)
        if found is None:
            made += 1
            candidate = Candidate(claim_id=-made, keys=set(keys), seen=[claim.received_at], texts=[claim.text],
                                  order_refs={claim.order_ref} if claim.order_ref else set())
            plan.placements.append(Placement(row, claim, -made, keys=frozenset(keys)))
        else:
            candidate = next(c for c in index.for_keys(keys) if c.claim_id == found.claim_id)
            absorb(candidate, claim)
            plan.placements.append(Placement(row, claim, found.claim_id, found, frozenset(keys)))
        index.add(candidate)
    return plan


def contact_additions(claim: NormalisedClaim) -> dict:
    """What a merged event may add to its claim where the claim lacks it."""
    return {k: v for k, v in {"customer_name": claim.customer.name, "customer_email": claim.customer.email,
                              "customer_phone": claim.customer.phone, "order_ref": claim.order_ref,
                              "sku": claim.sku}.items() if v}
