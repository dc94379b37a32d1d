"""Intake: normalise, validate, quarantine, deduplicate and register channel events."""
