"""Custom actions, served by `python -m rasa_sdk --actions bot.actions` from .venv-app."""
import gc

from bot.actions import (  # noqa: F401  (importing registers the actions)
    arrangements, billing, concessions, dialogue, handoff, plans, verification,
)

# What is loaded by now lives as long as the server: keep it out of the collector's full
# collections, which otherwise paused the action server for 60-76 ms every ~12 s under load.
gc.freeze()
