"""API keys of the departments' API: ``cfk_`` and 43 URL-safe characters (256 random bits), shown
once when made. The database keeps the SHA-256 of the key (a slow hash buys nothing against a
256-bit secret) and its first 8 characters, by which a presented key is found and compared in
constant time."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import ApiKey

SECRET_PREFIX = "cfk_"
PREFIX_LENGTH = 8
MAX_KEY_LENGTH = 200     # longer is not a key of ours: refused before any look-up
MAX_OWNER_LENGTH = 80


class KeyRefused(ValueError):
    """A key cannot be made or revoked as asked: says why."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's owner, its department (None for an administrator) and rights."""
    key_id: int
    owner: str
    department: str | None
    is_admin: bool

    @property
    def actor(self) -> str:
        """The history's ``actor`` for changes made with this key."""
        return f"key:{self.owner}"

    def as_data(self) -> dict:
        return {"key_id": self.key_id, "department": self.department, "admin": self.is_admin}


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(session: Session, *, department: str | None, owner: str | None, is_admin: bool,
               departments: Iterable[str], now: datetime) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists outside the caller's hands).
    A department key names one of the policy's ``departments``; an administrator's key none."""
    known = list(departments)
    if is_admin and department:
        raise KeyRefused("an administrator's key sees every department: give no DEPARTMENT with --admin")
    if not is_admin:
        if not department:
            raise KeyRefused("a department key needs its DEPARTMENT (or --admin for an administrator's key)")
        if department not in known:
            raise KeyRefused(f"{department!r} is not a department of the policy; known: {', '.join(known)}")
    owner = (owner or (department if department else "admin")).strip()
    if not owner or len(owner) > MAX_OWNER_LENGTH:
        raise KeyRefused(f"the owner must be 1 to {MAX_OWNER_LENGTH} characters")
    secret = new_secret()
    key = ApiKey(key_prefix=secret[:PREFIX_LENGTH], key_hash=digest(secret), department=department or None,
                 is_admin=is_admin, owner=owner, created_at=now, revoked_at=None)
    session.add(key)
    session.flush()
    return key, secret


def revoke_key(session: Session, key_id: int, now: datetime) -> ApiKey:
    """Revoke a key (a key revoked before keeps its first revocation time)."""
    key = session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise KeyRefused(f"there is no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = now
    return key


def describe(key: ApiKey) -> dict:
    """A key as lists show it: never its hash or secret."""
    return {"id": key.id, "key_prefix": key.key_prefix, "department": key.department, "is_admin": key.is_admin,
            "owner": key.owner, "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}


def list_keys(session: Session) -> list[dict]:
    return [describe(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def authenticate(session: Session, secret: str) -> Principal | None:
    """The principal of a presented key, or None when it is unknown or revoked."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_KEY_LENGTH:
        return None
    presented = digest(secret)
    found = None
    for key in session.scalars(select(ApiKey).where(ApiKey.key_prefix == secret[:PREFIX_LENGTH])):
        if hmac.compare_digest(key.key_hash, presented):
            found = key
    if found is None or found.revoked_at is not None:
        return None
    return Principal(found.id, found.owner, found.department, found.is_admin)
