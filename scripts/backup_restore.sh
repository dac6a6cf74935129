#!/usr/bin/env bash
# Back up the SwipeSavvy Admin PostgreSQL database, and prove a backup restores into a working,
# consistent database: the money ledger balances and the audit trail's hash chain is intact.
#
#   scripts/backup_restore.sh backup  SOURCE_URL DUMP_FILE   pg_dump -Fc of SOURCE_URL
#   scripts/backup_restore.sh restore DUMP_FILE TARGET_URL   pg_restore into a new or empty
#                                                            database, then verify it
#   scripts/backup_restore.sh verify  TARGET_URL             ledger verify, audit verify
#   scripts/backup_restore.sh drill   SOURCE_URL TARGET_URL  backup, restore and verify
#
# URLs are written as DATABASE_URL takes them (postgresql://user@host:5432/name; a
# "+asyncpg" driver suffix is fine). A TARGET_URL database that does not exist is created on
# the same server (createdb); one that holds any table is refused, so nothing is overwritten.
# The verify step runs `swipesavvy-admin ledger verify` and `swipesavvy-admin audit verify`
# with DATABASE_URL=TARGET_URL and the rest of the environment as it is (production needs its
# SECRET_KEY, as every command does); SWIPESAVVY_ADMIN names another path to the command.
# The drill's dump goes to a temporary file (TMPDIR) removed at exit.
#
# Prints one line per step and a verdict; exits 1 if any step failed, 2 on wrong usage.
# URLs are never printed (they may hold a password), only database names.

set -uo pipefail

admin=${SWIPESAVVY_ADMIN:-swipesavvy-admin}
summary=()
failed=0

usage() {
    sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# pg_dump and friends speak libpq URLs: the app's driver suffix goes.
libpq_url() {
    local url=$1
    url=${url/postgresql+asyncpg:/postgresql:}
    printf '%s' "${url/postgres+asyncpg:/postgres:}"
}

database_name() {
    local name=${1##*/}
    printf '%s' "${name%%\?*}"
}

# The URL of the same server's `postgres` database, keeping the query (sslmode and such).
maintenance_url() {
    local url query=""
    url=$(libpq_url "$1")
    if [[ $url == *\?* ]]; then
        query="?${url#*\?}"
        url=${url%%\?*}
    fi
    printf '%s/postgres%s' "${url%/*}" "$query"
}

last_line() {
    printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | tail -n 1
}

# Record a step's outcome; a failed step's full output goes to stderr for the details.
step() {
    local name=$1 status=$2 detail=$3 output=${4:-}
    summary+=("$(printf '%-8s %-7s %s' "$name" "$status" "$detail")")
    if [[ $status != ok ]]; then
        failed=1
        [[ -n $output ]] && printf '%s\n' "$output" >&2
    fi
    [[ $status == ok ]]
}

finish() {
    printf '%s\n' "${summary[@]}"
    if ((failed)); then
        echo "verdict  FAILED: see the steps above"
    else
        echo "verdict  ok"
    fi
    exit "$failed"
}

# Tables and exact rows of a database, one query: counted per table through query_to_xml.
row_summary() {
    psql -X -Atq --dbname="$1" -c "
        SELECT count(*) || ' tables, ' || coalesce(sum(n), 0) || ' rows'
        FROM (
            SELECT (xpath('/row/n/text()', query_to_xml(
                format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename),
                false, true, '')))[1]::text::bigint AS n
            FROM pg_tables WHERE schemaname = 'public'
        ) counted"
}

backup() {
    local source=$1 dump=$2 output
    if output=$(pg_dump --format=custom --file="$dump" --dbname="$(libpq_url "$source")" 2>&1)
    then
        step backup ok "$(database_name "$source") -> $dump ($(du -h "$dump" | cut -f1))"
    else
        rm -f "$dump" # half a dump must never pass for a backup
        step backup failed "$(last_line "$output")" "$output"
    fi
}

# A new database, or an existing one without tables (a managed server's DBA may create it).
prepare_target() {
    local target=$1 url tables output
    url=$(libpq_url "$target")
    if tables=$(psql -X -Atq --dbname="$url" \
        -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" 2>/dev/null); then
        if [[ $tables != 0 ]]; then
            step restore failed \
                "$(database_name "$target") has $tables tables; restore only into a new or empty one"
            return 1
        fi
    elif ! output=$(createdb --maintenance-db="$(maintenance_url "$target")" \
        "$(database_name "$target")" 2>&1); then
        step restore failed "$(last_line "$output")" "$output"
        return 1
    fi
}

restore() {
    local dump=$1 target=$2 url output
    url=$(libpq_url "$target")
    if ! output=$(pg_restore --list "$dump" 2>&1 >/dev/null); then
        step restore failed "$(last_line "$output")" "$output"
        return 1
    fi
    prepare_target "$target" || return 1
    # One transaction: a restore that stops half way leaves an empty database, not half a one.
    if output=$(pg_restore --exit-on-error --single-transaction --dbname="$url" "$dump" 2>&1)
    then
        step restore ok "$(database_name "$target"): $(row_summary "$url")"
    else
        step restore failed "$(last_line "$output")" "$output"
    fi
}

verify() {
    local target=$1 check output status
    for check in ledger audit; do
        if output=$(DATABASE_URL=$target "$admin" "$check" verify 2>&1); then
            status=ok
        else
            status=failed
        fi
        step "$check" "$status" "$(last_line "$output")" "$output"
    done
}

drill() {
    drill_dump=$(mktemp --suffix=.dump) || exit 1
    trap 'rm -f "$drill_dump"' EXIT
    backup "$1" "$drill_dump" && restore "$drill_dump" "$2" && verify "$2"
}

case "${1:-}" in
backup) (($# == 3)) || usage; backup "$2" "$3" ;;
restore) (($# == 3)) || usage; restore "$2" "$3" && verify "$3" ;;
verify) (($# == 2)) || usage; verify "$2" ;;
drill) (($# == 3)) || usage; drill "$2" "$3" ;;
*) usage ;;
esac
finish
