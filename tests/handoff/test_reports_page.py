"""The reports page and its API, through a real handoff service over the seeded demo history.

Only supervisors and admins see figures (401 without a token, 403 for agents); the page
draws its charts as inline SVG in headless Chromium and downloads each table as CSV.
"""
import csv
import io
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.handoff.browser import DESKTOP, PHONE, browser, new_page, shoot  # noqa: F401 - fixture
from tests.handoff.report_fixtures import reports_service  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser]

API = ["/api/reports/retention", "/api/reports/queue", "/api/reports/retention/kind.csv",
       "/api/reports/retention/monthly.csv", "/api/reports/queue/histogram.csv",
       "/api/reports/queue/languages.csv", "/api/reports/queue/hours.csv"]


def client(service, username=None, password=None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {service.token(username, password)}"} if username else {}
    return httpx.Client(base_url=service.url, headers=headers, timeout=60)


def test_only_supervisors_and_admins_get_the_figures(reports_service, staff_password):
    anonymous, agent = client(reports_service), client(reports_service, "agent1", staff_password)
    supervisor = client(reports_service, "super1", staff_password)
    admin = client(reports_service, "admin1", staff_password)
    for path in API:
        response = anonymous.get(path)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer", path
        assert agent.get(path).status_code == 403, path
        assert supervisor.get(path).status_code == 200, path
    for path in API[:2]:
        assert admin.get(path).status_code == 200, path
    bad = httpx.get(reports_service.url + "/api/reports/retention",
                    headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert bad.status_code == 401
    assert anonymous.post("/api/reports/retention/followups").status_code == 401
    assert agent.post("/api/reports/retention/followups").status_code == 403
    done = supervisor.post("/api/reports/retention/followups")
    assert done.status_code == 200 and done.json() == {"activity": 0, "payment": 0}  # seed ran them
    assert supervisor.get("/api/reports/retention/nope.csv").status_code == 404
    assert supervisor.get("/api/reports/retention", params={"horizon": 45}).status_code == 422
    assert supervisor.get("/api/reports/queue", params={"goal": 1.5}).status_code == 422
    # the page itself is public (it holds no data) and as locked down as the others
    page = httpx.get(reports_service.url + "/reports", timeout=10)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]


def test_csv_tables_match_the_json(reports_service, staff_password):
    supervisor = client(reports_service, "super1", staff_password)
    report = supervisor.get("/api/reports/retention", params={"horizon": 90}).json()
    response = supervisor.get("/api/reports/retention/kind.csv", params={"horizon": 90})
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="retention-kind-90d.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["kind"] for r in rows] == [r["key"] for r in report["tables"]["kind"]]
    for row, figures in zip(rows, report["tables"]["kind"]):
        assert int(row["offers"]) == figures["offers"]
        assert float(row["retention_rate"]) == pytest.approx(figures["retention"], abs=5e-5)
        assert float(row["difference_ci_low"]) == pytest.approx(figures["difference_low"], abs=5e-5)
        assert float(row["concession_cost_eur"]) == pytest.approx(figures["cost_minor"] / 100)
    queue = supervisor.get("/api/reports/queue", params={"target_seconds": 30}).json()
    languages = list(csv.DictReader(io.StringIO(
        supervisor.get("/api/reports/queue/languages.csv", params={"target_seconds": 30}).text)))
    assert [r["language"] for r in languages] == ["all"] + [b["language"] for b in queue["languages"]]
    assert int(languages[0]["contacts"]) == queue["overall"]["contacts"]
    assert float(languages[0]["service_level"]) == pytest.approx(queue["overall"]["service_level"], abs=5e-5)
    assert languages[0]["target_seconds"] == "30"


def test_the_seeded_history_shows_real_patterns(reports_service, staff_password):
    supervisor = client(reports_service, "super1", staff_password)
    report = supervisor.get("/api/reports/retention").json()
    kinds = {r["key"]: r for r in report["tables"]["kind"]}
    assert report["overall"]["offers"] > 1500 and report["totals"]["pending"] > 0
    assert kinds["retention_discount"]["difference"] > kinds["goodwill_credit"]["difference"] > 0
    offerers = {r["key"]: r for r in report["tables"]["offerer"]}
    assert offerers["agent"]["difference"] > offerers["bot"]["difference"]
    queue = supervisor.get("/api/reports/queue").json()
    assert queue["overall"]["contacts"] > 5000
    assert {b["language"] for b in queue["languages"]} == {"en", "nl"}


def sign_in(page, username, password):
    page.goto("/reports")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#app:not([hidden])")


@pytest.mark.timeout(180)
def test_a_supervisor_reads_the_charts_and_downloads_csv(reports_service, staff_password, browser):
    supervisor = client(reports_service, "super1", staff_password)
    report = supervisor.get("/api/reports/retention").json()
    queue = supervisor.get("/api/reports/queue").json()
    page = new_page(browser, reports_service.url, **DESKTOP)
    sign_in(page, "super1", staff_password)
    page.wait_for_selector("#retention[data-state='ready']")
    page.wait_for_selector("#queue[data-state='ready']")
    expect(page.locator("#me")).to_have_text("super1 (supervisor)")
    expect(page.locator("#forbidden")).to_be_hidden()

    # retention: the headline a business person reads first, then a chart per breakdown
    overall = report["overall"]
    headline = page.locator("#retention-headline")
    expect(headline).to_contain_text(f"Of {overall['offers']:,} customers offered a concession")
    expect(headline).to_contain_text(f"{100 * overall['retention']:.1f}% were still customers after 90 days")
    for dimension in ("kind", "offerer", "reason", "band", "channel", "response"):
        chart = page.locator(f"svg[data-chart='retention-{dimension}']")
        expect(chart).to_be_visible()
        expect(chart.locator("g.row")).to_have_count(len(report["tables"][dimension]))
    kind_chart = page.locator("svg[data-chart='retention-kind']")
    for row in report["tables"]["kind"]:
        group = kind_chart.locator(f"g.row[data-key='{row['key']}']")
        expect(group.locator("rect.bar")).to_have_attribute("data-value", f"{row['retention']:.4f}")
        expect(group.locator("rect.compare-mark")).to_have_count(1)
        expect(group.locator("circle.diff-point")).to_have_count(1)
        expect(group).to_contain_text(row["label"])
    retention_bar = kind_chart.locator("g.row[data-key='retention_discount'] rect.bar")
    goodwill_bar = kind_chart.locator("g.row[data-key='goodwill_credit'] rect.bar")
    assert float(retention_bar.get_attribute("width")) > float(goodwill_bar.get_attribute("width"))
    expect(page.locator("svg[data-chart='cost-per-retained'] rect.bar")).to_have_count(
        sum(1 for r in report["tables"]["kind"] if r["cost_per_retained_minor"] is not None))
    trend = page.locator("svg[data-chart='retention-monthly']")
    expect(trend.locator("polyline.line-offer").first).to_be_visible()
    expect(trend.locator("polyline.line-compare").first).to_be_attached()
    expect(trend).to_contain_text("outcome not known yet")
    shoot(page, "reports-retention")

    # queue health: waits, service level per language, staffing
    expect(page.locator("#queue-headline")).to_contain_text(
        f"{round(100 * queue['overall']['service_level'])}% of {queue['overall']['contacts']:,} customers")
    histogram = page.locator("svg[data-chart='queue-histogram']")
    expect(histogram.locator("g.bin")).to_have_count(len(queue["overall"]["histogram"]))
    expect(histogram.locator("line.target-line")).to_have_count(1)
    expect(page.locator("svg[data-chart='queue-languages'] g.row")).to_have_count(1 + len(queue["languages"]))
    expect(page.locator("svg[data-chart='queue-handle'] g.row")).to_have_count(1 + len(queue["languages"]))
    peak = queue["overall"]["staffing"]["peak"]
    expect(page.locator(f"svg[data-chart='queue-staffing'] rect.chosen[data-agents='{peak['agents']}']")).to_be_visible()
    expect(page.locator("svg[data-chart='queue-hours'] g.hour")).to_have_count(
        sum(1 for p in queue["overall"]["staffing"]["by_hour"] if p["arrivals_per_hour"] > 0))
    page.locator("#queue").scroll_into_view_if_needed()
    shoot(page, "reports-queue")

    # CSV of a retention table and of a queue table, saved by the browser
    with page.expect_download() as download:
        page.get_by_role("button", name="Download By concession type as CSV").click()
    assert download.value.suggested_filename == "retention-kind-90d.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["kind"] for r in rows] == [r["key"] for r in report["tables"]["kind"]]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download waiting time as CSV").click()
    assert download.value.suggested_filename == "queue-histogram-28d.csv"
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("language,wait_from_seconds,wait_to_seconds,answered,abandoned")

    # adjust the target: the figures follow
    page.fill("#target", "30")
    page.get_by_role("button", name="Update", exact=True).click()
    expect(page.locator("#queue-kpis")).to_contain_text("Answered within 30 s")
    expect(page.locator("svg[data-chart='queue-histogram']")).to_contain_text("target 30 s")
    # one language only
    page.locator("select.scope-select").first.select_option("nl")
    expect(page.locator("#queue-cards")).to_contain_text("Agents needed by hour of the day (NL)")
    # the 30-day horizon
    page.select_option("#horizon", "30")
    expect(headline).to_contain_text("still customers after 30 days")
    assert page.problems == [], page.problems


def test_an_agent_sees_no_figures(reports_service, staff_password, browser):
    page = new_page(browser, reports_service.url, **DESKTOP)
    sign_in(page, "agent1", staff_password)
    expect(page.locator("#forbidden")).to_be_visible()
    expect(page.locator("#forbidden")).to_contain_text("Reports are for supervisors and admins")
    expect(page.locator("#retention")).to_be_hidden()
    expect(page.locator("#queue")).to_be_hidden()
    expect(page.locator("svg.chart")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#login-view")).to_be_visible()
    assert page.problems == [], page.problems


def test_an_admin_reads_the_reports_on_a_phone(reports_service, staff_password, browser):
    page = new_page(browser, reports_service.url, **PHONE)
    sign_in(page, "admin1", staff_password)
    page.wait_for_selector("#retention[data-state='ready']")
    page.wait_for_selector("#queue[data-state='ready']")
    expect(page.locator("svg[data-chart='retention-kind']")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways ({width}px)"
    box = page.locator("svg[data-chart='retention-kind']").bounding_box()
    assert box["width"] <= 390
    shoot(page, "reports-phone")
    # a reload keeps the session of this tab
    page.reload()
    page.wait_for_selector("#retention[data-state='ready']")
    expect(page.locator("#me")).to_have_text(re.compile("admin1"))
    assert page.problems == [], page.problems
