"""Runs in .venv-rasa (bench/tracker.py starts it): the tracker store's cost of a turn.

Conversations of `--turns` turns, each turn as Rasa does it: get or create the tracker, add a
user message, a slot, an action, a bot message and a listen, save. Prints one JSON line.
"""
import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot import rasa_run
from bot.tracker_store import CachedSQLTrackerStore
from bot.training import REPO

STORES = {"cached": CachedSQLTrackerStore, "sql": SQLTrackerStore}
INTENT = {"name": "ask_balance", "confidence": 0.93}
PARSE = {"text": "what is my balance", "intent": INTENT, "entities": [],
         "intent_ranking": [INTENT] * 10}


async def turn(store, sender_id: str) -> None:
    tracker = await store.get_or_create_tracker(sender_id)
    tracker.update(UserUttered(PARSE["text"], INTENT, [], PARSE))
    tracker.update(SlotSet("language", "en"))
    tracker.update(ActionExecuted("action_show_balance"))
    tracker.update(BotUttered("Your balance is EUR 12.34"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


async def measure(store, *, conversations: int, turns: int, prefix: str) -> dict:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(turns):  # round robin, as conversations interleave on a server
        for index in range(conversations):
            await turn(store, f"{prefix}-{index}")
    done = conversations * turns
    return {"cpu_ms_per_turn": round(1000 * (time.process_time() - cpu) / done, 2),
            "wall_ms_per_turn": round(1000 * (time.perf_counter() - wall) / done, 2), "turns": done}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=list(STORES), required=True)
    parser.add_argument("--url", required=True, help="sqlite:///path or postgresql://user@host:port/db")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--turns", type=int, default=16)
    args = parser.parse_args()
    rasa_run.apply(["sqlite", "events"])  # as the Rasa server runs
    if args.url.startswith("sqlite:///"):
        where = {"dialect": "sqlite", "db": args.url.removeprefix("sqlite:///")}
    else:
        url = urlsplit(args.url)
        where = {"dialect": "postgresql", "host": url.hostname, "port": url.port or 5432,
                 "db": url.path.lstrip("/"), "username": url.username}
    store = STORES[args.store](domain=Domain.load(REPO / "bot" / "domain"), **where)
    result = asyncio.run(measure(store, conversations=args.conversations, turns=args.turns,
                                 prefix=f"{args.store}-{time.time_ns()}"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
