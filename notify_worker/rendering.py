"""Notices as text: Jinja2 templates per language and kind (``templates/{ru,en}/<kind>.subject.j2``,
``.txt.j2``, optional ``.html.j2`` and ``.sms.j2``), a retailer's directory
(``CLAIMFLOW_TEMPLATE_DIR``) over the bundled ones. Undefined variables are errors
(StrictUndefined); HTML is autoescaped. No database, no network, no clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateNotFound, pass_context, select_autoescape)

BUNDLED = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("ru", "en")
#: variables a kind's templates may test for, present (as None) when the notice does not carry them
OPTIONAL = {"decided": ("amount", "currency", "reason"), "sla_warning": ("due",), "escalation": ("due",)}
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€"}


class RenderError(Exception):
    """A template is missing or fails on the notice: a permanent failure, and says which template."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None
    sms: str | None = None


class Templates:
    def __init__(self, override_dir: Path | None = None, timezone: str = "UTC"):
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        self.env = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUNDLED))]),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True,
                               autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                                            default_for_string=False, default=False))
        self.tz = ZoneInfo(timezone)
        self.env.filters.update(date=self._date, datetime=self._datetime, money=_money)

    def render(self, kind: str, language: str, context: dict) -> Rendered:
        language = language if language in LANGUAGES else LANGUAGES[0]
        values = {"thread": {}, "status_url": "", "department_title": None,
                  **{name: None for name in OPTIONAL.get(kind, ())}, **context, "language": language}
        subject = self._one(f"{language}/{kind}.subject.j2", values)
        text = self._one(f"{language}/{kind}.txt.j2", values)
        return Rendered(subject=" ".join(subject.split()), text=text.strip() + "\n",
                        html=self._one(f"{language}/{kind}.html.j2", values, required=False),
                        sms=_line(self._one(f"{language}/{kind}.sms.j2", values, required=False)))

    def _one(self, name: str, values: dict, *, required: bool = True) -> str | None:
        try:
            return self.env.get_template(name).render(values)
        except TemplateNotFound as e:
            if not required and e.name == name:
                return None
            raise RenderError(f"template {e.name} not found") from None
        except TemplateError as e:
            raise RenderError(f"template {name}: {type(e).__name__}: {e}") from None

    def _when(self, value) -> datetime | None:
        if value in (None, ""):
            return None
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return when.astimezone(self.tz) if when.tzinfo else when

    @pass_context
    def _date(self, context, value) -> str:
        when = self._when(value)
        if when is None:
            return ""
        return when.strftime("%-d %b %Y") if context.get("language") == "en" else when.strftime("%d.%m.%Y")

    @pass_context
    def _datetime(self, context, value) -> str:
        when = self._when(value)
        if when is None:
            return ""
        zone = when.strftime(" %Z") if when.tzinfo else ""
        date = when.strftime("%-d %b %Y") if context.get("language") == "en" else when.strftime("%d.%m.%Y")
        return f"{date} {when:%H:%M}{zone}"


def _money(amount, currency=None) -> str:
    """``1 234,50 ₽``: thin-space thousands, a comma before kopecks, the currency's sign or code."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(amount)
    whole, _, cents = f"{value:,.2f}".partition(".")
    number = whole.replace(",", "\u00a0") + ("" if cents == "00" else "," + cents)
    return f"{number}\u00a0{CURRENCY_SIGNS.get(currency or '', currency or '')}".strip()


def _line(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())
