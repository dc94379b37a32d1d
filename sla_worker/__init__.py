"""SLA: deadline arithmetic, business calendars and the escalation ladder."""
