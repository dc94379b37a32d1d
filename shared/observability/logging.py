"""structlog, configured once per process: JSON when not on a terminal, readable on one.

Context (event id, claim number, correlation id, stage) is bound with ``structlog.contextvars`` so
that every line a worker writes while handling a claim carries it: wrap the work on one claim in
``with bound_claim(claim):`` (``shared.observability.correlation``). Personal data never goes out:
every format passes each event through ``mask_personal_data`` (``shared.observability.masking``),
and standard-library records through ``MaskingFilter``."""
from __future__ import annotations

import logging
import sys

import structlog

from shared.observability.correlation import bound_claim, bound_event
from shared.observability.masking import MaskingFilter, mask_personal_data

__all__ = ["bound_claim", "bound_event", "configure_logging", "get_logger"]


def configure_logging(level: str = "INFO", fmt: str = "auto", stream=None) -> None:
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.format_exc_info,
            mask_personal_data,                 # after the traceback is text, before anything is written
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,   # a reconfigured process (tests, CLI) must not keep old streams
    )
    # Libraries that use the standard library (dramatiq, kombu) go to the same stream, masked too.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=stream,
                        format='{"level": "%(levelname)s", "logger": "%(name)s", "event": "%(message)s"}')
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


def get_logger(name: str):
    return structlog.get_logger(name)
