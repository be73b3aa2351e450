"""Start the real processes for integration tests: trained model, action server, Rasa server.

Nothing is mocked: the Rasa server runs the trained model from .venv-rasa and calls the
action server from .venv-app, which works on a migrated and seeded SQLite database.
"""
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.training import REPO, RASA, rasa_env

APP_PYTHON = REPO / ".venv-app" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
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


def start(command: list[str], *, health: str, port: int, log: Path, env: dict[str, str],
          timeout: float = 120) -> Server:
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + health, timeout=2).status_code == 200:
                return Server(process, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"{command} not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


def start_action_server(*, database_url: str, log_dir: Path) -> Server:
    port = free_port()
    return start([str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "bot.actions", "-p", str(port)],
                 health="/health", port=port, log=log_dir / "actions.log",
                 env=rasa_env(BILLING_DATABASE_URL=database_url))


def write_endpoints(path: Path, action_url: str) -> Path:
    path.write_text(f'action_endpoint:\n  url: "{action_url}/webhook"\n')
    return path


def start_rasa_server(*, model: Path, endpoints: Path, log_dir: Path) -> Server:
    port = free_port()
    return start([str(RASA), "run", "-i", "127.0.0.1", "-p", str(port), "--enable-api",
                  "-m", str(model), "--endpoints", str(endpoints)],
                 health="/status", port=port, log=log_dir / "rasa.log", env=rasa_env())
