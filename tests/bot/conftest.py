import subprocess
import sys
from pathlib import Path

import pytest

from bot.serve import start_action_server, start_rasa_server, write_endpoints
from bot.training import REPO, current_model, rasa_env


def seeded_database(folder: Path) -> str:
    """A migrated SQLite database in `folder` with the demo data, committed; returns its URL."""
    url = f"sqlite:///{folder / 'billing.db'}"
    for args in (["migrate"], ["seed", "--demo"]):
        subprocess.run([sys.executable, "-m", "billing_core", "--database-url", url, *args],
                       check=True, capture_output=True, env=rasa_env(), timeout=120)
    return url


@pytest.fixture(scope="session")
def bot_database_url(tmp_path_factory) -> str:
    """The demo database shared by the bot processes."""
    return seeded_database(tmp_path_factory.mktemp("botdb"))


@pytest.fixture(scope="session")
def model() -> Path:
    return current_model()


@pytest.fixture(scope="session")
def action_server(bot_database_url, tmp_path_factory):
    server = start_action_server(database_url=bot_database_url,
                                 log_dir=tmp_path_factory.mktemp("actions"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def endpoints(action_server, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("endpoints")
    return write_endpoints(folder / "endpoints.yml", action_url=action_server.url,
                           tracker_db=folder / "tracker.db")


@pytest.fixture(scope="session")
def rasa_server(model, endpoints, tmp_path_factory):
    server = start_rasa_server(model=model, endpoints=endpoints,
                               log_dir=tmp_path_factory.mktemp("rasa"))
    yield server
    server.stop()


def run_rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / ".venv-rasa" / "bin" / "rasa"), *args], cwd=REPO,
                          env=rasa_env(), capture_output=True, text=True, timeout=timeout)
