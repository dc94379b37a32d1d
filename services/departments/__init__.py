"""The departments' API: a department acknowledges its claims, asks the customer for information,
decides, reports the remedy carried out, or sends a claim to another department — each step checked
against the claim state machine and written to the claim's history with the key that made it.

``services.departments.api.router`` is mounted on the gateway; ``services.departments.commands.keys``
is the ``claimflow keys`` command group. This module imports nothing, so the CLI stays quick."""
