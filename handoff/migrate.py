from pathlib import Path

from billing_core import migrate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade(url: str, revision: str = "head") -> None:
    migrate.upgrade(url, revision, migrations=MIGRATIONS)
