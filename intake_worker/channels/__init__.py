"""One pure normaliser per channel: ``(envelope, context) -> NormalisedClaim | Rejection | Ignored``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake_worker.channels import email, marketplace, phone, web
from shared.schema import Channel, Envelope, Ignored, NormalisedClaim, QuarantineReason, Rejection


@dataclass(frozen=True)
class NormaliseContext:
    default_region: str


Normaliser = Callable[[Envelope, NormaliseContext], NormalisedClaim | Rejection | Ignored]

NORMALISERS: dict[Channel, Normaliser] = {
    Channel.WEB: web.normalise,
    Channel.PHONE: phone.normalise,
    Channel.EMAIL: email.normalise,
    Channel.MARKETPLACE: marketplace.normalise,
}


def normalise(envelope: Envelope, context: NormaliseContext) -> NormalisedClaim | Rejection | Ignored:
    normaliser = NORMALISERS.get(envelope.channel)
    if normaliser is None:
        return Rejection(reason=QuarantineReason.UNSUPPORTED_CHANNEL,
                         message=f"channel {envelope.channel.value} is known but this build cannot "
                                 "normalise it yet; retry it after an upgrade")
    return normaliser(envelope, context)
