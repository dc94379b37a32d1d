"""structlog set-up and every metric, defined once."""
