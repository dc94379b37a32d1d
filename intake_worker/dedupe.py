"""When two events are the same claim: the five rules of ``events.md``, in order, as a pure
function over the normalised claim and the candidate claims the store found for it.

1. the same ``(source, event_id)`` — a redelivery, caught by the inbox before this runs;
2. the same marketplace claim or return id;
3. the same e-mail thread (In-Reply-To / References naming a message already on a claim);
4. the same customer (e-mail or E.164 phone) and the same order within the window;
5. without an order reference: the same customer and near-duplicate text within the text window
   (against the customer's claims that have no order either, when the event names one).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from intake_worker.text_likeness import likeness

from shared.schema import NormalisedClaim

#: kinds of dedupe key, as stored beside each claim
MARKETPLACE, MESSAGE, CUSTOMER = "marketplace", "message", "customer"
MAX_KEY_VALUE = 300


def key(kind: str, value: str) -> tuple[str, str]:
    """A dedupe key; a very long value (an odd Message-ID) stands as its hash, so the index stays small."""
    if len(value) > MAX_KEY_VALUE:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return kind, value


@dataclass(frozen=True)
class DedupeRules:
    window: timedelta = timedelta(days=14)
    text_window: timedelta = timedelta(hours=72)
    text_similarity: float = 0.6


@dataclass
class Candidate:
    """An existing claim, as much of it as the rules look at."""
    claim_id: int
    keys: set[tuple[str, str]] = field(default_factory=set)
    order_refs: set[str] = field(default_factory=set)
    seen: list[datetime] = field(default_factory=list)       # received_at of each of its events
    texts: list[str] = field(default_factory=list)

    def near(self, at: datetime, window: timedelta) -> bool:
        return any(abs(at - seen) <= window for seen in self.seen)


@dataclass(frozen=True)
class Match:
    claim_id: int
    rule: int
    why: str


def keys_of(claim: NormalisedClaim) -> set[tuple[str, str]]:
    """The keys a claim is found by, stored beside it and used to look candidates up (and, on
    PostgreSQL, to lock on): its marketplace id, its customer, its own Message-ID and those it
    answers (so a parent arriving after its reply still finds the reply's claim)."""
    keys = set(customer_keys(claim))
    if claim.channel_ids.get("marketplace_claim_id"):
        keys.add(key(MARKETPLACE, claim.channel_ids["marketplace_claim_id"]))
    return keys | message_keys(claim)


def message_keys(claim: NormalisedClaim) -> set[tuple[str, str]]:
    ids = list(claim.references)
    if claim.channel_ids.get("message_id"):
        ids.append(claim.channel_ids["message_id"])
    return {key(MESSAGE, i.strip("<>").lower()) for i in ids if i}


def customer_keys(claim: NormalisedClaim) -> list[tuple[str, str]]:
    keys = []
    if claim.customer.email:
        keys.append(key(CUSTOMER, "email:" + claim.customer.email))
    if claim.customer.phone:
        keys.append(key(CUSTOMER, "phone:" + claim.customer.phone))
    return keys


def match(claim: NormalisedClaim, candidates: list[Candidate], rules: DedupeRules) -> Match | None:
    """The claim this event belongs to, by the first rule that holds, or None for a new claim."""
    at = claim.received_at
    market_id = claim.channel_ids.get("marketplace_claim_id")
    if market_id:
        for c in candidates:
            if key(MARKETPLACE, market_id) in c.keys:
                return Match(c.claim_id, 2, "same marketplace claim")
    thread = message_keys(claim)
    for c in candidates:
        if thread & c.keys:
            return Match(c.claim_id, 3, "same e-mail thread")
    customers = set(customer_keys(claim))
    same_customer = [c for c in candidates if customers & c.keys]
    if claim.order_ref:
        for c in same_customer:
            if claim.order_ref in c.order_refs and c.near(at, rules.window):
                return Match(c.claim_id, 4, "same customer and order")
        same_customer = [c for c in same_customer if not c.order_refs]   # another order: another problem
    best = None
    for c in same_customer:
        if not c.near(at, rules.text_window):
            continue
        score = max((likeness(claim.text, t) for t in c.texts), default=0.0)
        if score >= rules.text_similarity and (best is None or score > best[0]):
            best = (score, c)
    if best:
        return Match(best[1].claim_id, 5, f"same customer, alike text ({best[0]:.2f})")
    return None


def absorb(candidate: Candidate, claim: NormalisedClaim) -> None:
    """After a merge: what the claim is found by from now on."""
    candidate.keys |= keys_of(claim)
    if claim.order_ref:
        candidate.order_refs.add(claim.order_ref)
    candidate.seen.append(claim.received_at)
    candidate.texts.append(claim.text)
