"""Custom actions, served by `python -m rasa_sdk --actions bot.actions` from .venv-app."""
from bot.actions import (  # noqa: F401  (importing registers the actions)
    arrangements, billing, concessions, dialogue, handoff, plans, verification,
)
