"""`make bench`: NLU, full-stack turns vs stock Rasa, handoff figures, start-up, memory, training.

    .venv-app/bin/python -m bench [--seconds 20] [--concurrency 1,8,32] [--skip nlu,baseline,...]
                                  [--quick] [--ablation] [--handoff-workers N] [--keep]

Sections (each can be skipped):
  nlu       every ../shared/eval file and bot/eval/heldout.jsonl, per language (bot.nlu_eval)
  train     training time of the current config and data (the model then used below)
  turns     scripted conversations (verify, balance, bill explanation, plan preview) through the
            handoff REST chat -> Rasa -> action server -> billing core, at each concurrency,
            interleaved with the same load on the stock `rasa init` bot (section baseline)
  handoff   escalation -> agent WebSocket `queue_changed` latency (idle and under load),
            claim contention, SMS webhook throughput (signed) with delivery to the stand-in
  ablation  (--ablation) the same 8-conversation load on this stack with each Rasa fix off
  production the same load in production mode (PostgreSQL, Redis, RabbitMQ,
            nginx) with one and then two replicas per tier: scaling from one to two (bench.production)

Everything runs as private processes on free 127.0.0.1 ports in a temporary folder; every load
loop is bounded by a turn count and a time limit. Progress goes to stderr, the table to stdout,
all figures to bench/results/latest.json (and a dated copy).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import baseline as stock
from bench import handoff_bench, load, nlu, production, tracker
from bench import stack as stacks
from bench.conversations import billing_script, stock_script
from bench.stack import Managed, cpu_seconds, peak_rss_mb, rss_mb, say
from bot.training import REPO, current_model, fingerprint, train

RESULTS = REPO / "bench" / "results"
SECTIONS = ("nlu", "train", "tracker", "turns", "baseline", "handoff", "production")
PACED_THINK = (0.5, 2.0)  # seconds a (fast) customer reads and types between turns
TARGETS = {"p95_ms_at_8": 150, "turns_per_s": 30, "ratio_vs_stock": 1.5, "notify_p95_ms": 500}


class MemoryWatch:
    """Samples the RSS of every process (with children) twice a second; keeps the peak."""

    def __init__(self) -> None:
        self.processes: list[Managed] = []
        self.peak: dict[str, float] = {}
        self.at_start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, *processes: Managed) -> None:
        self.processes.extend(processes)
        for managed in processes:
            if managed.running:
                self.at_start[managed.name] = rss_mb(managed.pid)

    def start(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def sample(self) -> None:
        for managed in list(self.processes):
            if managed.running:
                self.peak[managed.name] = max(self.peak.get(managed.name, 0.0), rss_mb(managed.pid))

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def process_facts(managed: Managed, watch: MemoryWatch) -> dict:
    watch.sample()
    return {"startup_s": round(managed.startups[0], 1) if managed.startups else None,
            "rss_after_start_mb": round(watch.at_start.get(managed.name, 0.0), 0) or None,
            "rss_mb": round(rss_mb(managed.pid), 0) if managed.running else None,
            "peak_rss_mb": round(max(watch.peak.get(managed.name, 0.0),
                                     peak_rss_mb(managed.pid) if managed.running else 0.0), 0)}


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured_load(send, scripts, processes: list[Managed], *, concurrency: int, seconds: float,
                  max_turns: int, prefix: str, think: tuple[float, float] | None = None) -> dict:
    """One load run plus the CPU time each process spent per turn, and the machine's load."""
    before = {p.name: cpu_seconds(p.pid) for p in processes if p.running}
    client_before = client_cpu()
    load_before = os.getloadavg()[0]

    def progress(result: load.LoadResult) -> None:
        sys.stderr.write(f"\r  {prefix} x{concurrency}: {result.turns} turns, "
                         f"{sum(result.errors.values())} errors   ")
        sys.stderr.flush()

    result = load.run(send, scripts, concurrency=concurrency, seconds=seconds,
                      max_turns=max_turns, prefix=prefix, progress=progress, think=think)
    sys.stderr.write("\r")
    summary = result.summary()
    turns = max(1, result.turns)
    spent: dict[str, float] = {}
    for p in processes:
        if p.running and p.name in before:  # "Rasa server 1", "Rasa server 2": one "Rasa server"
            group = re.sub(r" \d+$", "", p.name)
            spent[group] = spent.get(group, 0.0) + cpu_seconds(p.pid) - before[p.name]
    summary["cpu_ms_per_turn"] = {name: round(seconds * 1000 / turns, 1) for name, seconds in spent.items()}
    summary["cpu_ms_per_turn"]["bench client"] = round((client_cpu() - client_before) * 1000 / turns, 1)
    if think is not None:
        summary["think_seconds"] = list(think)
    summary["loadavg_1m_before"] = round(load_before, 2)
    say(f"  {prefix} x{concurrency}: {summary['turns_per_s']} turns/s, p50 {summary['p50_ms']} ms, "
        f"p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms, errors {summary['errors']}"
        f" (load average {load_before:.1f})")
    return summary


def warm_up(send, scripts, turns: int = 40) -> None:
    load.run(send, scripts, concurrency=2, seconds=30, max_turns=turns, prefix="warmup")


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


# -- the table --------------------------------------------------------------------------------
def fmt(value, suffix="") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}{suffix}" if abs(value) < 10 else f"{value:.0f}{suffix}"
    return f"{value}{suffix}"


def pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def print_table(report: dict) -> None:
    out = sys.stdout
    out.write(f"\nbench {report['started_at']}  commit {report['commit']}  model {report.get('model')}  "
              f"{report['machine']['cpus']} CPUs, load average {report['machine']['loadavg_start']} -> "
              f"{report['machine']['loadavg_end']}\n")
    if "nlu" in report:
        out.write("\nNLU (intent)                in-scope acc  macro F1  OOS recall   en acc / OOS    nl acc / OOS   parse p50\n")
        for name, r in report["nlu"].items():
            langs = r["per_language"]
            cells = []
            for lang in ("en", "nl"):
                f = langs.get(lang)
                cells.append(f"{pct(f['in_scope_accuracy']):>6} / {pct(f['out_of_scope_recall']):>6}" if f else f"{'-':>15}")
            out.write(f"  {name:<25} {pct(r['in_scope_accuracy']):>10}  {r['macro_f1']:8.3f}  "
                      f"{pct(r['out_of_scope_recall']):>10}  {cells[0]:>15} {cells[1]:>15}  "
                      f"{r['latency_ms']['p50']:6.1f} ms\n")
    stores = report.get("tracker_store")
    if stores:
        out.write(f"\nTracker store per turn ({stores['conversations']} conversations x "
                  f"{stores['turns_per_conversation']} turns)   CPU ms   wall ms\n")
        for database in ("sqlite", "postgresql"):
            for store, label in (("sql", "Rasa's SQLTrackerStore"), ("cached", "CachedSQLTrackerStore")):
                r = stores.get(database, {}).get(store)
                if r:
                    out.write(f"  {database:<10} {label:<38} {r['cpu_ms_per_turn']:7.2f}  {r['wall_ms_per_turn']:7.2f}\n")
            if "skipped" in stores.get(database, {}):
                out.write(f"  {database:<10} skipped: {stores[database]['skipped']}\n")
    turns = report.get("turns", {})
    if turns:
        out.write("\nTurns                 conc  turns/s   p50 ms   p95 ms   p99 ms  errors  CPU ms/turn: actions + Rasa + handoff (client)\n")
        for label, runs in (("full stack", turns.get("full_stack", {})),
                            ("stock rasa init", turns.get("stock", {})),
                            ("full stack, paced", turns.get("paced", {}))):
            for c, r in runs.items():
                cpu = r.get("cpu_ms_per_turn", {})
                cpu_text = " + ".join(fmt(v) for k, v in cpu.items() if k not in ("Twilio stand-in", "bench client"))
                cpu_text += f" ({fmt(cpu.get('bench client'))})"
                out.write(f"  {label:<19} {c:>4}  {r['turns_per_s']:7.1f}  {fmt(r['p50_ms']):>7}  "
                          f"{fmt(r['p95_ms']):>7}  {fmt(r['p99_ms']):>7}  {r['errors']:>6}  {cpu_text}\n")
        for c, r in turns.get("full_stack", {}).items():
            steps = ", ".join(f"{step}: {fmt(s['p50_ms'])}/{fmt(s['p95_ms'])}"
                              for step, s in r.get("by_step", {}).items())
            if steps:
                out.write(f"  full stack x{c} p50/p95 ms by script step: {steps}\n")
        for c, ratio in turns.get("ratio", {}).items():
            out.write(f"  throughput ratio full stack / stock at {c:>2}: {ratio:.2f}x\n")
        for c, r in turns.get("paced", {}).items():
            out.write(f"  (closed loop: each conversation sends its next turn as soon as it is answered; "
                      f"paced: {r['think_seconds'][0]}-{r['think_seconds'][1]} s think time per turn)\n")
    if "ablation" in report:
        out.write("\nRasa fixes (full stack, 8 conversations)   turns/s   p95 ms   Rasa CPU ms/turn   actions CPU ms/turn\n")
        for name, r in report["ablation"].items():
            cpu = r.get("cpu_ms_per_turn", {})
            out.write(f"  {name:<40} {r['turns_per_s']:7.1f}  {fmt(r['p95_ms']):>7}  "
                      f"{fmt(cpu.get('Rasa server')):>17}  {fmt(cpu.get('action server')):>19}\n")
    if report.get("production_error"):
        out.write(f"\nProduction mode: FAILED ({report['production_error'].splitlines()[0]})\n")
    prod = report.get("production")
    if prod:
        out.write("\nProduction mode (nginx, PostgreSQL, Redis, RabbitMQ)  conc  turns/s   p50 ms   p95 ms   p99 ms  errors\n")
        for replicas in ("1", "2"):
            for c, r in prod[replicas].items():
                out.write(f"  {replicas} replica(s) per tier{'':<29} {c:>4}  {r['turns_per_s']:7.1f}  "
                          f"{fmt(r['p50_ms']):>7}  {fmt(r['p95_ms']):>7}  {fmt(r['p99_ms']):>7}  {r['errors']:>6}\n")
        for c, ratio in prod["scaling"].items():
            out.write(f"  scaling from 1 to 2 replicas at {c:>2} conversations: {ratio:.2f}x\n")
    h = report.get("handoff", {})
    if h:
        out.write("\nHandoff\n")
        for key, label in (("notify_idle", "escalation -> console (idle)"),
                           ("notify_paced", "escalation -> console (8 paced)"),
                           ("notify_loaded", "escalation -> console (8 closed loop)")):
            if key in h:
                r = h[key]
                out.write(f"  {label:<34} p50 {fmt(r['p50_ms'])} ms, p95 {fmt(r['p95_ms'])} ms, "
                          f"n {r['n']}, missed {r['missed']}\n")
        if "claims" in h:
            r = h["claims"]
            out.write(f"  claim contention: {r['agents']} agents x {r['handoffs']} handoffs: "
                      f"{r['claimed']} claimed, once each {r['claimed_once']}, max/agent "
                      f"{r['max_per_agent']} (limit {r['limit_per_agent']}), statuses {r['status_counts']}, "
                      f"p50 {fmt(r['p50_ms'])} ms, p95 {fmt(r['p95_ms'])} ms, 5xx {r['server_errors']}\n")
        for key in ("sms_bot", "sms_help"):
            if key in h:
                r = h[key]
                out.write(f"  SMS webhook ({r['kind']}, signed, x{r['concurrency']}): {r['webhooks_per_s']} req/s, "
                          f"p50 {fmt(r['p50_ms'])} ms, p95 {fmt(r['p95_ms'])} ms, {r['status_counts']}, "
                          f"all replied {r['phones_all_replied']} (outbox drained {r['outbox_drained_s']} s)\n")
    if report.get("processes"):
        out.write("\nProcesses                    start-up s   RSS after start MB   RSS at end MB   peak RSS MB\n")
        for name, r in report["processes"].items():
            out.write(f"  {name:<27} {fmt(r['startup_s']):>10} {fmt(r.get('rss_after_start_mb')):>20} "
                      f"{fmt(r['rss_mb']):>15} {fmt(r['peak_rss_mb']):>13}\n")
    if report.get("training"):
        out.write("\nTraining\n")
        for name, seconds in report["training"].items():
            out.write(f"  {name:<40} {seconds:.0f} s\n")
    if report.get("targets"):
        out.write("\nTargets\n")
        for name, r in report["targets"].items():
            out.write(f"  {'MET ' if r['met'] else 'MISS'}  {name:<46} {r['value']} (target {r['target']})\n")
    out.write(f"\nfigures: {report.get('written_to')}\n")
    out.flush()


def targets(report: dict) -> dict:
    found = {}
    full = report.get("turns", {}).get("full_stack", {})
    if "8" in full:
        found["full-stack turn p95 at 8 conversations, closed loop (ms)"] = {
            "value": full["8"]["p95_ms"], "target": f"<= {TARGETS['p95_ms_at_8']}",
            "met": full["8"]["p95_ms"] is not None and full["8"]["p95_ms"] <= TARGETS["p95_ms_at_8"]}
    paced = report.get("turns", {}).get("paced", {}).get("8")
    if paced:
        found["full-stack turn p95 at 8 conversations, paced (ms)"] = {
            "value": paced["p95_ms"], "target": f"<= {TARGETS['p95_ms_at_8']}",
            "met": paced["p95_ms"] is not None and paced["p95_ms"] <= TARGETS["p95_ms_at_8"]
            and paced["errors"] == 0}
    if full:
        best = max(r["turns_per_s"] for r in full.values())
        found["full-stack throughput (best level, turns/s)"] = {
            "value": best, "target": f">= {TARGETS['turns_per_s']}", "met": best >= TARGETS["turns_per_s"]}
    ratio = report.get("turns", {}).get("ratio", {})
    if "8" in ratio:
        found["throughput vs stock rasa init at 8"] = {
            "value": ratio["8"], "target": f">= {TARGETS['ratio_vs_stock']}",
            "met": ratio["8"] >= TARGETS["ratio_vs_stock"]}
    h = report.get("handoff", {})
    for key, label in (("notify_idle", "idle"), ("notify_paced", "8 paced conversations"),
                       ("notify_loaded", "8 closed-loop conversations")):
        if key in h and h[key]["p95_ms"] is not None:
            found[f"console notification p95 ({label}, ms)"] = {
                "value": h[key]["p95_ms"], "target": f"<= {TARGETS['notify_p95_ms']}",
                "met": h[key]["p95_ms"] <= TARGETS["notify_p95_ms"] and h[key]["missed"] == 0}
    errors = sum(r["errors"] for r in full.values())
    if full:
        found["full-stack errors"] = {"value": errors, "target": "0", "met": errors == 0}
    return found


# -- main -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="per load run (default 20)")
    parser.add_argument("--max-turns", type=int, default=5000, help="per load run")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--customers", type=int, default=64, help="generated customers to talk as")
    parser.add_argument("--skip", default="", help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="short runs (8 s, fewer samples)")
    parser.add_argument("--ablation", action="store_true",
                        help="also measure each Rasa fix of bot/rasa_run.py switched off")
    parser.add_argument("--handoff-workers", type=int, default=1)
    parser.add_argument("--rasa-fixes", default=None, help="BOT_RASA_FIXES for the stack")
    parser.add_argument("--rasa-processes", type=int, default=2,
                        help="Rasa servers of the stack, each conversation on one (default 2, as make demo)")
    parser.add_argument("--tracker", choices=list(stacks.TRACKER_STORES), default="cached",
                        help="the Rasa tracker store: cached (the project's), sql (Rasa's own), memory")
    parser.add_argument("--model", type=Path, default=None,
                        help="serve this model (with --skip train; default: the current data's)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - set(SECTIONS):
        parser.error(f"--skip: unknown {sorted(skip - set(SECTIONS))}")
    if args.quick:
        args.seconds = min(args.seconds, 8)
    levels = [int(c) for c in args.concurrency.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    report: dict = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_start": round(os.getloadavg()[0], 2)},
        "settings": {"seconds": args.seconds, "concurrency": levels, "customers": args.customers,
                     "handoff_workers": args.handoff_workers, "tracker": args.tracker,
                     "rasa_processes": args.rasa_processes,
                     "rasa_fixes": args.rasa_fixes or os.environ.get("BOT_RASA_FIXES", "all")},
        "targets_defined": TARGETS, "processes": {}, "training": {},
    }
    # Honest training times: Rasa's training cache (.rasa/cache) would reuse earlier work.
    os.environ["RASA_CACHE_DIRECTORY"] = str(folder / "rasa-cache")
    watch = MemoryWatch().start()
    ours = baseline = None
    started = time.monotonic()
    try:
        # -- model: train it (timed) or take the current one
        if "train" not in skip:
            t0 = time.monotonic()
            model = train(out=folder / "models", name=f"bench-{fingerprint()}", quiet=True)
            report["training"]["this bot (config.yml, rasa train)"] = round(time.monotonic() - t0, 1)
        else:
            model = args.model or current_model()
        report["model"] = model.name
        if "nlu" not in skip:
            report["nlu"] = nlu.evaluate(model)
        if "tracker" not in skip:
            report["tracker_store"] = tracker.compare(conversations=30 if args.quick else 100)
        need_stack = "turns" not in skip or "handoff" not in skip or args.ablation
        if need_stack:
            ours = stacks.build(folder / "stack", model=model, customers=args.customers,
                                workers=args.handoff_workers, tracker=args.tracker,
                                rasa_processes=args.rasa_processes,
                                rasa_fixes=args.rasa_fixes)
            watch.watch(*ours.processes())
        if "baseline" not in skip and "turns" not in skip:
            baseline = stock.build(folder / "stock")
            report["training"]["stock rasa init (create + train, default config)"] = round(baseline.init_seconds, 1)
            report["baseline_notes"] = baseline.notes
            watch.watch(*baseline.processes())
        if "turns" not in skip:
            customers = ours.customers

            def ours_scripts(rng):
                return billing_script(rng.choice(customers), rng)

            send_ours = load.handoff_sender(ours.public_url)
            mine = [ours.actions, *ours.rasas, ours.handoff]
            say("warming up ...")
            warm_up(send_ours, ours_scripts)
            if baseline is not None:
                send_stock = load.rasa_sender(baseline.rasa.url)
                warm_up(send_stock, stock_script)
            report["turns"] = {"full_stack": {}, "stock": {}, "ratio": {}}
            for c in levels:
                report["turns"]["full_stack"][str(c)] = measured_load(
                    send_ours, ours_scripts, mine, concurrency=c, seconds=args.seconds,
                    max_turns=args.max_turns, prefix="full stack")
                if baseline is not None:
                    report["turns"]["stock"][str(c)] = measured_load(
                        send_stock, stock_script, baseline.processes(), concurrency=c,
                        seconds=args.seconds, max_turns=args.max_turns, prefix="stock rasa")
                    a = report["turns"]["full_stack"][str(c)]["turns_per_s"]
                    b = report["turns"]["stock"][str(c)]["turns_per_s"]
                    report["turns"]["ratio"][str(c)] = round(a / b, 2) if b else None
            report["turns"]["paced"] = {"8": measured_load(
                send_ours, ours_scripts, mine, concurrency=8, seconds=max(args.seconds, 20) * 1.5,
                max_turns=args.max_turns, prefix="full stack paced", think=PACED_THINK)}
        if baseline is not None:
            for managed in baseline.processes():
                report["processes"][managed.name] = process_facts(managed, watch)
            baseline.stop()
            baseline = None
        if "handoff" not in skip:
            count = 10 if args.quick else 20
            say("handoff: escalation -> console notification (idle) ...")
            h = report["handoff"] = {}
            h["notify_idle"] = handoff_bench.notification_latency(ours, count=count)
            say(f"  p50 {h['notify_idle']['p50_ms']} ms, p95 {h['notify_idle']['p95_ms']} ms")
            say("handoff: escalation -> console notification (8 paced conversations) ...")
            h["notify_paced"] = handoff_bench.notification_latency(ours, count=count, background=8,
                                                                   think=PACED_THINK)
            say(f"  p50 {h['notify_paced']['p50_ms']} ms, p95 {h['notify_paced']['p95_ms']} ms")
            say("handoff: escalation -> console notification (8 closed-loop conversations) ...")
            h["notify_loaded"] = handoff_bench.notification_latency(ours, count=count, background=8)
            say(f"  p50 {h['notify_loaded']['p50_ms']} ms, p95 {h['notify_loaded']['p95_ms']} ms")
            say("handoff: claim contention ...")
            h["claims"] = handoff_bench.claim_contention(ours, handoffs=20, agents=12)
            say(f"  {h['claims']['status_counts']}, claimed once each: {h['claims']['claimed_once']}")
            for kind in ("bot", "help"):
                say(f"handoff: SMS webhook throughput ({kind}) ...")
                h[f"sms_{kind}"] = handoff_bench.sms_throughput(
                    ours, kind=kind, requests=80 if args.quick else 200, concurrency=8)
                say(f"  {h[f'sms_{kind}']['webhooks_per_s']} req/s, {h[f'sms_{kind}']['status_counts']}")
        if args.ablation:
            report["ablation"] = ablation(folder, model, args, levels)
        if "production" not in skip:
            try:  # a broken production setup must not cost the figures measured so far
                report["production"] = production.scaling(
                    folder, model, levels=[c for c in levels if c > 1] or levels,
                    seconds=args.seconds, max_turns=args.max_turns,
                    measured_load=measured_load, warm_up=warm_up)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                say(f"production mode failed: {exc}")
                report["production_error"] = str(exc)[-2000:]
        if ours is not None:
            for managed in ours.processes():
                report["processes"][managed.name] = process_facts(managed, watch)
    finally:
        watch.stop()
        for running in (baseline, ours):
            if running is not None:
                running.stop()
        if args.keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report["machine"]["loadavg_end"] = round(os.getloadavg()[0], 2)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["targets"] = targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report["written_to"] = str(args.out)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    dated = args.out.with_name(f"bench-{report['started_at'].replace(':', '')[:17]}.json")
    shutil.copyfile(args.out, dated)
    print_table(report)
    return 0


def ablation(folder: Path, model: Path, args, levels: list[int]) -> dict:
    """The same load with each Rasa fix off, one stack at a time (same model, fresh stores)."""
    variants = {"plain Rasa 3.6 (no fixes)": "none",
                "validator": "validator",
                "validator + sqlite": "validator,sqlite",
                "validator + sqlite + language": "validator,sqlite,language",
                "all (+ events, connections)": "validator,sqlite,language,events,connections"}
    concurrency = 8 if 8 in levels else levels[-1]
    found = {}
    for label, fixes in variants.items():
        say(f"ablation: {label} ...")
        variant = stacks.build(folder / f"ablation-{fixes.replace(',', '-')}", model=model,
                               customers=16, rasa_fixes=fixes)
        try:
            customers = variant.customers
            send = load.handoff_sender(variant.public_url)

            def scripts(rng):
                return billing_script(rng.choice(customers), rng)

            warm_up(send, scripts)
            found[label] = measured_load(send, scripts, [variant.actions, *variant.rasas, variant.handoff],
                                         concurrency=concurrency, seconds=args.seconds,
                                         max_turns=args.max_turns, prefix=f"ablation {fixes}")
        finally:
            variant.stop()
    return found


if __name__ == "__main__":
    sys.exit(main())
