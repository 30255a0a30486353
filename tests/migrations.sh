#!/usr/bin/env bash
# Migrations are safe: with wrangler's own `d1 migrations apply` on local D1, every
# migration applies to an empty database, and to a database holding rows of every earlier
# schema (after 1, 2, … of them) without losing a row; rows of every later table load on
# top; and a `wrangler d1 export` of the result restores into a fresh database with every
# row. Fixture rows: tests/migrations/fixtures/<migration number>.sql.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
pl_env
WORK="$(mktemp -d -t partnerlens-migrations.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mapfile -t MIGRATIONS < <(cd "$ROOT/migrations" && ls ./*.sql | sed 's|^\./||' | sort)
N=${#MIGRATIONS[@]}

# A project directory with the first $2 migrations.
project() {
    local dir="$1" k="$2" i
    mkdir -p "$dir/migrations"
    cat > "$dir/wrangler.toml" <<TOML
name = "partnerlens-migrations"
compatibility_date = "2026-10-01"
[[d1_databases]]
binding = "DB"
database_name = "partnerlens"
database_id = "00000000-0000-4000-8000-000000000000"
migrations_dir = "migrations"
TOML
    for ((i = 0; i < k; i++)); do cp "$ROOT/migrations/${MIGRATIONS[$i]}" "$dir/migrations/"; done
}

d1() { # dir, then wrangler d1 arguments
    local dir="$1"
    shift
    # Each project keeps its local D1 in its own .wrangler/state (`d1 export` has no
    # --persist-to).
    (cd "$dir" && wrangler d1 "$@" --local > "$dir/wrangler.out" 2>&1) || {
        cat "$dir/wrangler.out" >&2
        return 1
    }
}

apply() { CI=1 d1 "$1" migrations apply partnerlens; }

fixtures() { # dir, first, last (migration indexes, 1-based)
    local dir="$1" i file="$1/fixtures-$2-$3.sql"
    : > "$file"
    for ((i = $2; i <= $3; i++)); do cat "$ROOT/tests/migrations/fixtures/$(printf '%04d' "$i").sql" >> "$file"; done
    [ -s "$file" ] && d1 "$dir" execute partnerlens --file "$file" || true
}

counts() { # dir -> JSON {table: rows}
    python3 - "$1/.wrangler/state" <<'PY'
import glob, json, sqlite3, sys
[path] = [p for p in glob.glob(f"{sys.argv[1]}/v3/d1/**/*.sqlite", recursive=True) if not p.endswith("metadata.sqlite")]
db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'")]
print(json.dumps({t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}))
PY
}

check() { # what, before JSON, after JSON, extra python condition
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
what, before, after = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
lost = {t: (n, after.get(t)) for t, n in before.items() if after.get(t) != n}
if lost:
    sys.exit(f"{what}: rows changed (before, after): {lost}")
# 0004 starts every existing partner's status history (a suspended one with two rows:
# approved, then suspended).
if "partner_status_changes" not in before and after.get("partner_status_changes", 0) != before.get("partners", 0) + 1:
    sys.exit(f"{what}: partners' status histories not as expected: {after}")
print(f"  {what}: {sum(before.values())} rows in {len(before)} tables kept")
PY
}

say "migrations: $N, each tried on a database holding rows of the schema before it"
for ((k = 1; k < N; k++)); do
    dir="$WORK/after-$k"
    project "$dir" "$k"
    apply "$dir"
    fixtures "$dir" 1 "$k"
    before="$(counts "$dir")"
    project "$dir" "$N"
    apply "$dir"
    after="$(counts "$dir")"
    check "rows of schema ${MIGRATIONS[$((k - 1))]%.sql}, then migrations $((k + 1))..$N" "$before" "$after"
    fixtures "$dir" "$((k + 1))" "$N"
done

dir="$WORK/empty"
project "$dir" "$N"
apply "$dir"
empty="$(counts "$dir")"
python3 -c "import json,sys; c=json.loads(sys.argv[1]); extra={t:n for t,n in c.items() if n and t!='journey_progress'}; sys.exit(f'rows in a new database: {extra}') if extra else print(f'  every migration on an empty database: {len(c)} tables')" "$empty"
fixtures "$dir" 1 "$N"
full="$(counts "$dir")"

say "backup and restore: wrangler d1 export, then execute into a fresh database"
d1 "$dir" export partnerlens --output "$WORK/backup.sql"
restored="$WORK/restored"
project "$restored" 0
d1 "$restored" execute partnerlens --file "$WORK/backup.sql"
check "restored from the export" "$full" "$(counts "$restored")"
