"""One pure normaliser per channel: ``(envelope, context) -> NormalisedClaim | Rejection``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake_worker.channels import web
from shared.schema import Channel, Envelope, NormalisedClaim, QuarantineReason, Rejection


@dataclass(frozen=True)
class NormaliseContext:
    default_region: str


Normaliser = Callable[[Envelope, NormaliseContext], NormalisedClaim | Rejection]

NORMALISERS: dict[Channel, Normaliser] = {
    Channel.WEB: web.normalise,
}


def normalise(envelope: Envelope, context: NormaliseContext) -> NormalisedClaim | Rejection:
    normaliser = NORMALISERS.get(envelope.channel)
    if normaliser is None:
        return Rejection(reason=QuarantineReason.UNSUPPORTED_CHANNEL,
                         message=f"channel {envelope.channel.value} is known but this build cannot "
                                 "normalise it yet; retry it after an upgrade")
    return normaliser(envelope, context)
