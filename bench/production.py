"""Production mode under the same scripted load: one replica per tier, then two (handoff.prod).

Both runs use PostgreSQL, Redis and RabbitMQ and go through nginx, so the only difference is
the replica count; scaling = turns/s with two replicas / turns/s with one, per concurrency.
The customers are the four demo customers (their factors are in billing_core.seed), each
conversation under its own id; the scripts are those of the single-node run.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import load
from bench.conversations import billing_script
from bench.stack import Customer, say
from billing_core.seed import DEMO_CUSTOMERS
from bot.serve import Server
from handoff.prod import TIERS, ProductionStack, Topology

DEMO = [Customer(c.account_number, c.date_of_birth, c.postcode, c.phone, c.language.value, c.plan)
        for c in DEMO_CUSTOMERS]


@dataclass
class Process:
    """A replica as the load runner accounts for it (name, pid, running)."""

    name: str
    server: Server

    @property
    def pid(self) -> int:
        return self.server.process.pid

    @property
    def running(self) -> bool:
        return self.server.process.poll() is None


def scripts(rng):
    return billing_script(rng.choice(DEMO), rng)


def scaling(folder: Path, model: Path, *, levels: list[int], seconds: float, max_turns: int,
            measured_load, warm_up) -> dict:
    """`measured_load`/`warm_up` are the single-node run's, so both report the same figures."""
    found: dict = {}
    for replicas in (1, 2):
        topology = Topology(replicas=replicas, front_port=0, rasa_port=0, actions_port=0,
                            twilio_port=0, name=f"bench{replicas}_{uuid.uuid4().hex[:8]}",
                            folder=folder / f"production-{replicas}")
        stack = ProductionStack(topology, model)
        say(f"production mode, {replicas} replica(s) per tier: seeding and starting ...")
        try:
            stack.prepare(say=say)
            stack.start(say=say)
            processes = [Process(f"{tier} {i + 1}", server)
                         for tier in TIERS for i, server in enumerate(stack.servers[tier])]
            send = load.handoff_sender(stack.url)
            warm_up(send, scripts)
            found[str(replicas)] = {str(c): measured_load(
                send, scripts, processes, concurrency=c, seconds=seconds, max_turns=max_turns,
                prefix=f"production x{replicas} replicas") for c in levels}
        finally:
            stack.stop()
            stack.drop_databases()
    found["scaling"] = {str(c): round(found["2"][str(c)]["turns_per_s"]
                                      / max(found["1"][str(c)]["turns_per_s"], 1e-9), 2)
                        for c in levels}
    return found
