"""``create_app(app)``: the gateway's FastAPI application around a bootstrapped claimflow App.
Nothing connects here; the App's engine and broker are used by the requests."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.departments.api import router as departments_router
from services.gateway import claims, events, forms, health, survey, webhooks
from services.gateway.correlation import CorrelationMiddleware
from services.gateway.errors import install_error_handlers
from services.gateway.models import BODY_COMPONENTS, ErrorBody
from shared.bootstrap import App

DESCRIPTION = """The HTTP intake of claimflow. Channel events, the site's claim form and marketplace
webhooks are written to the inbox (or, when unusable, to quarantine with a reason code) **before**
the answer, so a 202 means the event is kept; every 4xx and 5xx answer is JSON
`{"error": code, "message": text}`. A 503 (with `Retry-After`) means nothing was accepted."""


def create_app(app: App) -> FastAPI:
    api = FastAPI(title="claimflow gateway", version="1", description=DESCRIPTION)
    api.state.claimflow = app
    for module in (events, forms, webhooks, claims, survey, health):
        api.include_router(module.router)
    api.include_router(departments_router)
    install_error_handlers(api)
    api.add_middleware(CorrelationMiddleware)
    api.openapi = lambda: _openapi(api)
    return api


def _openapi(api: FastAPI) -> dict:
    """FastAPI's document, with the request bodies' component schemas and every 422 in the
    gateway's error shape (FastAPI's own validation errors are reshaped to it)."""
    if api.openapi_schema:
        return api.openapi_schema
    doc = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in BODY_COMPONENTS.items():
        schemas.setdefault(name, schema)
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid and "HTTPValidationError" in str(invalid):
                operation["responses"]["422"] = {
                    "description": "invalid_request: a parameter or header is invalid",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    api.openapi_schema = doc
    return doc
