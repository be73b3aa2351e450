"""A handoff service over the demo data with its synthetic history, for the reports tests.

The reports need no bot: the billing database is seeded by the real CLI
(`billing_core seed --demo --history`, which also writes the queue history into the
handoff store), and the service runs as a real uvicorn process
(`tests/handoff/conftest.start_handoff_service`). Rasa and Twilio point at a closed port:
nothing here talks to them.
"""
import subprocess
from pathlib import Path

import pytest

from bot.serve import APP_PYTHON, free_port
from bot.training import rasa_env
from tests.handoff.conftest import HandoffService, start_handoff_service

NOWHERE = "http://127.0.0.1:9"  # discard port: never answers


@pytest.fixture(scope="session")
def reports_service(tmp_path_factory) -> HandoffService:
    folder: Path = tmp_path_factory.mktemp("reports")
    billing_url = f"sqlite:///{folder / 'billing.db'}"
    store_url = f"sqlite:///{folder / 'handoff.db'}"
    for args in (["migrate"], ["seed", "--demo", "--history", "--handoff-database-url", store_url]):
        subprocess.run([str(APP_PYTHON), "-m", "billing_core", "--database-url", billing_url, *args],
                       check=True, capture_output=True, env=rasa_env(), timeout=300)
    service = start_handoff_service(port=free_port(), database_url=store_url, rasa_url=NOWHERE,
                                    billing_url=billing_url, twilio_url=NOWHERE,
                                    log=folder / "handoff.log")
    service.billing_url = billing_url
    yield service
    service.server.stop()
