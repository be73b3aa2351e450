"""Train the Rasa model when, and only when, config, domain or training data changed.

    .venv-app/bin/python -m bot.training          # prints the model path

Models are named by a hash of their inputs (models/bot-<hash>.tar.gz), so `make train`,
`make demo`, the tests and the evaluation all share one model per version of the data.
"""
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL_INPUTS = ("config.yml", "bot/domain", "bot/data", "bot/language.py", "bot/nlu_components")
MODELS = REPO / "models"


def rasa_env(**extra: str) -> dict[str, str]:
    # SANIC_HOST: the action server listens on loopback only (rasa-sdk's default is every
    # interface, and it trusts the tracker it is sent)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
               PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", SANIC_HOST="127.0.0.1")
    env.update(extra)
    return env


def fingerprint(root: Path = REPO) -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def run_logged(command: list[str], progress: Callable[[str], None] | None = None,
               **env: str) -> tuple[int, str]:
    """Run a command from the repo with `rasa_env`; each output line goes to `progress` as it
    comes. Returns the exit code and the whole output."""
    process = subprocess.Popen(command, cwd=REPO, env=rasa_env(**{"PYTHONUNBUFFERED": "1", **env}), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if progress is not None:
            progress(line.rstrip("\n"))
    return process.wait(), "".join(lines)


def train(*, config: Path = REPO / "config.yml", out: Path = MODELS, name: str,
          quiet: bool = False, data: Path = REPO / "bot" / "data",
          domain: Path = REPO / "bot" / "domain",
          progress: Callable[[str], None] | None = None, env: dict[str, str] | None = None) -> Path:
    """Run `rasa train`; returns the model path. Progress goes to stderr unless quiet.

    `progress` gets every output line as it comes (the admin console shows training live);
    `env` adds environment variables (e.g. a separate RASA_CACHE_DIRECTORY).
    """
    out.mkdir(parents=True, exist_ok=True)
    command = [str(RASA), "train", "--config", str(config), "--domain", str(domain),
               "--data", str(data), "--out", str(out), "--fixed-model-name", name]
    started = time.monotonic()
    sys.stderr.write(f"train: {name} with {config.name} ...\n")
    returncode, output = run_logged(command, progress, **(env or {}))
    if returncode != 0:
        raise RuntimeError(f"rasa train failed:\n{output[-4000:]}")
    if not quiet:
        for line in output.splitlines():
            if "Epochs" in line or "Finished training component" in line:
                sys.stderr.write(f"  {line.strip()[:120]}\n")
    sys.stderr.write(f"train: done in {time.monotonic() - started:.0f} s\n")
    return out / f"{name}.tar.gz"


def current_model() -> Path:
    """The model for the working tree's config, domain and data, trained if missing."""
    target = MODELS / f"bot-{fingerprint()}.tar.gz"
    if target.exists():
        return target
    return train(name=target.name.removesuffix(".tar.gz"))


if __name__ == "__main__":
    print(current_model())
