"""The tracker store's cost per turn: the project's (bot/tracker_store.py) against Rasa's own
SQL store, on SQLite (the embedded default) and PostgreSQL (production mode).

Each store in a fresh database, measured by bench/tracker_probe.py in .venv-rasa.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

from bench.stack import say
from bot.training import REPO, rasa_env
from handoff.prod import Topology

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"


def probe(store: str, url: str, *, conversations: int, turns: int) -> dict:
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-m", "bench.tracker_probe", "--store", store,
                             "--url", url, "--conversations", str(conversations), "--turns", str(turns)],
                            cwd=REPO, env=rasa_env(), capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"bench.tracker_probe failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(*, conversations: int = 100, turns: int = 16) -> dict:
    """{"sqlite"|"postgresql": {"cached"|"sql": {cpu_ms_per_turn, wall_ms_per_turn, turns}}}."""
    found: dict = {"conversations": conversations, "turns_per_conversation": turns}
    with tempfile.TemporaryDirectory(prefix="bench-tracker-") as folder:
        found["sqlite"] = {}
        for store in ("sql", "cached"):
            say(f"tracker store: {store} on SQLite, {conversations} conversations x {turns} turns ...")
            found["sqlite"][store] = probe(store, f"sqlite:///{Path(folder) / f'{store}.db'}",
                                           conversations=conversations, turns=turns)
    server = Topology().postgres_url  # production mode's PostgreSQL
    database = f"bench_tracker_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as exc:
        found["postgresql"] = {"skipped": f"PostgreSQL not reachable: {exc}".splitlines()[0]}
        return found
    try:
        found["postgresql"] = {}
        for store in ("sql", "cached"):
            say(f"tracker store: {store} on PostgreSQL ...")
            found["postgresql"][store] = probe(store, f"{server}/{database}",
                                               conversations=conversations, turns=turns)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return found
