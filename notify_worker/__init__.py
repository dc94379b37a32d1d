"""Notifications to customers and staff: written with the change that causes them (``enqueue``),
rendered from a retailer's templates (``rendering``), sent once by ``claimflow worker notify``
(``sending``, ``confirmation``) through SMTP, webhooks and an SMS gateway (``delivery``)."""
