"""A return or claim as a marketplace's seller API reports it (``events.md``, channel
``marketplace``): dispatched on ``source`` to the module of that marketplace.

Marketplaces hide the buyer's contacts, so a marketplace claim is never quarantined for
``no_contact``: its return id (``channel_ids["marketplace_claim_id"]``, the same for every
version of the return) and its order number identify it.
"""
from __future__ import annotations

from intake_worker.channels.marketplaces import amazon, ozon, wildberries, yandex_market
from shared.schema import Envelope, NormalisedClaim, QuarantineReason, Rejection

MARKETPLACES = {module.SOURCE: module.normalise for module in (ozon, wildberries, yandex_market, amazon)}


def marketplace_of(source: str) -> str:
    """``Yandex-Market`` and ``yandex_market`` are one marketplace."""
    return source.strip().lower().replace("-", "_").replace(" ", "_")


def normalise(envelope: Envelope, context) -> NormalisedClaim | Rejection:
    normaliser = MARKETPLACES.get(marketplace_of(envelope.source))
    if normaliser is None:
        return Rejection(reason=QuarantineReason.BAD_PAYLOAD,
                         message=f"unknown marketplace {envelope.source[:60]!r}: this build reads returns of "
                                 f"{', '.join(MARKETPLACES)}")
    return normaliser(envelope, context)
