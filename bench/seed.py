"""Seeds a local D1 database file (SQLite) with synthetic history for the benchmarks:
one program, N partners with a link each, clicks and sales spread over D days, every
day marked for the rollup. Written straight into the file wrangler's local D1 uses,
because going through the API would measure the import, not the rollup.

usage: seed.py DB_FILE CLICKS CONVERSIONS DAYS PARTNERS FIRST_DAY(YYYY-MM-DD)
"""
import datetime
import random
import sqlite3
import sys

db_file, clicks, conversions, days, partners, first_day = sys.argv[1:7]
clicks, conversions, days, partners = int(clicks), int(conversions), int(days), int(partners)
start = int(datetime.datetime.fromisoformat(first_day + "T00:00:00+00:00").timestamp() * 1000)
day_ms = 86_400_000
rng = random.Random(42)

db = sqlite3.connect(db_file)
db.execute("PRAGMA journal_mode = WAL")
now = start + days * day_ms
db.execute(
    "INSERT INTO programs (id, name, currency, model, attribution_window_days, click_id_param, "
    "hold_days, min_payout, timezone, postback_secret_hash, created_at, updated_at) "
    "VALUES ('prg_bench', 'Bench', 'EUR', 'sales', 30, 'click_id', 0, '0.00', 'UTC', 'x', ?, ?)",
    (start, start),
)
for p in range(partners):
    db.execute(
        "INSERT INTO partners (id, name, segment, status, created_at, updated_at) "
        "VALUES (?, ?, 'blogger', 'approved', ?, ?)",
        (f"ptn_{p}", f"Partner {p}", start, start),
    )
    db.execute(
        "INSERT INTO partner_status_changes (partner_id, at, status) VALUES (?, ?, 'approved')",
        (f"ptn_{p}", start),
    )
    db.execute(
        "INSERT INTO links (id, code, program_id, partner_id, destination, status, created_at, updated_at) "
        "VALUES (?, ?, 'prg_bench', ?, 'https://shop.example/', 'active', ?, ?)",
        (f"lnk_{p}", f"bench-{p}", f"ptn_{p}", start, start),
    )


def click_rows():
    for i in range(clicks):
        p = i % partners
        day = (i // partners) % days
        ts = start + day * day_ms + rng.randrange(day_ms)
        bot = 1 if rng.random() < 0.05 else 0
        yield (f"c{i}", ts, f"lnk_{p}", f"ptn_{p}", "prg_bench", rng.choice(["US", "DE", "FR"]),
               rng.choice(["desktop", "mobile"]), f"v{rng.randrange(clicks // 3)}", bot, 0 if bot else 1)


db.executemany(
    "INSERT INTO clicks (id, ts, link_id, partner_id, program_id, country, device, os, browser, "
    "visitor_hash, is_bot, is_unique) VALUES (?, ?, ?, ?, ?, ?, ?, 'Windows 10', 'Chrome', ?, ?, ?)",
    click_rows(),
)


def conversion_rows():
    for i in range(conversions):
        p = i % partners
        ts = start + rng.randrange(days * day_ms)
        amount = rng.randrange(1_000, 50_000)
        yield (f"cnv_{i}", "prg_bench", f"ptn_{p}", f"lnk_{p}", f"c{i}", f"O{i}", f"O{i}", amount,
               amount // 10, ts, ts, ts, f"k{i % (conversions // 2 or 1)}")


db.executemany(
    "INSERT INTO conversions (id, program_id, partner_id, link_id, click_id, event, status, "
    "order_id, order_key, amount_cents, currency, commission_cents, ts, recorded_at, updated_at, "
    "customer_id, country, device) VALUES (?, ?, ?, ?, ?, 'sale', 'approved', ?, ?, ?, 'EUR', ?, ?, ?, ?, ?, 'US', 'desktop')",
    conversion_rows(),
)
first = start // day_ms
db.executemany(
    "INSERT OR REPLACE INTO rollup_dirty_days (day, marked_at) VALUES (?, ?)",
    [(first + d, now) for d in range(days)],
)
db.commit()
db.close()
print(f"seeded {clicks} clicks, {conversions} conversions over {days} days for {partners} partners")
