#!/usr/bin/env bash
# Make sure the services the test suite needs answer on loopback; start them if stopped.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL ne répond pas : démarrage"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis ne répond pas : démarrage"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
redis-cli -h 127.0.0.1 -p 6379 ping
# The database named by the test settings (pytest creates test_dpi next to it; the bench dpi_bench).
psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw dpi || createdb -h 127.0.0.1 -U postgres dpi
