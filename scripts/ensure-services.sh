#!/usr/bin/env bash
# Make sure the local PostgreSQL (5432), Redis (6379) and RabbitMQ (5672) answer on
# 127.0.0.1; start whichever is down and wait (bounded) until it answers.
#
#   scripts/ensure-services.sh [postgres|redis|rabbitmq]...   (default: all three)
#
# Waits: SERVICE_WAIT_SECONDS (default 60; RabbitMQ gets twice that, it boots slowly).
set -euo pipefail

HOST=127.0.0.1
WAIT="${SERVICE_WAIT_SECONDS:-60}"

log() { printf 'services: %s\n' "$*"; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- probes
postgres_up() { pg_isready -q -h "$HOST" -p 5432 >/dev/null 2>&1; }

redis_up() { [[ "$(timeout 3 redis-cli -h "$HOST" -p 6379 ping 2>/dev/null)" == PONG ]]; }

# An AMQP 0-9-1 protocol header must be answered by a Connection.Start method frame
# (frame type 1): a bare open port is not enough while RabbitMQ is still booting.
rabbitmq_up() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/5672" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        IFS= read -r -N 1 -t 4 b <&3 || exit 1
        [[ "$b" == $'"'"'\x01'"'"' ]]
    ' _ "$HOST" 2>/dev/null
}

# ---------------------------------------------------------------- starters
postgres_start() {
    command -v pg_ctlcluster >/dev/null 2>&1 || die "pg_ctlcluster not found: install PostgreSQL (postgresql package)."
    local ver
    ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
    [[ -n "$ver" ]] || die "no cluster under /etc/postgresql: install PostgreSQL."
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
}

redis_start() {
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found: install Redis (redis-server package)."
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

rabbitmq_start() {
    command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server not found: install RabbitMQ (rabbitmq-server package)."
    rabbitmq-server -detached
}

# ---------------------------------------------------------------- main
ensure() { # <name> <port> <wait seconds> <log hint>
    local name="$1" port="$2" wait="$3" hint="$4"
    if "${name}_up"; then
        log "$name up ($HOST:$port)"
        return
    fi
    log "$name is down on $HOST:$port; starting it…"
    "${name}_start" </dev/null || log "$name start command returned non-zero; waiting anyway"
    local t0=$SECONDS
    until "${name}_up"; do
        if (( SECONDS - t0 >= wait )); then
            die "$name did not answer on $HOST:$port within ${wait}s after starting it; see $hint"
        fi
        sleep 1
    done
    log "$name up ($HOST:$port, started in $((SECONDS - t0))s)"
}

[[ $# -gt 0 ]] || set -- postgres redis rabbitmq
for svc in "$@"; do
    case "$svc" in
        postgres|postgresql) ensure postgres 5432 "$WAIT" "/var/log/postgresql/" ;;
        redis) ensure redis 6379 "$WAIT" "/var/log/redis/ci.log" ;;
        rabbitmq|rabbit) ensure rabbitmq 5672 "$((WAIT * 2))" "/var/log/rabbitmq/" ;;
        *) die "unknown service '$svc' (use: postgres, redis, rabbitmq)" ;;
    esac
done
