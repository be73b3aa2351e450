"""The stock Rasa baseline: the project `rasa init --no-prompt` creates, as it comes.

Created in a temporary folder and trained by `rasa init` with its default config (DIET, TED,
memoization, rules), served by plain `rasa run` (none of bot/rasa_run.py's fixes) with its
default in-memory tracker store and its REST channel. `rasa init` writes an action server
stub that is entirely commented out and leaves `action_endpoint` commented out in
endpoints.yml; an action server is started only if the project really has one.
"""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import Managed, say
from bot.serve import free_port
from bot.training import REPO, rasa_env

RASA = REPO / ".venv-rasa" / "bin" / "rasa"


@dataclass
class Baseline:
    folder: Path
    init_seconds: float
    model: Path
    rasa: Managed
    actions: Managed | None = None
    notes: list[str] = field(default_factory=list)

    def processes(self) -> list[Managed]:
        return [p for p in (self.actions, self.rasa) if p is not None]

    def stop(self) -> None:
        for managed in self.processes():
            managed.stop()


def has_action_server(folder: Path) -> bool:
    """True when the project defines actions and points Rasa at an action server."""
    endpoints = (folder / "endpoints.yml").read_text()
    code = "\n".join(path.read_text() for path in (folder / "actions").glob("*.py"))
    active_endpoint = re.search(r"^action_endpoint:", endpoints, re.MULTILINE)
    active_action = re.search(r"^class \w+\(Action\)", code, re.MULTILINE)
    return bool(active_endpoint and active_action)


def build(folder: Path, *, start_all: bool = True) -> Baseline:
    folder.mkdir(parents=True, exist_ok=True)  # rasa init needs the folder to exist
    say("stock baseline: `rasa init --no-prompt` (creates and trains the default project) ...")
    started = time.monotonic()
    result = subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(folder)],
                            cwd=folder, env=rasa_env(), capture_output=True, text=True,
                            timeout=900)
    init_seconds = time.monotonic() - started
    models = sorted((folder / "models").glob("*.tar.gz"))
    if result.returncode != 0 or not models:
        raise RuntimeError(f"rasa init failed:\n{(result.stdout + result.stderr)[-3000:]}")
    say(f"  stock project created and trained in {init_seconds:.0f} s")
    notes = []
    actions = None
    port = free_port()
    if has_action_server(folder):
        actions = Managed("stock action server", [str(RASA), "run", "actions", "-p", str(port)],
                          "/health", port, folder / "actions.log", rasa_env())
        notes.append("the stock project defines custom actions: action server started")
    else:
        notes.append("the stock project has no custom actions (actions.py is commented out), "
                     "so no action server")
    rasa_port = free_port()
    rasa = Managed("stock Rasa server",
                   [str(RASA), "run", "-i", "127.0.0.1", "-p", str(rasa_port), "-m",
                    str(models[-1]), "--endpoints", str(folder / "endpoints.yml"),
                    "--credentials", str(folder / "credentials.yml")],
                   "/", rasa_port, folder / "rasa.log", rasa_env())
    # `rasa run` needs the project folder as its working directory for relative paths.
    rasa.env = dict(rasa.env)
    baseline = Baseline(folder, init_seconds, models[-1], rasa, actions, notes)
    if start_all:
        for managed in baseline.processes():
            say(f"starting the {managed.name} ...")
            managed.start()
            say(f"  {managed.name} up in {managed.startups[-1]:.1f} s")
    return baseline
