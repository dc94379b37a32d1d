"""Test helpers shared by the worker and integration tiers."""
from __future__ import annotations

import json
from importlib import resources

from kombu import Connection, Queue

from shared.schema import NormalisedClaim, QuarantineReason, Rejection


def department_schema() -> dict:
    return json.loads(resources.files("shared").joinpath("messaging/schemas/department-claim.v1.json")
                      .read_text(encoding="utf-8"))


def drain_with_kombu(url: str, queue_names: list[str], idle: float = 1.0) -> list[dict]:
    """Every message waiting in the queues, read with plain kombu (knowing only the names)."""
    bodies = []
    with Connection(url) as conn:
        for name in queue_names:
            with conn.SimpleQueue(Queue(name, durable=True, no_declare=True)) as queue:
                while True:
                    try:
                        message = queue.get(timeout=idle)
                    except queue.Empty:
                        break
                    payload = message.payload
                    bodies.append(payload if isinstance(payload, dict) else json.loads(payload))
                    message.ack()
    return bodies


def validate_all(bodies: list[dict]) -> None:
    import jsonschema
    schema = department_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for body in bodies:
        validator.validate(body)


def claim_of(result) -> NormalisedClaim:
    """The normaliser's claim; fails the test, showing the result, if it refused."""
    assert isinstance(result, NormalisedClaim), result
    return result


def rejected(result, reason: QuarantineReason) -> Rejection:
    """The normaliser's refusal, checked to carry ``reason``."""
    assert isinstance(result, Rejection), result
    assert result.reason is reason, result
    return result
