"""Admins retrain the intents, end to end, with real processes and headless Chromium.

This module runs its own bot (action server on its own seeded billing DB, Rasa with an SQLite
tracker store) and its own handoff service reading that tracker store, because activation
hot-swaps the model of the Rasa server the service talks to: the session's Rasa server,
shared by other tests, is never touched. One training is reused for every assertion.

The story: a customer says something the live model does not understand; its NLU result is
stored; an admin finds it in the review inbox, labels it (and another message with an entity
span and a new intent), sees the diff, trains, watches the progress, reads the evaluation,
activates; the bot now understands the message. Rollback restores the previous behaviour. A
training on a broken config (a test-only copy) fails visibly and changes nothing; a worse
model needs an override with a reason.
"""
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from bot.serve import free_port, start_action_server, start_rasa_server, write_endpoints
from bot.training import REPO, rasa_env
from handoff.migrate import upgrade
from tests.handoff.browser import DESKTOP, browser, new_page, shoot  # noqa: F401 - the browser fixture
from tests.handoff.conftest import start_handoff_service
from tests.handoff.page_fixtures import Customer

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(1500)]

SHARED_EVAL = REPO.parent / "shared" / "eval"
# Ways to ask for the balance that the hand-written data does not teach; the test uses the
# first one the live model gets wrong (so it keeps working while the NLU data improves).
MISUNDERSTOOD = ["how much dosh do i need to cough up", "whats the damage on my tab then",
                 "how deep in the red am i with you lot", "tally up what i owe ya",
                 "what do i still have to fork out for you lot"]
TRAINING_TIMEOUT_MS = 15 * 60_000


# -- the private stack ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory, model, twilio_fake):
    folder: Path = tmp_path_factory.mktemp("admin-stack")
    billing_url = f"sqlite:///{folder / 'billing.db'}"
    for args in (["migrate"], ["seed", "--demo"]):
        subprocess.run([sys.executable, "-m", "billing_core", "--database-url", billing_url, *args],
                       check=True, capture_output=True, env=rasa_env(), timeout=120)
    servers = []
    try:
        actions = start_action_server(database_url=billing_url, log_dir=folder / "actions")
        servers.append(actions)
        tracker = folder / "tracker.db"
        endpoints = write_endpoints(folder / "endpoints.yml", action_url=actions.url, tracker_db=tracker)
        rasa = start_rasa_server(model=model, endpoints=endpoints, log_dir=folder / "rasa")
        servers.append(rasa)
        reviewed = folder / "reviewed"
        reviewed.mkdir()
        for lang in ("en", "nl"):
            shutil.copyfile(REPO / "bot" / "data" / "nlu" / "reviewed" / f"{lang}.yml", reviewed / f"{lang}.yml")
        config = folder / "config.yml"  # the test-only copy the failure test breaks
        shutil.copyfile(REPO / "config.yml", config)
        database_url = f"sqlite:///{folder / 'handoff.db'}"
        upgrade(database_url)
        service = start_handoff_service(
            port=free_port(), database_url=database_url, rasa_url=rasa.url, billing_url=billing_url,
            twilio_url=twilio_fake.url, log=folder / "handoff.log",
            nlu_tracker_url=f"sqlite:///{tracker}", nlu_poll_seconds="0.5", nlu_parse_after_seconds="2",
            nlu_models_dir=str(folder / "models"), nlu_reviewed_dir=str(reviewed), nlu_config=str(config),
            nlu_eval_actions_url=actions.url)
        servers.append(service.server)
        yield {"service": service, "rasa": rasa, "model": model, "reviewed": reviewed, "config": config,
               "folder": folder}
    finally:
        for server in reversed(servers):
            server.stop()


@pytest.fixture(scope="module")
def service(stack):
    return stack["service"]


@pytest.fixture(scope="module")
def admin(service, staff_password):
    with service.staff("admin1", staff_password) as client:
        yield client


@pytest.fixture(scope="module")
def target(stack) -> dict:
    """A text the live model does not understand as ask_balance, and what it makes of it."""
    for text in MISUNDERSTOOD:
        parsed = httpx.post(stack["rasa"].url + "/model/parse", json={"text": text}, timeout=10).json()
        if parsed["intent"]["name"] != "ask_balance":
            return {"text": text, "intent": parsed["intent"]["name"]}
    pytest.skip("the live model already understands every balance phrasing this test has")


def live_model(stack) -> str:
    return httpx.get(stack["rasa"].url + "/status", timeout=10).json()["model_file"]


def nlu_of(service, conversation_id: str, count: int, timeout: float = 20) -> list:
    """The customer messages of a conversation once `count` of them have an NLU result."""
    deadline = time.monotonic() + timeout
    while True:
        rows = service.rows("SELECT text, intent, confidence, intent_ranking, nlu_source FROM messages "
                            "WHERE conversation_id = :c AND author = 'customer' ORDER BY seq", c=conversation_id)
        if sum(r.nlu_source is not None for r in rows) >= count:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"no NLU result after {timeout} s: {rows}")
        time.sleep(0.2)


def reviewed_examples(stack, lang="en") -> str:
    return (stack["reviewed"] / f"{lang}.yml").read_text()


# -- 1. every customer message carries its NLU result ------------------------------------------------
def test_every_customer_message_is_stored_with_intent_confidence_and_ranking(service, target):
    customer = Customer(service)
    customer.say("hello there")
    customer.say(target["text"])
    rows = nlu_of(service, customer.conversation_id, 2)
    assert [(r.text, r.intent, r.nlu_source) for r in rows] == [
        ("hello there", "greet", "bot"), (target["text"], target["intent"], "bot")]
    assert rows[0].confidence > 0.5
    ranking = json.loads(rows[1].intent_ranking) if isinstance(rows[1].intent_ranking, str) else rows[1].intent_ranking
    assert ranking and {"name", "confidence"} <= set(ranking[0])
    # the same words again (another customer, other case): one group of two in the inbox
    again = Customer(service)
    again.say(target["text"].capitalize() + "?")
    # a message for the entity annotation, and a Dutch one for the language filter
    other = Customer(service)
    other.say("my fridge broke down")
    dutch = Customer(service, "nl")
    dutch.say("mijn koelkast is stuk")
    for conversation in (again, other, dutch):
        nlu_of(service, conversation.conversation_id, 1)
    # text typed while waiting for a person never reaches the bot: it is parsed afterwards
    waiting = Customer(service)
    assert waiting.say("I want to talk to a person")["mode"] == "queued"
    waiting.say("hello?? anyone there")
    rows = nlu_of(service, waiting.conversation_id, 2)
    assert [r.nlu_source for r in rows] == ["bot", "parse"]
    assert rows[0].intent == "request_human" and rows[1].intent


# -- 2. a failed training changes nothing ---------------------------------------------------------------
def wait_for_job(admin, job_id: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = admin.get(f"/api/admin/training/{job_id}").json()
        if not job["running"]:
            return job
        assert time.monotonic() < deadline, f"training {job_id} still running after {timeout} s: {job['phase']}"
        time.sleep(1)


def test_a_training_that_fails_shows_its_error_and_changes_nothing(stack, admin):
    live, files = live_model(stack), reviewed_examples(stack)
    good = stack["config"].read_text()
    stack["config"].write_text(good.replace("LogisticRegressionClassifier", "NoSuchClassifier"))
    try:
        started = admin.post("/api/admin/training")
        assert started.status_code == 202, started.text
        second = admin.post("/api/admin/training")
        assert second.status_code == 409 and "one training at a time" in second.json()["detail"]
        job = wait_for_job(admin, started.json()["id"], timeout=300)
    finally:
        stack["config"].write_text(good)
    assert job["status"] == "failed", job
    assert "NoSuchClassifier" in job["error"] and job["error"].startswith("training failed")
    assert live_model(stack) == live and reviewed_examples(stack) == files
    activate = admin.post(f"/api/admin/models/{job['id']}/activate", json={})
    assert activate.status_code == 409 and "failed" in activate.json()["detail"]
    assert not list((stack["folder"] / "models").glob(f"{job['name']}.tar.gz"))


# -- 3. label, train, evaluate, activate, roll back: in the admin page --------------------------------
def test_an_admin_teaches_the_bot_a_message_and_can_roll_it_back(stack, service, admin, target, browser,
                                                                 staff_password):
    page = new_page(browser, service.url, **DESKTOP)
    page.goto("/admin")
    page.get_by_label("Username").fill("admin1")
    page.get_by_label("Password").fill(staff_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready='true']")
    base = live_model(stack).removesuffix(".tar.gz")

    # the failed training of the previous test is shown with its error
    page.get_by_role("tab", name=re.compile("^Models")).click()
    expect(page.locator("#job")).to_have_attribute("data-status", "failed")
    expect(page.locator("#job-error")).to_contain_text("NoSuchClassifier")
    expect(page.locator("#live")).to_have_attribute("data-name", base)

    # the review inbox: English, most frequent first; the two phrasings form one group
    page.get_by_role("tab", name=re.compile("^Review inbox")).click()
    page.select_option("#filter-sort", "frequent")
    page.select_option("#filter-lang", "en")
    group = page.locator("#groups .group", has=page.locator(".group-text", has_text=target["text"]))
    expect(group).to_have_count(1)
    expect(group).to_contain_text("× 2")
    expect(page.locator("#groups .group").first).to_have_attribute("data-text", re.compile(re.escape(target["text"]), re.I))
    page.select_option("#filter-lang", "nl")
    expect(page.locator("#groups .group", has_text="koelkast")).to_have_count(1)
    expect(group).to_have_count(0)
    page.select_option("#filter-lang", "en")
    expect(group).to_have_count(1)

    group.get_by_role("button", name=re.compile("^Label")).click()
    editor = group.locator(".label-editor")
    if SHARED_EVAL.is_dir():  # an evaluation line is refused, with the reason
        line = json.loads((SHARED_EVAL / "clinc150_billing.jsonl").read_text().splitlines()[0])["text"]
        editor.get_by_label("Example text").fill(line)
        editor.get_by_role("button", name="Save label").click()
        expect(editor.get_by_role("alert")).to_contain_text("evaluation line")
    editor.get_by_label("Example text").fill(target["text"])
    editor.get_by_label("Intent", exact=True).select_option("ask_balance")
    editor.get_by_role("button", name="Save label").click()
    expect(group).to_have_count(0)

    # an entity span and a new intent on another message
    fridge = page.locator("#groups .group", has_text="my fridge broke down")
    fridge.get_by_role("button", name=re.compile("^Label")).click()
    editor = fridge.locator(".label-editor")
    example = "my fridge broke down, account 10000001"
    editor.get_by_label("Example text").fill(example)
    start = example.index("10000001")
    editor.get_by_label("Example text").evaluate(f"el => {{ el.focus(); el.setSelectionRange({start}, {start + 8}); }}")
    editor.get_by_role("button", name="account_number").click()
    expect(editor.locator(".chip")).to_contain_text("10000001 → account_number")
    expect(editor.locator(".preview")).to_have_text("my fridge broke down, account [10000001](account_number)")
    editor.get_by_label("New intent", exact=True).check()
    editor.get_by_label("New intent name").fill("report_appliance_fault")
    editor.get_by_role("button", name="Save label").click()
    expect(fridge).to_have_count(0)

    # what training will add, before training
    page.get_by_role("tab", name=re.compile("^Training data")).click()
    diff = page.locator("#diff")
    expect(diff).to_contain_text(f"+    - {target['text']}")
    expect(diff).to_contain_text("+    - my fridge broke down, account [10000001](account_number)")
    expect(page.locator("#new-intents")).to_contain_text("report_appliance_fault")
    expect(page.locator("#labels tbody tr")).to_have_count(2)
    assert target["text"] not in reviewed_examples(stack)  # nothing written before activation

    # train, with live progress; a second training is refused meanwhile
    page.get_by_role("button", name="Train a candidate").click()
    job = page.locator("#job")
    expect(job).to_have_attribute("data-status", re.compile("training|evaluating"))
    assert admin.post("/api/admin/training").status_code == 409
    page.wait_for_function("() => Number(document.getElementById('job-progress').value) > 0.05",
                           timeout=TRAINING_TIMEOUT_MS)
    shoot(page, "admin-training")
    page.wait_for_selector("#job[data-status='candidate']", timeout=TRAINING_TIMEOUT_MS)
    name = job.get_attribute("data-name")

    # the evaluation against the live model
    evaluation = page.locator("#evaluation")
    expect(evaluation).to_be_visible()
    expect(page.locator("#evaluation-title")).to_have_text(f"{name} against {base}")
    expect(page.locator("#headline tbody tr[data-figure='heldout.macro_f1']")).to_have_count(1)
    expect(page.locator("#headline tbody tr[data-figure='stories']")).to_contain_text("✓")
    expect(page.locator("#labels-check")).to_contain_text("Labelled examples understood: 2 of 2")
    assert page.locator("#per-intent tbody tr").count() >= 19
    expect(page.locator("#matrix")).to_have_attribute("data-loaded", "heldout-candidate")
    page.select_option("#matrix-which", "base")
    expect(page.locator("#matrix")).to_have_attribute("data-loaded", "heldout-base")
    report = admin.get(f"/api/admin/models/{evaluation.get_attribute('data-model-id')}").json()["metrics"]
    assert {row["set"] for row in report["per_intent"]} >= {"heldout"}
    assert report["labels"]["examples"][0]["base"] == target["intent"]
    png = admin.get(f"/api/admin/models/{evaluation.get_attribute('data-model-id')}/confusion",
                    params={"set": "heldout"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    shoot(page, "admin-evaluation")

    # activate (a model judged worse would need the override and a reason)
    if evaluation.get_attribute("data-verdict") == "worse":
        page.get_by_label("Activate although it is worse").check()
        page.get_by_label("Reason (kept in the model history)").fill("test: the labelled message matters most")
    page.locator("#activate").click()
    expect(page.locator("#live")).to_have_attribute("data-name", name, timeout=120_000)
    assert live_model(stack) == f"{name}.tar.gz"

    # the bot now understands the message
    customer = Customer(service)
    answer = customer.text(target["text"])
    rows = nlu_of(service, customer.conversation_id, 1)
    assert rows[0].intent == "ask_balance" and rows[0].confidence > 0.5, (rows, answer)
    assert "account number" in answer.lower()
    # the repository's reviewed data is the live model's
    assert f"- {target['text']}" in reviewed_examples(stack)
    assert "[10000001](account_number)" in reviewed_examples(stack)

    # roll back: the previous model and the previous behaviour
    page.get_by_role("button", name=f"Roll back to {base}").click()
    expect(page.locator("#live")).to_have_attribute("data-name", base, timeout=120_000)
    assert live_model(stack) == f"{base}.tar.gz"
    customer = Customer(service)
    customer.say(target["text"])
    rows = nlu_of(service, customer.conversation_id, 1)
    assert rows[0].intent == target["intent"]
    assert target["text"] not in reviewed_examples(stack)
    activations = page.locator("#activations tbody tr")
    expect(activations).to_have_count(2)
    expect(activations.first).to_contain_text("rollback")
    shoot(page, "admin-history")
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == []
    page.context.close()


# -- 4. a worse model needs an override ----------------------------------------------------------------
def test_activating_a_worse_model_needs_an_override_and_a_reason(stack, service, admin):
    history = admin.get("/api/admin/models").json()
    trained = next(m for m in history["models"] if m["status"] == "retired" and m["origin"] == "trained")
    # the model was judged better; make the registry see it as worse (this test's own store)
    engine = create_engine(service.database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE nlu_models SET verdict = 'worse' WHERE id = :id"), {"id": trained["id"]})
    engine.dispose()
    refused = admin.post(f"/api/admin/models/{trained['id']}/activate", json={})
    assert refused.status_code == 409 and "override" in refused.json()["detail"]
    assert admin.post(f"/api/admin/models/{trained['id']}/activate", json={"override": True}).status_code == 400
    before = live_model(stack)
    assert before != f"{trained['name']}.tar.gz"
    done = admin.post(f"/api/admin/models/{trained['id']}/activate",
                      json={"override": True, "reason": "test override " + uuid.uuid4().hex[:6]})
    assert done.status_code == 200, done.text
    assert live_model(stack) == f"{trained['name']}.tar.gz"
    last = admin.get("/api/admin/models").json()["activations"][0]
    assert last["action"] == "activate" and last["override_reason"].startswith("test override") and last["ok"]
    assert admin.post("/api/admin/rollback").json()["name"] == before.removesuffix(".tar.gz")
    assert live_model(stack) == before


# -- 5. noise, deleted labels, handed-off messages ------------------------------------------------------
def test_noise_leaves_the_inbox_without_becoming_data_and_a_deleted_label_brings_messages_back(admin):
    handed = admin.get("/api/admin/inbox", params={"reason": "handed_off"}).json()["groups"]
    assert any(g["representative"]["text"] == "I want to talk to a person" for g in handed), handed
    dutch = admin.get("/api/admin/inbox", params={"lang": "nl"}).json()["groups"]
    group = next(g for g in dutch if "koelkast" in g["representative"]["text"])
    made = admin.post("/api/admin/labels", json={"message_ids": group["message_ids"], "kind": "noise"})
    assert made.status_code == 201, made.text
    label = made.json()["labels"][0]
    assert label["kind"] == "noise" and label["intent"] is None
    assert not [g for g in admin.get("/api/admin/inbox", params={"lang": "nl"}).json()["groups"]
                if "koelkast" in g["representative"]["text"]]
    assert "koelkast" not in admin.get("/api/admin/dataset").json()["diff"]
    assert admin.delete(f"/api/admin/labels/{label['id']}").json()["status"] == "deleted"
    assert [g for g in admin.get("/api/admin/inbox", params={"lang": "nl"}).json()["groups"]
            if "koelkast" in g["representative"]["text"]]
