"""What every `claimflow` command module shares: the App its settings describe, and a failure
message on standard error with an exit code."""
from __future__ import annotations

import sys

import click

from shared.settings import Settings


def open_app(settings: Settings | None = None, **kwargs):
    """The process's App from ``settings`` (default: the CLAIMFLOW_* environment)."""
    from shared.bootstrap import bootstrap
    return bootstrap(settings or Settings(), **kwargs)


def fail(message: str, code: int = 1):
    click.echo(f"claimflow: {message}", err=True)
    sys.exit(code)
