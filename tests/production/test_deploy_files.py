"""The deployment files (deploy/, docs/deployment.md) agree with the code. Fast: no cluster,
no systemd, no services; nginx only checks the syntax of the site config.

- every YAML file under deploy/ parses;
- every HANDOFF_*/BILLING_* variable they name is a field of handoff.core.config.Settings or
  billing_core.config.BillingSettings (prefix + field name, case-insensitive), or a variable
  the code reads from the environment itself;
- every module started with `python -m` (systemd ExecStart, Kubernetes commands, the guide's
  commands) and every module imported by a `python -c` program is importable from the repo;
- `nginx -t` accepts deploy/nginx/billing-bot.conf inside a minimal main configuration;
- the pieces that must match do: fronts and ports, Rasa's stores and bot/serve.py's
  ProductionStores, the event queue name, probes, Secret and ConfigMap names.
"""
import ast
import importlib
import importlib.util
import json
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from billing_core.config import BillingSettings
from bot.serve import ProductionStores
from handoff.core.config import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
GUIDE = REPO / "docs" / "deployment.md"
NGINX = Path("/usr/sbin/nginx")
SITE = DEPLOY / "nginx" / "billing-bot.conf"
ENV_EXAMPLE = DEPLOY / "systemd" / "billing.env.example"
RASA_ENDPOINTS = DEPLOY / "systemd" / "rasa-endpoints.yml"
HELM_VALUES = DEPLOY / "helm" / "rasa-values.yaml"
K8S = DEPLOY / "kubernetes"

VARIABLE = re.compile(r"\b(?:HANDOFF|BILLING)_[A-Z0-9_]*[A-Z0-9]\b")
ENVIRON_READ = re.compile(r"""os\.environ(?:\.get)?\s*[\[(]\s*["']([A-Z][A-Z0-9_]*)["']""")


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


def deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def load_all(path: Path) -> list:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(path.read_text()) if doc is not None]


def k8s_objects() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in load_all(path)]


def k8s_object(kind: str, name: str) -> dict:
    found = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found in {K8S}"
    return found[0]


def env_example() -> dict[str, str]:
    """KEY=value lines of the EnvironmentFile example (systemd syntax, quotes removed)."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = "".join(shlex.split(value)) if value else ""
    return values


def setting_names() -> set[str]:
    names = set()
    for settings in (Settings, BillingSettings):
        prefix = settings.model_config["env_prefix"]
        names |= {(prefix + field).upper() for field in settings.model_fields}
    return names


def environment_reads() -> set[str]:
    """Variables the code reads with os.environ itself (make prod-up's ports, the demo password)."""
    names = set()
    for package in ("billing_core", "handoff", "bot"):
        for path in (REPO / package).rglob("*.py"):
            names |= set(ENVIRON_READ.findall(path.read_text(encoding="utf-8")))
    return names


# -- YAML ------------------------------------------------------------------------------------
def test_there_are_yaml_files_in_every_deploy_folder():
    folders = {p.parent.name for p in yaml_files()}
    assert {"systemd", "kubernetes", "helm"} <= folders, folders


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path):
    documents = load_all(path)
    assert documents, f"{path} has no YAML document"
    assert all(isinstance(doc, dict) for doc in documents), path


# -- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*deploy_files(), GUIDE], ids=lambda p: str(p.relative_to(REPO)))
def test_every_variable_named_is_a_real_setting(path):
    named = set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    unknown = {name for name in named if name.upper() not in setting_names()} - environment_reads()
    assert not unknown, f"{path.relative_to(REPO)} names variables no code reads: {sorted(unknown)}"


def test_the_guide_and_the_environment_file_name_the_settings_that_matter():
    required = {"BILLING_ENVIRONMENT", "BILLING_DATABASE_URL", "BILLING_SECRET_KEY",
                "HANDOFF_ENVIRONMENT", "HANDOFF_DATABASE_URL", "HANDOFF_SECRET_KEY",
                "HANDOFF_RASA_URL", "HANDOFF_REDIS_URL", "HANDOFF_RASA_EVENTS_URL",
                "HANDOFF_RASA_EVENTS_QUEUE", "HANDOFF_PUBLIC_URL", "HANDOFF_TWILIO_AUTH_TOKEN",
                "HANDOFF_TWILIO_API_BASE_URL"}
    for path in (GUIDE, ENV_EXAMPLE):
        missing = required - set(VARIABLE.findall(path.read_text()))
        assert not missing, f"{path.relative_to(REPO)} does not name {sorted(missing)}"


def test_the_environment_file_holds_placeholders_not_dev_defaults():
    values = env_example()
    assert values["BILLING_ENVIRONMENT"] == values["HANDOFF_ENVIRONMENT"] == "production"
    for key in ("BILLING_SECRET_KEY", "HANDOFF_SECRET_KEY", "HANDOFF_TWILIO_AUTH_TOKEN"):
        assert values[key] == "CHANGE-ME", key
    for key, value in values.items():
        if key.endswith("PASSWORD") or (key.endswith("_URL") and "@" in value):
            assert "CHANGE-ME" in value, f"{key}: a secret that is not a placeholder"


def test_the_environment_file_values_are_accepted_by_the_settings(monkeypatch):
    """With the placeholders filled in, both settings classes take the example as it is."""
    values = env_example()
    for key, value in values.items():
        monkeypatch.setenv(key, value.replace("CHANGE-ME", "s3cret-from-the-operator"))
    handoff = Settings()
    assert handoff.rasa_replica_urls == ["http://127.0.0.1:5006", "http://127.0.0.1:5007"]
    assert handoff.environment == "production" and handoff.redis_url and handoff.rasa_events_url
    assert BillingSettings().environment == "production"


def test_kubernetes_secrets_hold_placeholders_only():
    for secret in (o for o in k8s_objects() if o["kind"] == "Secret"):
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"Secret {secret['metadata']['name']}: {key}"


# -- commands --------------------------------------------------------------------------------
def python_invocations(tokens: list[str]) -> list[tuple[str, str]]:
    """('-m', module) or ('-c', program) after a Python interpreter in a command line."""
    found = []
    for index, token in enumerate(tokens[:-2]):
        if Path(token.lstrip("-@+!")).name.startswith("python") and tokens[index + 1] in ("-m", "-c"):
            found.append((tokens[index + 1], tokens[index + 2]))
    return found


def systemd_commands() -> list[tuple[str, list[str]]]:
    commands = []
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in path.read_text().splitlines():
            if line.startswith("ExecStart="):
                commands.append((path.name, shlex.split(line.partition("=")[2])))
    return commands


def yaml_commands() -> list[tuple[str, list[str]]]:
    commands = []

    def walk(node, where):
        if isinstance(node, dict):
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            if node and all(isinstance(item, str) for item in node):
                commands.append((where, node))
            for value in node:
                walk(value, where)

    for path in yaml_files():
        for document in load_all(path):
            walk(document, path.name)
    return commands


def guide_commands() -> list[tuple[str, list[str]]]:
    text = GUIDE.read_text()
    return [(GUIDE.name, ["python", "-m", module])
            for module in re.findall(r"python -m ([A-Za-z_][\w.]*)", text)]


def imported_modules(program: str) -> list[tuple[str, list[str]]]:
    modules = []
    for node in ast.walk(ast.parse(program)):
        if isinstance(node, ast.ImportFrom):
            modules.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            modules += [(alias.name, []) for alias in node.names]
    return modules


def all_invocations() -> list[tuple[str, str, str]]:
    return sorted({(where, flag, argument)
                   for where, tokens in systemd_commands() + yaml_commands() + guide_commands()
                   for flag, argument in python_invocations(tokens)})


def test_the_commands_start_every_process():
    modules = {argument for _, flag, argument in all_invocations() if flag == "-m"}
    assert {"rasa_sdk", "bot.rasa_run", "handoff", "billing_core"} <= modules, modules
    programs = [argument for _, flag, argument in all_invocations() if flag == "-c"]
    assert any("handoff.migrate" in program for program in programs), programs


@pytest.mark.parametrize("where,flag,argument", all_invocations(),
                         ids=lambda v: v if len(v) < 40 else v[:37] + "...")
def test_every_module_started_is_importable(where, flag, argument):
    if flag == "-m":
        assert importlib.util.find_spec(argument) is not None, f"{where}: no module {argument}"
        return
    for module, names in imported_modules(argument):
        assert importlib.util.find_spec(module) is not None, f"{where}: no module {module}"
        if names:
            loaded = importlib.import_module(module)
            missing = [name for name in names if not hasattr(loaded, name)]
            assert not missing, f"{where}: {module} has no {missing}"


def test_systemd_units_take_their_port_from_the_instance_and_read_the_environment_file():
    for path in sorted((DEPLOY / "systemd").glob("*@.service")):
        text = path.read_text()
        exec_start = next(l for l in text.splitlines() if l.startswith("ExecStart="))
        assert "%i" in exec_start, path.name
        assert "127.0.0.1" in exec_start or "Environment=SANIC_HOST=127.0.0.1" in text, path.name
        assert "EnvironmentFile=/etc/billing-bot/billing.env" in text, path.name
        # systemd substitutes ${NAME} in ExecStart from the EnvironmentFile
        missing = set(re.findall(r"\$\{(\w+)\}", exec_start)) - set(env_example())
        assert not missing, f"{path.name}: {sorted(missing)} not in {ENV_EXAMPLE.name}"
    actions = (DEPLOY / "systemd" / "billing-actions@.service").read_text()
    assert "Environment=SANIC_HOST=127.0.0.1" in actions  # rasa-sdk listens on 0.0.0.0 otherwise
    assert "Requires=billing-migrate.service" in (DEPLOY / "systemd" / "billing-handoff@.service").read_text()


# -- nginx -------------------------------------------------------------------------------------
@pytest.mark.skipif(not NGINX.exists(), reason=f"{NGINX} is missing (scripts/setup.sh nginx)")
def test_nginx_accepts_the_site_config(tmp_path):
    site = SITE.read_text()
    assert not re.search(r"^\s*include\b", site, re.M), "the site config is meant to be self-contained"
    (tmp_path / "site.conf").write_text(site.replace("/var/log/nginx/", f"{tmp_path}/"))
    temp = "\n".join(f"    {kind}_temp_path {tmp_path}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(f"""
worker_processes 1;
pid {tmp_path}/n.pid;
error_log {tmp_path}/e.log;
events {{ worker_connections 64; }}
http {{
{temp}
    include {tmp_path}/site.conf;
}}
""")
    result = subprocess.run([str(NGINX), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "e.log"),
                             "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def upstream_ports(site: str, name: str) -> list[int]:
    block = re.search(r"upstream %s \{(.*?)\}" % name, site, re.S).group(1)
    return [int(port) for port in re.findall(r"server 127\.0\.0\.1:(\d+)", block)]


def test_the_fronts_and_replicas_match_the_settings():
    site, values = SITE.read_text(), env_example()
    loopback_fronts = {int(port) for port in re.findall(r"listen 127\.0\.0\.1:(\d+);", site)}
    assert urlsplit(values["HANDOFF_RASA_URL"]).port in loopback_fronts
    action_url = load_all(RASA_ENDPOINTS)[0]["action_endpoint"]["url"]
    assert urlsplit(action_url).port in loopback_fronts and action_url.endswith("/webhook")
    replicas = [urlsplit(url).port for url in json.loads(values["HANDOFF_RASA_REPLICA_URLS"])]
    assert replicas == upstream_ports(site, "billing_rasa")
    # the guide enables exactly the instances nginx balances over
    guide = GUIDE.read_text()
    for unit, upstream in (("actions", "billing_actions"), ("rasa", "billing_rasa"),
                           ("handoff", "billing_handoff")):
        enabled = [int(p) for p in re.findall(rf"billing-{unit}@(\d+)", guide)]
        assert sorted(set(enabled)) == upstream_ports(site, upstream), unit
    # WebSockets pass, connection errors go to the next replica, the internal tiers stay local
    assert site.count("proxy_set_header Upgrade $http_upgrade;") == 3
    assert site.count("proxy_next_upstream error timeout http_502 http_503;") == 3
    assert "proxy_read_timeout 3600s;" in site
    assert re.search(r"^\s*listen 80;", site, re.M)


# -- Rasa's stores -----------------------------------------------------------------------------
def reference_endpoints() -> dict:
    return ProductionStores(tracker_url="postgresql://u:p@db:5432/rasa", lock_url="redis://r:6379/1",
                            events_url="amqp://u:p@mq:5672/", events_queue="q").endpoints()


def test_the_lock_store_is_the_projects_and_importable():
    """Rasa imports a custom lock store by its dotted path (from the checkout on PYTHONPATH)."""
    kind = reference_endpoints()["lock_store"]["type"]
    if "." in kind:
        assert importlib.util.find_spec(kind.rpartition(".")[0]) is not None, kind
        unit = (DEPLOY / "systemd" / "billing-rasa@.service").read_text()
        assert "PYTHONPATH=/opt/billing-bot" in unit and "WorkingDirectory=/opt/billing-bot" in unit
        helm_env = {e["name"]: e.get("value") for e in load_all(HELM_VALUES)[0]["extraEnv"]}
        assert helm_env.get("PYTHONPATH"), "the Rasa pods must import the lock store"


def test_systemd_rasa_endpoints_match_production_stores():
    ours, reference = load_all(RASA_ENDPOINTS)[0], reference_endpoints()
    for store in ("tracker_store", "lock_store", "event_broker"):
        assert set(ours[store]) == set(reference[store]), store
    assert ours["tracker_store"]["type"] == reference["tracker_store"]["type"]
    assert ours["tracker_store"]["dialect"] == "postgresql"
    assert ours["lock_store"]["type"] == reference["lock_store"]["type"]
    assert ours["lock_store"]["db"] == 1 and ours["lock_store"]["key_prefix"].isalnum()
    assert ours["event_broker"]["type"] == "pika"
    assert ours["event_broker"]["queues"] == ["${HANDOFF_RASA_EVENTS_QUEUE}"]
    text = "\n".join(l for l in RASA_ENDPOINTS.read_text().splitlines() if not l.lstrip().startswith("#"))
    variables = set(re.findall(r"\$\{(\w+)\}", text))
    assert variables <= set(env_example()), variables - set(env_example())


def test_helm_values_configure_the_same_stores_and_queue():
    values = load_all(HELM_VALUES)[0]
    endpoints = values["applicationSettings"]["endpoints"]
    tracker, lock, broker = endpoints["trackerStore"], endpoints["lockStore"], endpoints["eventBroker"]
    assert tracker["enabled"] and tracker["type"] == reference_endpoints()["tracker_store"]["type"]
    assert tracker["dialect"] == "postgresql"
    assert lock["enabled"] and lock["type"] == reference_endpoints()["lock_store"]["type"]
    assert lock["db"] == "1" and lock["key_prefix"].isalnum()
    assert broker["enabled"] and broker["type"] == "pika"
    queue = k8s_object("ConfigMap", "billing-bot-config")["data"]["HANDOFF_RASA_EVENTS_QUEUE"]
    assert broker["queues"] == [queue] == [env_example()["HANDOFF_RASA_EVENTS_QUEUE"]]
    assert "rest" in values["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    # the API's token is the handoff service's, from its Secret
    args = values["args"]
    assert "--enable-api" in args and "--auth-token=$(HANDOFF_RASA_TOKEN)" in args
    token_env = {e["name"]: e for e in values["extraEnv"]}["HANDOFF_RASA_TOKEN"]
    assert token_env["valueFrom"]["secretKeyRef"] == {"name": "billing-bot-handoff",
                                                       "key": "HANDOFF_RASA_TOKEN"}
    assert not values["postgresql"]["install"] and values["postgresql"]["external"]["enabled"]
    assert not values["redis"]["install"] and not values["rabbitmq"]["install"]
    action_url = urlsplit(values["rasa-action-server"]["external"]["url"])
    service = k8s_object("Service", "billing-actions")
    assert action_url.hostname == "billing-actions"
    assert action_url.port == service["spec"]["ports"][0]["port"] and action_url.path == "/webhook"
    rasa_url = urlsplit(k8s_object("ConfigMap", "billing-bot-config")["data"]["HANDOFF_RASA_URL"])
    assert rasa_url.port == values["applicationSettings"]["port"]


# -- Kubernetes --------------------------------------------------------------------------------
def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_handoff_deployment_probes_and_ingress():
    handoff = container(k8s_object("Deployment", "billing-handoff"))
    assert handoff["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert handoff["readinessProbe"]["httpGet"]["path"] in ("/healthz", "/readyz")
    assert handoff["command"][1:5] == ["-m", "handoff", "--host", "0.0.0.0"]
    ingress = k8s_object("Ingress", "billing-handoff")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert "error" in annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"]
    actions = container(k8s_object("Deployment", "billing-actions"))
    assert actions["readinessProbe"]["httpGet"]["path"] == "/health"


def test_the_migration_job_migrates_both_stores():
    spec = k8s_object("Job", "billing-migrate")["spec"]["template"]["spec"]
    commands = [c["command"] for c in spec["initContainers"] + spec["containers"]]
    assert commands[0][1:] == ["-m", "billing_core", "migrate"]
    assert commands[1][1] == "-c" and "handoff.migrate" in commands[1][2]
    assert spec["restartPolicy"] == "Never"


def test_every_configmap_and_secret_referenced_is_defined():
    defined = {(o["kind"], o["metadata"]["name"]) for o in k8s_objects()}
    for workload in (o for o in k8s_objects() if o["kind"] in ("Deployment", "Job")):
        spec = workload["spec"]["template"]["spec"]
        for item in spec.get("initContainers", []) + spec["containers"]:
            for source in item.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in defined
                if "secretRef" in source:
                    assert ("Secret", source["secretRef"]["name"]) in defined
    helm = load_all(HELM_VALUES)[0]
    for name in (helm["global"]["postgresql"]["existingSecret"], helm["redis"]["existingSecret"],
                 helm["rabbitmq"]["auth"]["existingPasswordSecret"]):
        assert ("Secret", name) in defined, name


def test_the_guide_states_measured_scaling_figures():
    section = GUIDE.read_text().split("## Measured scaling", 1)[1].split("\n## ", 1)[0]
    assert "TODO" not in section and "replicas per tier" in section and "×" in section
