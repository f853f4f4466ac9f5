#!/usr/bin/env bash
# One entrypoint for every Airflow process of the self-managed flavour. The first argument is the role:
#
#   scheduler | webserver | triggerer   wait for the database and its migrations, then run the component
#   api-server | dag-processor          the same, for Airflow 3's components
#   migrate                             wait for the database, then `airflow db migrate` (the migration Job)
#   create-user                         wait for the migrations, then create the admin user once
#   db-clean                            wait for the migrations, then delete history older than DB_CLEAN_RETENTION_DAYS
#   log-groomer                         delete component log files older than LOG_RETENTION_DAYS, every so often
#   airflow ...                         a worker pod's task command, as the KubernetesExecutor passes it (Airflow 2)
#   python ...                          an Airflow 3 worker pod's workload, which talks to the api-server only
#
# Settings come from the environment (AIRFLOW__SECTION__KEY, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, ...).
set -euo pipefail

readonly ROLES="scheduler, webserver, triggerer, api-server, dag-processor, migrate, create-user, db-clean, log-groomer, or a task command starting with 'airflow' or 'python'"
# How long to wait for the database to accept connections, and for `airflow db migrate` to have run.
DB_WAIT_SECONDS="${DB_WAIT_SECONDS:-300}"
MIGRATION_WAIT_SECONDS="${MIGRATION_WAIT_SECONDS:-600}"

log() { echo "entrypoint: $*" >&2; }

usage() {
  log "usage: entrypoint.sh <role> [arguments]; role is one of: ${ROLES}"
}

# One connection to the metadata database with SQLAlchemy, as Airflow makes it (the URL carries sslmode=verify-full and
# the CA bundle): half a second, where `airflow db check` starts all of Airflow (3-4 s of CPU on every worker pod).
# A URL set another way (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD or _SECRET) is left to `airflow db check`.
database_answers() {
  if [[ -z "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]]; then
    airflow db check
    return
  fi
  python - <<'PY'
import os
import sys

import sqlalchemy

url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
# libpq's connect_timeout: a server that takes the TCP connection and never answers (a failover under way, a black-
# holed route) fails this try in seconds instead of hanging past the wait's deadline
# (postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT).
arguments = {"connect_timeout": 10} if url.startswith("postgres") else {}
try:
    engine = sqlalchemy.create_engine(url, pool_pre_ping=False, connect_args=arguments)
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))
except Exception as err:  # noqa: BLE001 - any failure means not yet
    print(f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}", file=sys.stderr)
    sys.exit(1)
PY
}

wait_for_database() {
  local deadline=$((SECONDS + DB_WAIT_SECONDS))
  # A new RDS instance or a restarted pod network can take a while; fail clearly instead of crash-looping fast.
  until database_answers >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "the metadata database did not answer within ${DB_WAIT_SECONDS}s; last error:"
      database_answers || true
      exit 1
    fi
    sleep 3
  done
}

# Airflow commits each migration on its own (its Alembic environment: transaction_per_migration), so a run that
# PostgreSQL aborts in a deadlock with the components still running on the old version (seen in the twin: a
# 2.11 -> 3.3 migration against two live schedulers) keeps the steps it committed, and the next attempt goes on from
# there.
MIGRATE_ATTEMPTS="${MIGRATE_ATTEMPTS:-5}"
MIGRATE_RETRY_SECONDS="${MIGRATE_RETRY_SECONDS:-5}"
# Checked before the database wait: a count that is not a whole number of at least 1 would skip the loop and pass the
# Job without migrating.
check_migrate_settings() {
  if ! [[ "${MIGRATE_ATTEMPTS}" =~ ^[1-9][0-9]*$ && "${MIGRATE_RETRY_SECONDS}" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    log "MIGRATE_ATTEMPTS must be a whole number of at least 1 (got '${MIGRATE_ATTEMPTS}') and MIGRATE_RETRY_SECONDS a number of seconds (got '${MIGRATE_RETRY_SECONDS}')"
    exit 2
  fi
}

migrate_database() {
  local attempt
  for ((attempt = 1; attempt <= MIGRATE_ATTEMPTS; attempt++)); do
    if airflow db migrate "$@"; then
      return 0
    fi
    log "airflow db migrate failed (attempt ${attempt} of ${MIGRATE_ATTEMPTS}); the migrations it committed stay"
    if ((attempt < MIGRATE_ATTEMPTS)); then
      sleep "${MIGRATE_RETRY_SECONDS}"
    fi
  done
  log "airflow db migrate failed ${MIGRATE_ATTEMPTS} times; the database is at the last migration that committed"
  return 1
}

wait_for_migrations() {
  airflow db check-migrations --migration-wait-timeout="${MIGRATION_WAIT_SECONDS}"
}

create_admin_user() {
  local username="${AIRFLOW_ADMIN_USERNAME:-admin}"
  if [[ -z "${AIRFLOW_ADMIN_PASSWORD:-}" ]]; then
    log "AIRFLOW_ADMIN_PASSWORD is empty: refusing to create '${username}' without a password"
    exit 1
  fi
  if airflow users list --output json | grep -q "\"username\": \"${username}\""; then
    log "user '${username}' exists; leaving it as it is"
    return
  fi
  # The password goes in on stdin (asked twice), never on the command line where `ps` would show it.
  printf '%s\n%s\n' "${AIRFLOW_ADMIN_PASSWORD}" "${AIRFLOW_ADMIN_PASSWORD}" | airflow users create \
    --role Admin \
    --username "${username}" \
    --email "${AIRFLOW_ADMIN_EMAIL:-${username}@example.invalid}" \
    --firstname "${AIRFLOW_ADMIN_FIRSTNAME:-Airflow}" \
    --lastname "${AIRFLOW_ADMIN_LASTNAME:-Admin}"
}

whole_days() {  # name value: a whole number of days, at least 1, or the role stops before it touches anything
  if ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
    log "$1 must be a whole number of days of at least 1 (got '$2')"
    exit 2
  fi
}

# `airflow db clean` deletes what started before the cut-off (each table by its own time column; Airflow keeps the
# latest scheduled run of every DAG), without archiving it into _airflow_deleted__* tables, which would keep the
# space it means to free.
clean_database() {
  local days="${DB_CLEAN_RETENTION_DAYS:-}" before
  whole_days DB_CLEAN_RETENTION_DAYS "${days}"
  wait_for_database
  wait_for_migrations
  before="$(python -c 'import datetime, sys; print((datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=int(sys.argv[1]))).isoformat(timespec="seconds"))' "${days}")"
  log "deleting the metadata database's history from before ${before} (${days} days)"
  exec airflow db clean --clean-before-timestamp "${before}" --skip-archive --yes "$@"
}

# The scheduler's, DAG processor's and triggerer's own log files (their task logs are in S3) grow in the pod's
# AIRFLOW_HOME until its size limit evicts the pod: files older than LOG_RETENTION_DAYS go, and folders left empty
# for an hour (not at once: Airflow makes a folder, then its file).
# A pass touches LOG_GROOMER_STATE, which the container's liveness probe watches.
groom_logs() {
  local days="${LOG_RETENTION_DAYS:-}" every="${LOG_GROOMER_INTERVAL_SECONDS:-900}" folder="${AIRFLOW_HOME:-/opt/airflow}/logs"
  whole_days LOG_RETENTION_DAYS "${days}"
  while true; do
    # Airflow deletes files here too (a log uploaded to S3): a file gone between listing and deleting is no error,
    # and a pass that fails still leaves the sidecar for the next.
    if [[ -d "${folder}" ]]; then
      find "${folder}" -ignore_readdir_race -type f -mtime "+$((days - 1))" -delete || log "a log pass failed; retrying later"
      find "${folder}" -ignore_readdir_race -mindepth 1 -type d -empty -mmin +60 -delete || true
    fi
    touch "${LOG_GROOMER_STATE:-${AIRFLOW_HOME:-/opt/airflow}/.log-groomer}"
    if [[ "${LOG_GROOMER_ONCE:-}" == "true" ]]; then
      return 0
    fi
    sleep "${every}"
  done
}

main() {
  if (($# == 0)); then
    usage
    exit 2
  fi
  local role="$1"
  shift
  case "${role}" in
    scheduler | webserver | triggerer | api-server | dag-processor)
      wait_for_database
      wait_for_migrations
      exec airflow "${role}" "$@"
      ;;
    migrate)
      check_migrate_settings
      wait_for_database
      migrate_database "$@"
      ;;
    create-user)
      wait_for_database
      wait_for_migrations
      create_admin_user
      ;;
    db-clean)
      clean_database "$@"
      ;;
    log-groomer)
      groom_logs
      ;;
    airflow)
      wait_for_database
      exec airflow "$@"
      ;;
    python)
      # Airflow 3's workers reach no database: the execution API (the api-server) serves them.
      exec python "$@"
      ;;
    -h | --help | help)
      usage
      ;;
    *)
      log "unknown role '${role}'"
      usage
      exit 2
      ;;
  esac
}

main "$@"
