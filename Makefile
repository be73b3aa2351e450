# Billing support bot. The two commands: `make demo` and `make test`.
# Everything sets itself up on first use (scripts/setup.sh, idempotent and quick when done).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Quiet and private, for every recipe (see design.md, "Facts about Rasa").
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

APP_PY   := .venv-app/bin/python
RASA     := .venv-rasa/bin/rasa
SETUP    := bash scripts/setup.sh
SERVICES := bash scripts/ensure-services.sh

PYTEST_ARGS ?=
DATA        ?=
BENCH_ARGS  ?=

.PHONY: help setup setup-app setup-rasa setup-browser services constraints \
        demo demo-setup demo-db demo-serve prod-up \
        test train nlu-eval bench clean distclean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# ------------------------------------------------------------------ setup
setup: ## create/refresh .venv-rasa, .venv-app and chromium (no-op when up to date)
	@$(SETUP) all

setup-app: ## only .venv-app (project, action server, handoff service, tests)
	@$(SETUP) app

setup-rasa: ## only .venv-rasa (rasa 3.6.21)
	@$(SETUP) rasa

setup-browser: ## only /usr/bin/chromium (apt-get, for Playwright tests)
	@$(SETUP) browser

services: ## start PostgreSQL, Redis, RabbitMQ on 127.0.0.1 if they are down
	@$(SERVICES)

constraints: ## re-freeze constraints/*.txt from the venvs (after changing dependencies)
	@$(SETUP) freeze

# ------------------------------------------------------------------ demo
# demo = demo-setup -> demo-db -> demo-serve (trains first when the model is missing).
demo: demo-setup demo-db demo-serve ## set up, seed, train if needed, start everything on 127.0.0.1

demo-serve: demo-db
	$(APP_PY) -m handoff.demo

demo-setup:
	@$(SETUP) rasa app

demo-db: demo-setup
	$(APP_PY) -m billing_core migrate
	$(APP_PY) -m billing_core seed --demo

# ------------------------------------------------------------------ production mode
prod-up: ## production mode on 127.0.0.1: PostgreSQL, Redis, RabbitMQ, 2 replicas per tier behind nginx (REPLICAS=n)
	@$(SETUP) all
	@$(SERVICES)
	$(APP_PY) -m handoff.prod

# ------------------------------------------------------------------ test
# pytest exit code 5 (no tests collected) fails like any other non-zero code.
test: ## set up everything, make sure services run, run every test (PYTEST_ARGS=...)
	@$(SETUP) all
	@$(SERVICES)
	@rc=0; $(APP_PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "test: FAILED: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# ------------------------------------------------------------------ bot
train: ## train the model for the current config/domain/data (skipped when it exists)
	@$(SETUP) rasa app
	$(APP_PY) -m bot.training

nlu-eval: ## evaluate NLU on labelled JSONL: make nlu-eval DATA=path (default: held-out + ../shared/eval)
	@$(SETUP) rasa app
	PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv-rasa/bin/python -W ignore -m bot.nlu_eval \
	    $(or $(DATA),bot/eval/heldout.jsonl $(wildcard ../shared/eval/*.jsonl))

bench: ## load benchmark, also in production mode (BENCH_ARGS=..., e.g. --skip production)
	@$(SETUP) rasa app nginx
	@$(SERVICES)
	$(APP_PY) -m bench $(BENCH_ARGS)

# ------------------------------------------------------------------ cleanup
clean: ## remove caches, build output and runtime data (var/, models/, .rasa/, results/)
	find . -path ./.venv-app -prune -o -path ./.venv-rasa -prune -o -path ./.git -prune -o \
	    -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .hypothesis build dist *.egg-info var models .rasa results

distclean: clean ## also remove both venvs
	rm -rf .venv-app .venv-rasa
