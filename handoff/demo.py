"""`make demo`: the whole product on 127.0.0.1 on the embedded default (SQLite under var/).

Starts the action server, Rasa (training first if the model is missing), the local Twilio
stand-in and the handoff service, prints the URLs, and stops everything on Ctrl-C.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

from billing_core.cli import staff_password
from bot.serve import (APP_PYTHON, Server, rasa_processes, start, start_action_server, start_rasa_servers,
                       sticky_rasa_env, write_endpoints)
from bot.training import REPO, current_model, rasa_env
from handoff.admin.registry import deployed_model
from handoff.core.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HANDOFF_PORT", 8000)))
    parser.add_argument("--twilio-port", type=int, default=int(os.environ.get("TWILIO_PORT", 8099)))
    args = parser.parse_args()
    var, logs = REPO / "var", REPO / "var" / "log"
    # the model an admin activated (when trained on the current data), else the data's own
    model = deployed_model(Settings().nlu_models_dir) or current_model()
    servers: list[Server] = []

    def stop(*_):
        for server in reversed(servers):
            server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    public_url = f"http://127.0.0.1:{args.port}"
    twilio_url = f"http://127.0.0.1:{args.twilio_port}"
    try:
        print("demo: starting the action server ...", flush=True)
        servers.append(start_action_server(database_url=None, log_dir=logs, port=args.actions_port))
        endpoints = write_endpoints(var / "endpoints.yml", action_url=servers[-1].url,
                                    tracker_db=var / "rasa-tracker.db")
        count = rasa_processes()
        print(f"demo: starting {count} Rasa server(s) with {model.name} (about 15 s) ...", flush=True)
        rasas = start_rasa_servers(model=model, endpoints=endpoints, log_dir=logs,
                                   ports=[args.rasa_port + i for i in range(count)])
        servers.extend(rasas)
        rasa_urls = [server.url for server in rasas]
        # the admin console's evaluation runs the test stories against an action server of its
        # own billing database (they confirm changes; the demo customers keep their stories)
        eval_db = f"sqlite:///{var / 'eval-billing.db'}"
        if not (var / "eval-billing.db").exists():
            for step in (["migrate"], ["seed", "--demo"]):
                subprocess.run([sys.executable, "-m", "billing_core", "--database-url", eval_db, *step],
                               check=True, capture_output=True, env=rasa_env())
        servers.append(start_action_server(database_url=eval_db, log_dir=logs / "eval-actions"))
        eval_actions_url = servers[-1].url
        print("demo: starting the Twilio stand-in and the handoff service ...", flush=True)
        servers.append(start("Twilio stand-in",
                             [str(APP_PYTHON), "-m", "handoff.twilio_fake", "--port",
                              str(args.twilio_port), "--handoff-url", public_url],
                             health="/messages", port=args.twilio_port, log=logs / "twilio.log",
                             env=rasa_env()))
        servers.append(start("handoff service",
                             [str(APP_PYTHON), "-m", "handoff", "--port", str(args.port)],
                             health="/healthz", port=args.port, log=logs / "handoff.log",
                             env=rasa_env(**sticky_rasa_env(rasa_urls), HANDOFF_PUBLIC_URL=public_url,
                                          HANDOFF_TWILIO_API_BASE_URL=twilio_url,
                                          HANDOFF_NLU_TRACKER_URL=f"sqlite:///{var / 'rasa-tracker.db'}",
                                          HANDOFF_NLU_EVAL_ACTIONS_URL=eval_actions_url)))
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        stop()
    print(f"""
demo: everything runs on 127.0.0.1 (logs in var/log/, Ctrl-C stops it all)
  customer chat     {public_url}/chat
  agent console     {public_url}/console   (agent1, agent2, super1, admin1 / password: {staff_password()})
  admin console     {public_url}/admin     (admin1: review inbox, labels, retraining, models)
  text as a phone   {twilio_url}/phone
  API docs          {public_url}/docs      metrics {public_url}/metrics
  Rasa              {", ".join(rasa_urls)}  (each conversation stays on one)
  demo customers: Jane Doe 10000001 (born 12-04-1985), Sanne de Vries 10000002 (postcode 3511CD),
                  Tom Baker 10000003 (born 30-01-1978), Eva Jansen 10000004 (postcode 5611GH)
""", flush=True)
    try:
        while all(server.process.poll() is None for server in servers):
            time.sleep(1)
        print("demo: a process stopped; see var/log/", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    stop()


if __name__ == "__main__":
    main()
