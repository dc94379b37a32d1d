"""E-mail over SMTP (smtplib), one connection kept open per worker thread.

The Message-ID is derived from the idempotency key, so a repeat of a notice carries the same id
and a receiver can drop it; an e-mail claim's answer goes into its thread (In-Reply-To and
References name the customer's message). The notice is recorded as sent together with the final
"." of DATA (``notify_worker.confirmation``): a worker killed before leaves an unfinished mail
transaction the server discards, and the notice is sent again; one killed after has done both."""
from __future__ import annotations

import hashlib
import re
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from email.utils import formatdate

from notify_worker.delivery import Confirm, Outgoing, Permanent, Transient

_LEADING_DOT = re.compile(rb"(?m)^\.")


def message_id(key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >") or "claimflow.invalid"
    return f"<notice.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build_message(message: Outgoing, sender: str) -> EmailMessage:
    mail = EmailMessage(policy=SMTP_POLICY if message.address.isascii() else SMTPUTF8_POLICY)
    mail["From"] = sender
    mail["To"] = message.address
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id(message.key, sender)
    mail["X-Claimflow-Idempotency-Key"] = message.key
    if message.claim_number:
        mail["X-Claimflow-Claim"] = message.claim_number
    parent = (message.thread or {}).get("in_reply_to")
    if parent:
        mail["In-Reply-To"] = f"<{parent}>"
        mail["References"] = f"<{parent}>"
    mail["Auto-Submitted"] = "auto-generated"       # RFC 3834: autoresponders do not answer it
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


def _failure(code: int, what: str) -> Exception:
    text = f"smtp {what} {code}"
    return Transient(text) if 400 <= code < 500 else Permanent(text)


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 30.0):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.conn is None:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                conn.ehlo_or_helo_if_needed()
                if self.starttls:
                    conn.starttls()
                    conn.ehlo()
                if self.username:
                    conn.login(self.username, self.password or "")
            except BaseException:
                conn.close()
                raise
            self.conn = conn
        return self.conn

    def send(self, message: Outgoing, confirm: Confirm) -> None:
        try:
            data = build_message(message, self.sender).as_bytes()
        except (ValueError, TypeError, UnicodeError) as e:
            raise Permanent(f"e-mail could not be built: {type(e).__name__}") from None
        try:
            self._transaction(data, message.address, confirm)
        except smtplib.SMTPResponseException as e:
            self.close()
            raise _failure(e.smtp_code, "reply") from None
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise Transient(f"smtp {type(e).__name__}") from None
        except BaseException:        # LeaseLost, the database: the server drops the unfinished DATA
            self.close()
            raise

    def _transaction(self, data: bytes, recipient: str, confirm: Confirm) -> None:
        for attempt in (1, 2):       # a kept connection the server closed meanwhile: reconnect once
            conn = self._connect()
            options = [] if recipient.isascii() else ["SMTPUTF8"]
            if options and not conn.has_extn("smtputf8"):
                raise Permanent("smtp server lacks SMTPUTF8 for a non-ASCII address")
            try:
                code, _ = conn.mail(self.sender, options)
                break
            except smtplib.SMTPServerDisconnected:
                self.close()
                if attempt == 2:
                    raise
        if code != 250:
            conn.rset()
            raise _failure(code, "MAIL")
        code, _ = conn.rcpt(recipient)
        if code not in (250, 251):
            conn.rset()
            raise _failure(code, "RCPT")
        code, _ = conn.docmd("DATA")
        if code != 354:
            raise _failure(code, "DATA")
        body = _LEADING_DOT.sub(b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body)
        confirm.prepare()            # the row marked sent, uncommitted (LeaseLost: another try has it)
        confirm.begin_commit()       # COMMIT on the wire …
        try:
            conn.send(b".\r\n")     # … and the end of data right behind it
        finally:
            confirm.end_commit()
        code, _ = conn.getreply()
        if code != 250:
            raise _failure(code, "end of data")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None
