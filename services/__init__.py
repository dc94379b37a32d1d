"""Entry points: the ``claimflow`` command line, the worker runner and (later) the HTTP services."""
