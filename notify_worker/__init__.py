"""Notifications to customers and staff (a later release)."""
