"""Tier 2: the closing report — written when the claim closes, with every section (problem, channels
and contacts, analysis with the reroute, decision, actions with evidence, deadlines met or missed,
the customer's answer, the history), fetched through the departments' API and `claimflow claims
report`, as HTML, PDF, and a PNG drawn by headless Chromium from the HTML."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.closing.closing import record_survey_answer
from services.closing.report import PdfUnavailable, render_pdf
from services.departments.keys import create_key
from services.gateway.app import create_app
from shared.db.models import Claim, ClaimReport
from tests.conftest import REQUIRE_SERVICES
from tests.workers.test_closing_flow import T0, closing_settings, first_claims, settle, token_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SECTIONS = ("The problem", "Channels and contacts", "Analysis", "Decisions", "Actions carried out", "Deadlines",
            "The customer's answer", "History")


@pytest.fixture
def app(embedded_settings):
    from tests.helpers import routed_claims_app
    app = routed_claims_app(closing_settings(embedded_settings), T0)
    yield app
    app.close()


@pytest.fixture
def closed(app) -> str:
    """A claim rerouted, decided, executed with evidence, answered 3/5 forty days on (closure missed)."""
    [number] = first_claims(app)
    with app.sessions() as s:
        department = s.scalar(select(Claim.department).where(Claim.claim_number == number))
    other = next(d for d in app.policy.departments if d != department)
    with TestClient(create_app(app)) as client:
        moved = client.post(f"/v1/department/claims/{number}/reroute", headers=create_admin(app),
                            json={"department": other, "reason": "the customer writes of a faulty part"})
        assert moved.status_code == 200, moved.text
    settle(app, number)
    app.clock.advance(days=40)
    record_survey_answer(app, token_of(app, number), 3, "Вернули деньги, но долго", app.clock.now())
    return number


def keys(app, number) -> dict:
    with app.sessions() as s:
        department = s.scalar(select(Claim.department).where(Claim.claim_number == number))
    other = next(d for d in app.policy.departments if d != department)
    made = {}
    with app.sessions.begin() as s:
        for name, dept in (("own", department), ("other", other)):
            made[name] = create_key(s, department=dept, owner=f"{name}-system", is_admin=False,
                                    departments=app.policy.departments, now=app.clock.now())[1]
    return {k: {"Authorization": f"Bearer {v}"} for k, v in made.items()}


def stored(app, number) -> list[ClaimReport]:
    with app.sessions() as s:
        return list(s.scalars(select(ClaimReport).join(Claim, Claim.id == ClaimReport.claim_id)
                              .where(Claim.claim_number == number).order_by(ClaimReport.version)))


def test_closing_writes_a_report_with_every_section(app, closed):
    [report] = stored(app, closed)
    assert (report.version, report.reason) == (1, "closed")
    html = report.html
    for section in SECTIONS:
        assert f">{section}</h2>" in html, section
    d = report.dossier
    assert d["problem"]["description"] in html
    assert d["contacts"]["email"] in html and d["channels"] == ["web"]
    assert "the customer writes of a faulty part" in html and len(d["analysis"]["reroutes"]) == 1
    assert len(d["analysis"]["departments"]) == 2
    assert "2490.00 RUB" in html and "TX-2026-0042" in html
    verdicts = {x["name"]: x["verdict"] for x in d["deadlines"]}
    assert verdicts == {"first_response": "met", "decision": "met", "closure": "missed"}
    assert 'class="badge missed"' in html and 'class="badge met"' in html
    assert d["answer"]["score"] == 3 and "Вернули деньги, но долго" in html
    assert [h["action"] for h in d["history"]][-1] == "closed"


def test_a_late_answer_writes_the_next_version(app):
    [number] = first_claims(app)
    settle(app, number)
    from services.closing.closing import closing_sweep
    token = token_of(app, number)
    app.clock.advance(days=15)
    closing_sweep(app)
    assert stored(app, number)[0].dossier["answer"]["outcome"] == "no_response"
    record_survey_answer(app, token, 5, "всё хорошо", app.clock.now())
    first, second = stored(app, number)
    assert (second.version, second.reason, second.dossier["answer"]["score"]) == (2, "answered", 5)
    assert "no response" in first.html and "5 / 5" in second.html


def test_the_departments_api_serves_the_report_by_the_same_rules(app, closed):
    headers = keys(app, closed)
    with TestClient(create_app(app)) as client:
        page = client.get(f"/v1/department/claims/{closed}/report", headers=headers["own"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.text == stored(app, closed)[-1].html
        assert client.get(f"/v1/department/claims/{closed}/report", headers=headers["other"]).status_code == 403
        assert client.get(f"/v1/department/claims/{closed}/report").status_code == 401
        missing = client.get("/v1/department/claims/RK-2026-999999/report", headers=headers["own"])
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        open_claim = first_claims(app, 2)[1]
        admin = create_admin(app)
        early = client.get(f"/v1/department/claims/{open_claim}/report", headers=admin)
        assert early.status_code == 404 and early.json()["error"] == "no_report"
        pdf = client.get(f"/v1/department/claims/{closed}/report?format=pdf", headers=headers["own"])
        if pdf.status_code == 501:
            pytest.skip(f"PDF is not installed here: {pdf.json()['message']}")
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def create_admin(app) -> dict:
    with app.sessions.begin() as s:
        secret = create_key(s, department=None, owner="admin", is_admin=True, departments=app.policy.departments,
                            now=app.clock.now())[1]
    return {"Authorization": f"Bearer {secret}"}


def test_the_cli_writes_the_report_to_a_file(app, closed, tmp_path, monkeypatch, embedded_settings):
    from services.cli import main
    monkeypatch.setenv("CLAIMFLOW_DATABASE_URL", embedded_settings.database_url)
    monkeypatch.setenv("CLAIMFLOW_BLOB_DIR", str(embedded_settings.blob_dir))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["claims", "report", closed, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == stored(app, closed)[-1].html
    printed = CliRunner().invoke(main, ["claims", "report", closed])
    assert printed.exit_code == 0 and "<h1>Closing report" in printed.stdout
    refused = CliRunner().invoke(main, ["claims", "report", first_claims(app, 2)[1]])
    assert refused.exit_code == 1 and "no closing report" in refused.stderr


def test_the_report_as_pdf(app, closed):
    try:
        pdf = render_pdf(stored(app, closed)[-1].html)
    except PdfUnavailable as exc:
        pytest.skip(str(exc))
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message}; required here (CLAIMFLOW_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    return found


def test_the_report_renders_to_png_in_headless_chromium(app, closed, tmp_path):
    browser = chromium()
    page = tmp_path / "report.html"
    page.write_text(stored(app, closed)[-1].html, encoding="utf-8")
    png = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,2400", f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 2400)
    assert len(data) > 40_000, "a page with the report's text and tables, not a blank one"
