"""Intake sets aside an event that fails for any reason, not only a database error: the blob store
refusing one e-mail's attachment quarantines that e-mail, and the events behind it are registered."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from email.message import EmailMessage

from sqlalchemy import func, select

from services.replay import ReplayReport, accept
from services.stages import declare_actors, intake_step
from services.synthetic import web_events
from shared.bootstrap import bootstrap
from shared.clock import FrozenClock
from shared.db.models import Claim, QuarantinedEvent

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=timezone.utc)
PHOTO = b"\x89PNG\r\n\x1a\n" + b"a crushed box" * 40


def mail_with_attachment() -> str:
    message = EmailMessage()
    message["From"], message["To"] = "anna@example.ru", "claims@shop.test"
    message["Subject"], message["Message-ID"] = "Разбитый чайник", "<isolation-1@example.ru>"
    message["Date"] = "Tue, 03 Nov 2026 10:00:00 +0300"
    message.set_content("Здравствуйте, чайник пришёл разбитым, фото во вложении. Заказ 4815162.")
    message.add_attachment(PHOTO, maintype="image", subtype="png", filename="box.png")
    return json.dumps({"event_id": "imap-isolation-1", "channel": "email", "source": "mailbox",
                       "received_at": "2026-11-03T10:00:00+03:00",
                       "payload": {"raw_base64": base64.b64encode(message.as_bytes()).decode("ascii")}})


def test_an_event_the_blob_store_refuses_is_quarantined_and_the_rest_registered(embedded_settings, tmp_path):
    app = bootstrap(embedded_settings, clock=FrozenClock(T0), configure_logs=False)
    declare_actors(app)
    try:
        shard = embedded_settings.blob_dir / hashlib.sha256(PHOTO).hexdigest()[:2]
        shard.parent.mkdir(parents=True, exist_ok=True)
        shard.write_text("not a directory")           # the store cannot file this one attachment
        lines = web_events(30, seed=91)
        accept(app, lines[:12] + [mail_with_attachment()] + lines[12:], ReplayReport())
        while intake_step(app):
            pass
        with app.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Claim)) == 30
            [held] = s.scalars(select(QuarantinedEvent)).all()
        assert (held.event_id, held.reason) == ("imap-isolation-1", "processing_error")
        assert "FileExistsError" in held.message or "NotADirectoryError" in held.message
    finally:
        app.close()
