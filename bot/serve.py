"""Start the assistant's processes (action server, Rasa server) on 127.0.0.1.

Used by `make demo` (handoff.demo) and by the tests, so both run the same way.
"""
import json
import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from bot.training import REPO, rasa_env

APP_PYTHON = REPO / ".venv-app" / "bin" / "python"
# `rasa` plus the project's server-side fix (bot/rasa_run.py: action responses validated
# without re-checking the schema on every call, 62% of Rasa's CPU under load before).
RASA_RUN = [str(REPO / ".venv-rasa" / "bin" / "python"), "-m", "bot.rasa_run"]
# Rasa's SQL tracker store keeping each conversation's tracker between turns (bot/tracker_store.py)
TRACKER_STORE = "bot.tracker_store.CachedSQLTrackerStore"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, command: list[str], *, health: str, port: int, log: Path,
          env: dict[str, str], timeout: float = 180) -> Server:
    """Start a process and wait until `health` answers 200; its output goes to `log`."""
    if port_in_use(port):
        raise RuntimeError(f"{name}: port {port} on 127.0.0.1 is already in use")
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early; see {log}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + health, timeout=2).status_code == 200:
                return Server(name, process, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"{name} not healthy after {timeout:.0f} s; see {log}")


def start_action_server(*, database_url: str | None, log_dir: Path, port: int | None = None) -> Server:
    port = port or free_port()
    extra = {"BILLING_DATABASE_URL": database_url} if database_url else {}
    return start("action server",
                 [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "bot.actions", "-p", str(port)],
                 health="/health", port=port, log=log_dir / "actions.log", env=rasa_env(**extra))


@dataclass(frozen=True)
class ProductionStores:
    """Where Rasa keeps conversations in production mode (URLs as the other services take them)."""

    tracker_url: str  # PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/rasa
    lock_url: str  # Redis, e.g. redis://127.0.0.1:6379/1
    events_url: str  # RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/
    events_queue: str  # the queue the handoff service consumes (HANDOFF_RASA_EVENTS_QUEUE)
    lock_prefix: str = "billing"

    def endpoints(self) -> dict:
        tracker, lock, events = (urlsplit(u) for u in (self.tracker_url, self.lock_url, self.events_url))
        return {
            # several Rasa replicas read and write one conversation's tracker here
            "tracker_store": {"type": TRACKER_STORE, "dialect": "postgresql", "url": tracker.hostname,
                              "port": tracker.port or 5432, "db": tracker.path.lstrip("/"),
                              "username": unquote(tracker.username or "postgres"),
                              "password": unquote(tracker.password or "")},
            # ... one turn at a time per conversation (Rasa's own Redis lock store is not
            # atomic across replicas: bot/lock_store.py)
            "lock_store": {"type": "bot.lock_store.AtomicRedisLockStore", "url": lock.hostname, "port": lock.port or 6379,
                           "db": int(lock.path.lstrip("/") or 0), "password": lock.password,
                           "key_prefix": self.lock_prefix},
            # every event, also of turns that never passed through the handoff service
            "event_broker": {"type": "pika", "url": events.hostname, "port": events.port or 5672,
                             "username": unquote(events.username or "guest"),
                             "password": unquote(events.password or "guest"),
                             "queues": [self.events_queue]},
        }


def write_endpoints(path: Path, *, action_url: str, tracker_db: Path | None = None,
                    production: ProductionStores | None = None, tracker_store: str = TRACKER_STORE) -> Path:
    """Rasa's endpoints: the action server, and either the embedded default (an SQLite tracker
    store, in-memory locks, no event broker) or the production stores. `tracker_store`: the
    SQLite store's class (the bench compares it with Rasa's own, `SQL`)."""
    # selective domain: the domain (28 KB of JSON) goes only to the actions that read it,
    # those marked `send_domain: true` in bot/domain (the form validator)
    endpoints: dict = {"action_endpoint": {"url": f"{action_url}/webhook", "enable_selective_domain": True}}
    if production is not None:
        endpoints.update(production.endpoints())
    elif tracker_db is not None:
        endpoints["tracker_store"] = {"type": tracker_store, "dialect": "sqlite", "db": str(tracker_db)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(endpoints, indent=2) + "\n")  # JSON is YAML
    return path


def start_rasa_server(*, model: Path, endpoints: Path, log_dir: Path, port: int | None = None,
                      token: str | None = None, log_name: str = "rasa.log") -> Server:
    """`token`: Rasa's HTTP API then answers only requests that carry it (`?token=`)."""
    port = port or free_port()
    auth = [f"--auth-token={token}"] if token else []  # one word: a token may start with "-"
    return start("Rasa server",
                 [*RASA_RUN, "run", "-i", "127.0.0.1", "-p", str(port), "--enable-api", *auth,
                  "-m", str(model), "--endpoints", str(endpoints)],
                 health=f"/status?token={token}" if token else "/status", port=port,
                 log=log_dir / log_name, env=rasa_env())


def rasa_processes() -> int:
    """How many Rasa servers the embedded default runs (`RASA_PROCESSES`, default 2).

    One Rasa server handles every message on one event loop (one core); the handoff service
    sends each conversation to the same one of them (HANDOFF_RASA_STICKY), so they need no
    shared lock store and keep their conversations' trackers in memory.
    """
    value = os.environ.get("RASA_PROCESSES", "2")
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"RASA_PROCESSES must be a whole number >= 1, not {value!r}")
    return int(value)


def sticky_rasa_env(urls: list[str]) -> dict[str, str]:
    """The handoff service's settings for these Rasa servers (the first one answers the rest)."""
    env = {"HANDOFF_RASA_URL": urls[0]}
    if len(urls) > 1:
        env.update(HANDOFF_RASA_REPLICA_URLS=json.dumps(urls), HANDOFF_RASA_STICKY="true")
    return env


def start_rasa_servers(*, model: Path, endpoints: Path, log_dir: Path, ports: list[int]) -> list[Server]:
    """The embedded default's Rasa servers, started side by side (rasa.log, rasa-2.log, ...)."""
    def one(index: int) -> Server:
        return start_rasa_server(model=model, endpoints=endpoints, log_dir=log_dir, port=ports[index],
                                 log_name="rasa.log" if index == 0 else f"rasa-{index + 1}.log")

    with ThreadPoolExecutor(len(ports)) as pool:
        futures = [pool.submit(one, index) for index in range(len(ports))]
        servers, errors = [], []
        for future in futures:
            try:
                servers.append(future.result())
            except RuntimeError as exc:
                errors.append(exc)
    if errors:
        for server in servers:
            server.stop()
        raise errors[0]
    return servers
