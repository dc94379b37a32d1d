"""``Authorization: Bearer <key>``: the caller's :class:`Principal`, or a JSON 401."""
from __future__ import annotations

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.departments.keys import Principal, authenticate
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from shared.bootstrap import App

bearer = HTTPBearer(auto_error=False, scheme_name="department key",
                    description="a key made by `claimflow keys create DEPARTMENT` (or `--admin`)")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="claimflow departments"'}


def principal(credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
              app: App = Depends(claimflow)) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(401, "unauthorized", "an API key is required: Authorization: Bearer <key>", headers=CHALLENGE)
    with app.sessions() as session:
        found = authenticate(session, credentials.credentials.strip())
    if found is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked", headers=CHALLENGE)
    return found
