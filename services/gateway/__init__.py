"""The HTTP intake gateway: channel events, the web form and marketplace webhooks in over HTTP,
written to the inbox (or quarantine) before the caller hears "accepted"; a claim's status for
the customer who proves a contact; health, readiness and metrics for operations.

``create_app(app)`` (``services.gateway.app``) builds the FastAPI application around a
bootstrapped :class:`shared.bootstrap.App`; ``serve`` (``services.gateway.server``) runs it."""
