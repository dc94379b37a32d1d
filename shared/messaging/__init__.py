"""Broker choice, department queues (kombu) and the outbox relay."""
