"""Notices as a customer and staff read them: both languages, local times, amounts, links, the
e-mail thread's subject, and a retailer's own templates over the bundled ones."""
from __future__ import annotations

import pytest

from notify_worker.audience import CUSTOMER_KINDS, STAFF_KINDS
from notify_worker.rendering import RenderError, Templates

CLAIM = {"claim_number": "RK-2026-000123", "customer_name": "Анна", "department": "quality", "category": "defect",
         "priority": "high", "received_at": "2026-11-24T10:00:00+00:00",
         "first_response_due": "2026-11-25T12:00:00+00:00", "decision_due": "2026-12-01T09:00:00+00:00",
         "closure_due": "2026-12-24T10:00:00+00:00"}
BASE = {"claim": CLAIM, "status_url": "https://shop.test/claims/RK-2026-000123", "department_title": "Quality control"}
EXTRA = {"information_requested": {"question": "Пришлите фото шильдика"},
         "decided": {"resolution": "refund", "amount": "1499.90", "currency": "RUB"},
         "sla_warning": {"target": "decision", "level": "warning"},
         "escalation": {"target": "decision", "level": "2", "due": CLAIM["decision_due"]}}


@pytest.fixture(scope="module")
def templates():
    return Templates(timezone="Europe/Moscow")


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("kind", CUSTOMER_KINDS + STAFF_KINDS)
def test_every_notice_renders_in_both_languages_with_the_claim_number(templates, kind, language):
    extra = {"question": "Please send a photo"} if kind == "information_requested" and language == "en" else {}
    done = templates.render(kind, language, {**BASE, **EXTRA.get(kind, {}), **extra})
    assert "RK-2026-000123" in done.subject and "RK-2026-000123" in done.text
    assert "\n" not in done.subject and done.text.endswith("\n")
    cyrillic = sum("а" <= c <= "я" for c in done.text.lower().replace("анна", ""))
    assert (cyrillic > 20) if language == "ru" else (cyrillic == 0)
    if kind in CUSTOMER_KINDS:
        assert done.sms and "RK-2026-000123" in done.sms and len(done.sms) < 200


def test_registered_tells_number_department_dates_in_the_calendars_zone_and_where_to_check(templates):
    ru = templates.render("registered", "ru", BASE)
    assert "Здравствуйте, Анна!" in ru.text and "«Quality control»" in ru.text
    assert "25.11.2026 15:00 MSK" in ru.text           # 12:00 UTC in Moscow
    assert "01.12.2026" in ru.text and "https://shop.test/claims/RK-2026-000123" in ru.text
    en = templates.render("registered", "en", BASE)
    assert "25 Nov 2026 15:00 MSK" in en.text and "by 1 Dec 2026" in en.text


def test_a_decision_names_the_remedy_and_amount_and_a_rejection_its_reason(templates):
    refund = templates.render("decided", "ru", {**BASE, **EXTRA["decided"]})
    assert "возврат денег на сумму 1\u00a0499,90\u00a0₽" in refund.text
    rejected = templates.render("decided", "en", {**BASE, "resolution": "rejected", "reason": "The warranty ended"})
    assert "reject" in rejected.text and "The reason: The warranty ended" in rejected.text
    assert "of " not in rejected.text.split("reject")[1].split("\n")[0]


def test_closed_carries_the_survey_link_when_there_is_one(templates):
    assert "https://shop.test/s/abc" in templates.render("closed", "ru", {**BASE, "survey_url": "https://shop.test/s/abc"}).text
    assert "http" not in templates.render("closed", "en", BASE).text


def test_an_e_mail_claim_is_answered_under_its_own_subject(templates):
    done = templates.render("decided", "ru", {**BASE, **EXTRA["decided"], "thread": {"subject": "Чайник течёт"}})
    assert done.subject == "Re: Чайник течёт [RK-2026-000123]"


def test_escalation_says_level_and_target(templates):
    done = templates.render("escalation", "ru", {**BASE, **EXTRA["escalation"]})
    assert done.subject.startswith("Эскалация 2") and "«решение»" in done.subject
    assert "01.12.2026 12:00 MSK" in done.text


def test_a_retailers_template_replaces_the_bundled_one_and_html_is_escaped(tmp_path):
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "information_requested.txt.j2").write_text("Ответьте: {{ question }}\n", encoding="utf-8")
    (tmp_path / "ru" / "information_requested.html.j2").write_text("<p>{{ question }}</p>", encoding="utf-8")
    done = Templates(tmp_path, "Europe/Moscow").render("information_requested", "ru",
                                                        {**BASE, "question": "<b>фото</b> & чек"})
    assert done.text == "Ответьте: <b>фото</b> & чек\n"                 # plain text: as written
    assert done.html == "<p>&lt;b&gt;фото&lt;/b&gt; &amp; чек</p>"        # HTML: escaped
    assert done.subject == "Рекламация RK-2026-000123: нужны сведения"   # not overridden: bundled


def test_a_template_naming_an_unknown_variable_fails_loudly(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "executed.txt.j2").write_text("Hello {{ customer_nmae }}", encoding="utf-8")
    with pytest.raises(RenderError, match="customer_nmae"):
        Templates(tmp_path).render("executed", "en", BASE)


def test_an_unknown_kind_is_an_error_and_an_unknown_language_falls_back_to_russian(templates):
    with pytest.raises(RenderError, match="not found"):
        templates.render("birthday", "ru", BASE)
    assert "Рекламация" in templates.render("executed", "de", BASE).subject
