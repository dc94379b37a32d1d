"""Survey links: ``{public_url}/v1/survey/{token}``, the token signed (itsdangerous, HMAC-SHA1 over
the URL-safe JSON ``{"c": claim number, "r": round, "e": expiry}``) with ``CLAIMFLOW_SURVEY_SECRET``.

The round is how many times the claim was reopened when the link was made: a link of an earlier
round does not answer for the claim as it is now. The expiry is checked against the clock the
caller passes, never the wall clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from itsdangerous import BadData, URLSafeSerializer

SALT = "claimflow.survey.v1"
PATH = "/v1/survey/"
MAX_TOKEN_LENGTH = 400      # longer is not a token of ours: refused before any check


class TokenRefused(ValueError):
    """The token is not one of ours (tampered, malformed, or signed with another secret)."""


class TokenExpired(TokenRefused):
    """A genuine token whose time is over."""


@dataclass(frozen=True)
class SurveyTicket:
    claim_number: str
    round: int
    expires_at: datetime


def _serializer(secret: str) -> URLSafeSerializer:
    if not secret:
        raise TokenRefused("survey links are not configured (CLAIMFLOW_SURVEY_SECRET is unset)")
    return URLSafeSerializer(secret, salt=SALT)


def issue(secret: str, claim_number: str, round_: int, expires_at: datetime) -> str:
    return _serializer(secret).dumps({"c": claim_number, "r": round_, "e": int(expires_at.timestamp())})


def verify(secret: str, token: str, now: datetime) -> SurveyTicket:
    """The ticket the token carries, if it is ours and not expired at ``now``."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused("not a survey link of ours")
    serializer = _serializer(secret)
    try:
        payload = serializer.loads(token)
        ticket = SurveyTicket(str(payload["c"]), int(payload["r"]),
                              datetime.fromtimestamp(int(payload["e"]), timezone.utc))
    except (BadData, KeyError, TypeError, ValueError, OverflowError, OSError):
        raise TokenRefused("not a survey link of ours") from None
    if now >= ticket.expires_at:
        raise TokenExpired(f"this survey link expired on {ticket.expires_at:%Y-%m-%d}")
    return ticket


def survey_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + PATH + token


def public_base(settings) -> str:
    """``CLAIMFLOW_PUBLIC_URL``, or the gateway's own address."""
    return settings.public_url or f"http://{settings.gateway_host}:{settings.gateway_port}"
