"""Routing: classify a registered claim, assign its department queue, set its deadlines."""
