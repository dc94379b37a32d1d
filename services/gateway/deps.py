"""The bootstrapped claimflow App, as a FastAPI dependency."""
from __future__ import annotations

from fastapi import Request

from shared.bootstrap import App


def claimflow(request: Request) -> App:
    return request.app.state.claimflow
