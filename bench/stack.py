"""Private, real processes for the benchmarks and the reliability suite.

Everything lives in one folder (SQLite stores, endpoints, logs) and listens on free ports of
127.0.0.1, so several stacks (the tests' own, `make demo`, another bench) never meet.

    billing DB     migrated, demo seed, plus N generated customers whose factors we know
    action server  python -m rasa_sdk --actions bot.actions           (.venv-app)
    Rasa           rasa run --enable-api, SQLite tracker store        (.venv-rasa; 2 processes,
                   each conversation on one, as in `make demo`)
    Twilio fake    python -m handoff.twilio_fake                      (.venv-app)
    handoff        python -m handoff --workers N (migrates, then uvicorn)   (.venv-app)

Every process can be stopped and started again on the same port and stores (fault tests).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.serve import (APP_PYTHON, RASA_RUN, TRACKER_STORE, Server, free_port, start, sticky_rasa_env,
                       write_endpoints)
from bot.training import REPO, rasa_env

TWILIO_SID = "AC" + "2" * 32
TWILIO_TOKEN = "bench-twilio-auth-token-" + "x" * 8
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"
SERVICE_NUMBER = "+3197010000000"
STAFF_PASSWORD = "bench-staff-Pa55word"
# --tracker: the SQLite tracker store's class (None: Rasa's in-memory store, no file)
TRACKER_STORES = {"cached": TRACKER_STORE, "sql": "SQL", "memory": None}


def say(message: str) -> None:
    """Progress for people watching (stderr, flushed)."""
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


# -- process facts ----------------------------------------------------------------------------
def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """All descendants of a process (uvicorn workers, rasa's helpers)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            kids = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            kids = []
        for kid in map(int, kids):
            found.append(kid)
            todo.append(kid)
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB."""
    return sum(_status_kb(p, "VmRSS") for p in [pid, *children(pid)]) / 1024


def peak_rss_mb(pid: int) -> float:
    """High-water mark of resident memory (VmHWM) of a process plus its descendants' peaks."""
    return sum(_status_kb(p, "VmHWM") for p in [pid, *children(pid)]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            parts = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Managed:
    """A process of the stack: how to start it again, how long it took, how big it is."""

    name: str
    command: list[str]
    health: str
    port: int
    log: Path
    env: dict[str, str]
    timeout: float = 180
    server: Server | None = None
    startups: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.server.process.pid if self.running else None

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.process.poll() is None

    def start(self) -> "Managed":
        if self.startups and self.log.exists():  # keep the previous run's log (crash post-mortems)
            self.log.rename(self.log.with_name(f"{self.log.stem}.{len(self.startups)}{self.log.suffix}"))
        started = time.monotonic()
        self.server = start(self.name, self.command, health=self.health, port=self.port,
                            log=self.log, env=self.env, timeout=self.timeout)
        self.startups.append(time.monotonic() - started)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def kill(self) -> None:
        """SIGKILL the process and its children: a crash, not a shutdown."""
        if self.running:
            for pid in [*children(self.server.process.pid), self.server.process.pid]:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            self.server.process.wait(timeout=20)

    def restart(self) -> "Managed":
        self.stop()
        return self.start()

    def logs(self) -> str:
        """This process's output over all its runs (earlier runs kept as name.N.log)."""
        older = sorted(self.log.parent.glob(f"{self.log.stem}.*{self.log.suffix}"))
        return "".join(p.read_text(errors="replace") for p in [*older, self.log] if p.exists())


# -- data -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Customer:
    account_number: str
    date_of_birth: date
    postcode: str
    phone: str
    language: str
    plan: str


def seed_billing(database_url: str, generated: int, seed: int = 7) -> list[Customer]:
    """Migrate and seed a billing DB; returns the generated customers (factors included).

    Demo seed (staff, plans, policies, the four demo customers) runs as the CLI does; the
    generator runs in-process so the factors it draws can be recorded.
    """
    env = rasa_env(BILLING_DEMO_STAFF_PASSWORD=STAFF_PASSWORD)
    for args in (["migrate"], ["seed", "--demo", "--no-history"]):
        result = subprocess.run([str(APP_PYTHON), "-m", "billing_core", "--database-url",
                                 database_url, *args], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"billing_core {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    if not generated:
        return []
    from billing_core import seed as seeding
    from billing_core.cli import open_database

    recorded: list[Customer] = []
    original = seeding.add_customer_history

    def record(session, spec, *, today):
        recorded.append(Customer(spec.account_number, spec.date_of_birth, spec.postcode,
                                 spec.phone, spec.language.value, spec.plan))
        return original(session, spec, today=today)

    seeding.add_customer_history = record
    try:
        factory = open_database(database_url)
        with factory() as session, session.begin():
            seeding.generate_customers(session, count=generated, seed=seed, today=date.today())
        factory.kw["bind"].dispose()
    finally:
        seeding.add_customer_history = original
    return recorded


def add_agents(database_url: str, count: int, languages: str = "en,nl",
               max_concurrent: int = 3) -> list[str]:
    """`count` extra agents (bench-agent-N) with the bench staff password."""
    from billing_core.cli import open_database
    from billing_core.enums import Role
    from billing_core.staff.models import StaffUser
    from billing_core.staff.service import create_staff_user
    from sqlalchemy import select

    names = [f"bench-agent-{i}" for i in range(1, count + 1)]
    factory = open_database(database_url)
    with factory() as session, session.begin():
        for name in names:
            if session.scalar(select(StaffUser).where(StaffUser.username == name)) is None:
                create_staff_user(session, username=name, full_name=f"Bench Agent {name[-2:]}",
                                  role=Role.agent, password=STAFF_PASSWORD, languages=languages,
                                  max_concurrent=max_concurrent)
    factory.kw["bind"].dispose()
    return names


# -- the stack --------------------------------------------------------------------------------
@dataclass
class Stack:
    folder: Path
    billing_url: str
    handoff_url: str
    customers: list[Customer]
    actions: Managed
    rasas: list[Managed]  # one conversation always talks to the same one (HANDOFF_RASA_STICKY)
    twilio: Managed
    handoff: Managed
    model: Path

    @property
    def public_url(self) -> str:
        return self.handoff.url

    def processes(self) -> list[Managed]:
        return [self.actions, *self.rasas, self.twilio, self.handoff]

    def stop(self) -> None:
        for managed in reversed(self.processes()):
            managed.stop()


def build(folder: Path, *, model: Path, customers: int = 64, workers: int = 1,
          rasa_processes: int = 2, tracker: str = "cached", rasa_fixes: str | None = None, rasa_timeout: float = 8.0,
          sms_fast_retries: bool = True,
          extra_handoff_env: dict[str, str] | None = None, start_all: bool = True) -> Stack:
    """Seed the stores and start the four processes (in dependency order)."""
    folder.mkdir(parents=True, exist_ok=True)
    billing_url = f"sqlite:///{folder / 'billing.db'}"
    handoff_url = f"sqlite:///{folder / 'handoff.db'}"
    say(f"seeding a billing DB with the demo data and {customers} generated customers ...")
    generated = seed_billing(billing_url, customers)
    ports = {name: free_port() for name in ("actions", "twilio", "handoff")}
    actions = Managed("action server",
                      [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "bot.actions",
                       "-p", str(ports["actions"])],
                      "/health", ports["actions"], folder / "actions.log",
                      rasa_env(BILLING_DATABASE_URL=billing_url))
    if tracker not in TRACKER_STORES:
        raise ValueError(f"unknown tracker store {tracker!r}")
    endpoints = write_endpoints(folder / "endpoints.yml", action_url=actions.url,
                                tracker_db=folder / "tracker.db" if TRACKER_STORES[tracker] else None,
                                tracker_store=TRACKER_STORES[tracker] or TRACKER_STORE)
    rasas = []
    for index in range(rasa_processes):
        port = free_port()
        rasas.append(Managed(
            "Rasa server" if rasa_processes == 1 else f"Rasa server {index + 1}",
            [*RASA_RUN, "run", "-i", "127.0.0.1", "-p", str(port),
             "--enable-api", "-m", str(model), "--endpoints", str(endpoints)],
            "/status", port, folder / ("rasa.log" if index == 0 else f"rasa-{index + 1}.log"),
            rasa_env(**({"BOT_RASA_FIXES": rasa_fixes} if rasa_fixes is not None else {}))))
    handoff_public = f"http://127.0.0.1:{ports['handoff']}"
    twilio = Managed("Twilio stand-in",
                     [str(APP_PYTHON), "-m", "handoff.twilio_fake", "--port", str(ports["twilio"]),
                      "--account-sid", TWILIO_SID, "--auth-token", TWILIO_TOKEN,
                      "--handoff-url", handoff_public],
                     "/messages", ports["twilio"], folder / "twilio.log", rasa_env(), timeout=60)
    env = rasa_env(
        BILLING_DATABASE_URL=billing_url, BILLING_DEMO_STAFF_PASSWORD=STAFF_PASSWORD,
        HANDOFF_DATABASE_URL=handoff_url, **sticky_rasa_env([rasa.url for rasa in rasas]),
        HANDOFF_PUBLIC_URL=handoff_public, HANDOFF_TWILIO_API_BASE_URL=twilio.url,
        HANDOFF_TWILIO_ACCOUNT_SID=TWILIO_SID, HANDOFF_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        HANDOFF_TWILIO_FROM_NUMBER=SERVICE_NUMBER, HANDOFF_SECRET_KEY=JWT_SECRET,
        HANDOFF_RASA_TIMEOUT_SECONDS=str(rasa_timeout))
    if sms_fast_retries:
        env.update(HANDOFF_SMS_RETRY_BASE_SECONDS="0.2", HANDOFF_SMS_RETRY_MAX_SECONDS="2",
                   HANDOFF_SMS_POLL_SECONDS="1", HANDOFF_TWILIO_TIMEOUT_SECONDS="5")
    env.update(extra_handoff_env or {})
    handoff = Managed("handoff service",
                      [str(APP_PYTHON), "-m", "handoff", "--port", str(ports["handoff"]),
                       "--workers", str(workers)],
                      "/healthz", ports["handoff"], folder / "handoff.log", env, timeout=90)
    stack = Stack(folder, billing_url, handoff_url, generated, actions, rasas, twilio, handoff, model)
    if start_all:
        try:
            # in dependency order; the Rasa servers side by side
            for group in ([actions], rasas, [twilio], [handoff]):
                say(f"starting the {', '.join(managed.name for managed in group)} ...")
                with ThreadPoolExecutor(len(group)) as pool:
                    list(pool.map(Managed.start, group))
                for managed in group:
                    say(f"  {managed.name} up in {managed.startups[-1]:.1f} s on {managed.url}")
        except BaseException:
            stack.stop()
            raise
    return stack
