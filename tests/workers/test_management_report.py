"""The management report on the embedded default and a frozen clock: eight claims moved through the
departments' API (acknowledged, rerouted, decided, executed, answered, closed unanswered, one left
alone, one acknowledged late), then the figures a manager reads — the rerouted claim's time split
between its two departments, a late first response counted as missed, p50/p90 of the time to
decision and to closure, satisfaction, a product named by one claim and its SKU by another, a
repeat customer counted once and nowhere named — in HTML (with its plots), CSV and Markdown, through
the CLI, and drawn by headless Chromium."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.closing.closing import closing_sweep, record_survey_answer
from services.departments import transitions as t
from services.management_report.command import build_report
from services.management_report.facts import product_name, verdicts
from services.management_report.figures import report_figures
from services.management_report.gather import gather
from services.management_report.period import BadPeriod, period_of
from services.replay import ReplayReport, accept
from services.stages import intake_step, routing_step
from services.departments.service import change_claim
from shared.db.models import Claim
from sla_worker.worker import sweep_once
from tests.helpers import routed_claims_app
from tests.workers.test_closing_flow import EVIDENCE, OPERATOR, closing_settings, token_of
from tests.workers.test_closing_report import chromium

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)      # Monday, 12:00 in Moscow
H = timedelta(hours=1)
REPEAT_EMAIL = "twice@example.ru"
PHONES = ("+7 912 555-01-01", "+7 912 555-02-02")


def two_claims_of_one_customer() -> list[str]:
    """A kettle named in the text with its SKU, and another claim with only that SKU; one e-mail."""
    texts = ("Чайник протекает снизу после недели использования, явный брак.\nТовар: Чайник Polaris PWK 1725.",
             "С карты списали деньги дважды за один заказ, верните лишнее.")
    return [json.dumps({"event_id": f"repeat-{i}", "channel": "web", "source": "site",
                        "received_at": (T0 + timedelta(minutes=1 + i)).isoformat(),
                        "payload": {"name": "Повторный Покупатель", "email": REPEAT_EMAIL, "phone": PHONES[i],
                                    "order_number": f"ORD-77000{i}", "sku": "KET-1725", "subject": text[:30],
                                    "description": text, "locale": "ru"}}, ensure_ascii=False)
            for i, text in enumerate(texts)]


@pytest.fixture
def world(embedded_settings):
    """Claims 1–6 of the synthetic set (2 goes from finance to logistics) and 7–8 of one customer."""
    app = routed_claims_app(closing_settings(embedded_settings), T0)
    accept(app, two_claims_of_one_customer(), ReplayReport())
    while intake_step(app) + routing_step(app):
        pass
    with app.sessions() as s:
        claims = {c.id: c for c in s.scalars(select(Claim).order_by(Claim.id))}
    assert len(claims) == 8 and claims[2].department == "finance"
    num, received = {i: c.claim_number for i, c in claims.items()}, {i: c.received_at for i, c in claims.items()}

    def at(moment, number, make):
        app.clock.at = moment
        change_claim(app, OPERATOR, num[number], make)

    for i in (1, 3, 4):
        at(T0 + H, i, lambda c: t.acknowledge(c.status))
    at(T0 + 5 * H, 2, lambda c: t.reroute(c, "logistics", "a courier's fault, not a billing one", app.policy))
    at(T0 + 6 * H, 2, lambda c: t.acknowledge(c.status))
    at(received[1] + 12 * H, 1, lambda c: t.decide(c.status, t.decision_of("refund", Decimal("2490"), "RUB", "ok")))
    at(received[1] + 13 * H, 1, lambda c: t.execute(c.status, EVIDENCE, "refunded"))
    app.clock.at = received[1] + 14 * H
    record_survey_answer(app, token_of(app, num[1]), 5, "спасибо", app.clock.now())
    at(received[2] + 24 * H, 2, lambda c: t.decide(c.status, t.decision_of("repair", None, None, "to repair")))
    at(received[3] + 36 * H, 3, lambda c: t.decide(c.status, t.decision_of("rejected", None, None, "no warranty")))
    app.clock.at = received[3] + 40 * H
    record_survey_answer(app, token_of(app, num[3]), 4, None, app.clock.now())
    at(received[4] + 48 * H, 4, lambda c: t.decide(c.status, t.decision_of("rejected", None, None, "misuse")))
    at(claims[5].first_response_due + 2 * H, 5, lambda c: t.acknowledge(c.status))     # two hours late
    app.clock.at = received[4] + 48 * H + timedelta(days=14)
    closing_sweep(app)                                                       # 4: closed, no response
    app.clock.at = T0 + timedelta(days=20)
    sweep_once(app)                                                          # escalations of 5–8
    yield {"app": app, "numbers": num, "received": received}
    app.close()


def figures_of(app):
    period = period_of("2026-11-01", "2026-11-30", app.policy.calendar.timezone)
    claims = gather(app, period)
    return claims, report_figures(claims, app.policy, period, app.clock.now())


def rows(report, name) -> dict:
    table = report.tables[name]
    width = len(table.keys)
    return {row[:width] if width > 1 else row[0]: row[width:] for row in table.rows}


def test_a_rerouted_claims_time_is_split_between_its_two_departments(world):
    app, received = world["app"], world["received"]
    claims, report = figures_of(app)
    rerouted = next(c for c in claims if c.id == 2)
    decision = next(v for v in verdicts(rerouted, app.policy, app.clock.now()) if v.target == "decision")
    # decision counts calendar time: finance from routing to the reroute, logistics from then to the decision
    assert decision.verdict == "met" and decision.department == "logistics"
    assert decision.held == {"finance": 5 * H, "logistics": received[2] + 24 * H - (T0 + 5 * H)}
    held = rows(report, "attributed_time")
    assert held[("decision", "logistics")] == (1, 19.0, 19.0)       # the only claim logistics ever held
    assert held[("decision", "finance")][0] == 6                    # 1, 2, 3, 5, 6 and the customer's refund


def test_a_late_first_response_is_missed_and_an_untouched_claim_overdue(world):
    _, report = figures_of(world["app"])
    compliance = rows(report, "compliance")
    columns = report.tables["compliance"].measures
    first = dict(zip(columns, compliance[("first_response", "all")]))
    assert (first["met"], first["missed"], first["open_overdue"], first["open"]) == (4, 1, 3, 0)
    assert dict(zip(columns, compliance[("first_response", "finance")]))["missed"] == 1
    assert dict(zip(columns, compliance[("first_response", "logistics")]))["met"] == 1   # acknowledged there
    decision = dict(zip(columns, compliance[("decision", "all")]))
    assert (decision["met"], decision["open_overdue"]) == (4, 2)                        # 5 and 6 never decided
    assert rows(report, "escalations")[("decision", "level 1")] == (2,)


def test_time_to_decision_and_closure_percentiles(world):
    _, report = figures_of(world["app"])
    durations = rows(report, "durations")
    # decided 12, 24, 36 and 48 hours after receipt: p50 halfway between 24 and 36, p90 at 36 + 0.7 × 12
    assert durations[("time_to_decision", "all")] == (4, 30.0, 44.4, 30.0)
    # closed 14 h (answered), 40 h (answered) and 48 h + 14 days (no response) after receipt
    assert durations[("time_to_closure", "all")] == (3, 40.0, 315.2, 146.0)
    summary = dict(report.summary)
    assert (summary["decided"], summary["closed"], summary["p50 hours to decision"]) == (4, 3, 30.0)


def test_satisfaction_products_and_a_repeat_customer_counted_once(world):
    _, report = figures_of(world["app"])
    satisfaction = rows(report, "satisfaction")
    assert (satisfaction["5"][0], satisfaction["4"][0], satisfaction["no response"][0]) == (1, 1, 1)
    assert dict(report.summary)["mean satisfaction (1–5)"] == 4.5
    products = rows(report, "top_products")
    assert products["Чайник Polaris PWK 1725"][:2] == (2, "KET-1725")     # the second claim only had the SKU
    assert rows(report, "repeat_customers") == {"2": (1, 2)}
    assert dict(report.summary)["repeat customers"] == 1


def test_product_names_follow_a_label_at_the_start_of_a_sentence():
    assert product_name("Брак. Товар: Смартфон Samsung Galaxy A55 8/256 ГБ.") == "Смартфон Samsung Galaxy A55 8/256 ГБ"
    assert product_name("Delivered damaged. Item: LG 55UR78006LK 55\" 4K TV.") == "LG 55UR78006LK 55\" 4K TV"
    assert product_name("comment\nТовар: Кроссовки Adidas Runfalcon 3.0") == "Кроссовки Adidas Runfalcon 3.0"
    assert product_name("Faulty item: the zip keeps splitting open.") is None
    assert product_name("Товар не вскрывал, упаковка целая.") is None


def test_the_three_formats_show_the_figures_and_no_personal_data(world):
    app = world["app"]
    html = build_report(app, "2026-11-01", "2026-11-30", "html")
    assert html.count('src="data:image/png;base64,') == 7       # every plot has something to show here
    for title in ("Deadline compliance", "Time attributed to each department", "Top recurring causes",
                  "Repeat customers", "Чайник Polaris PWK 1725"):
        assert title in html
    table = list(csv.DictReader(io.StringIO(build_report(app, "2026-11-01", "2026-11-30", "csv"))))
    assert {"section", "key", "subkey", "measure", "value"} == set(table[0])
    assert {"section": "compliance", "key": "first_response", "subkey": "finance", "measure": "missed",
            "value": "1"} in table
    assert {"section": "durations", "key": "time_to_decision", "subkey": "all", "measure": "p90_hours",
            "value": "44.4"} in table
    md = build_report(app, "2026-11-01", "2026-11-30", "md")
    assert "## Deadline compliance" in md and "| first_response | finance | 2 | 1 |" in md
    for document in (html, md, "\n".join(json.dumps(r, ensure_ascii=False) for r in table)):
        assert REPEAT_EMAIL not in document and "customer41-" not in document
        assert not any(p in document or p.replace(" ", "").replace("-", "") in document for p in PHONES)
    with pytest.raises(BadPeriod):
        period_of("2026-11-30", "2026-11-01")


def test_the_cli_writes_the_report_and_refuses_a_bad_period(world, tmp_path, monkeypatch):
    from services.cli import main
    app = world["app"]
    monkeypatch.setenv("CLAIMFLOW_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("CLAIMFLOW_BLOB_DIR", str(app.settings.blob_dir))
    out = tmp_path / "report.md"
    done = CliRunner().invoke(main, ["report", "--from", "2026-11-01", "--to", "2026-11-30T23:59:59",
                                     "--format", "md", "--out", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Claims management report") and "- **claims**: 8" in text
    assert "reading claims" in done.stderr                          # the progress bar, on standard error
    refused = CliRunner().invoke(main, ["report", "--from", "yesterday", "--to", "2026-11-30"])
    assert refused.exit_code == 2 and "neither a date" in refused.stderr


def test_the_html_renders_with_its_plots_in_headless_chromium(world, tmp_path):
    from PIL import Image
    browser = chromium()
    page = tmp_path / "report.html"
    page.write_text(build_report(world["app"], "2026-11-01", "2026-11-30", "html"), encoding="utf-8")
    png = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,5000", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    image = Image.open(png).convert("RGB")
    assert image.size == (1200, 5000)
    colours = image.getcolors(maxcolors=1 << 20)
    share = {name: sum(n for n, c in colours if near(c, rgb)) / (1200 * 5000)
             for name, rgb in (("met", (0x3a, 0x9a, 0x5b)), ("overdue", (0xc8, 0x43, 0x2f)))}
    # the compliance plot's green (met) and red (overdue) bars were drawn: the images loaded and rendered
    assert share["met"] > 0.001 and share["overdue"] > 0.0005, share
    assert len(colours) > 2000, "a page of text, tables and plots, not a blank one"


def near(colour, rgb, tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, rgb))
