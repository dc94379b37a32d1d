"""structlog, configured once per process: JSON when not on a terminal, readable on one.

Context (event id, claim number, stage) is bound with ``structlog.contextvars`` so that every
line a worker writes while handling a claim carries it. Personal data never goes in: the
pipeline logs claim numbers and event ids, not names, phones or e-mails."""
from __future__ import annotations

import logging
import sys

import structlog


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
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,   # a reconfigured process (tests, CLI) must not keep old streams
    )
    # Libraries that use the standard library (dramatiq, kombu) go to the same stream.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=stream,
                        format='{"level": "%(levelname)s", "logger": "%(name)s", "event": "%(message)s"}')


def get_logger(name: str):
    return structlog.get_logger(name)
