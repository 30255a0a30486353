"""Seeds a local D1 database file (SQLite) for bench/insights: PROGRAMS programs of
PARTNERS partners each, DAYS days of history ending yesterday (UTC) as hourly rollups
and counted sales, and the raw clicks of the last 7 days (what the flags read). Partner
traffic has a long tail (log-normal daily means, a weekly pattern); 1 % of the partners
with enough traffic defraud during the last 7 days (click flooding, fast conversions, a
bot farm or a spike), listed in the JSON file written beside the database.

usage: seed_insights.py DB_FILE PROGRAMS PARTNERS DAYS INJECTED_JSON
"""
import datetime
import json
import math
import random
import sqlite3
import sys

db_file, programs, partners, days, injected_file = sys.argv[1:6]
programs, partners, days = int(programs), int(partners), int(days)
day_ms = 86_400_000
today = datetime.datetime.now(datetime.timezone.utc).date()
first_day = today - datetime.timedelta(days=days)
start = int(datetime.datetime(first_day.year, first_day.month, first_day.day, tzinfo=datetime.timezone.utc).timestamp() * 1000)
window_from = days - 7  # index of the first day of the flags' window
rng = random.Random(20261123)
KINDS = ["click_flooding", "fast_conversions", "bot_share", "spike"]


def poisson(mean):
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


db = sqlite3.connect(db_file)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = OFF")
injected = {}
rollups, clicks, sales = [], [], []
sale_no = click_no = 0


def flush(final=False):
    global rollups, clicks, sales
    if len(rollups) + len(clicks) + len(sales) < 200_000 and not final:
        return
    db.executemany(
        "INSERT INTO rollup_hourly (hour, program_id, partner_id, link_id, country, device, source, clicks, "
        "unique_clicks, bot_clicks, impressions, leads, qualified_leads, sales, refunds, revenue_cents, commission_cents) "
        "VALUES (?, ?, ?, ?, 'US', 'desktop', 'direct', ?, ?, ?, 0, 0, 0, ?, 0, ?, ?)",
        rollups,
    )
    db.executemany(
        "INSERT INTO clicks (id, ts, link_id, partner_id, program_id, country, device, os, browser, "
        "visitor_hash, is_bot, is_unique) VALUES (?, ?, ?, ?, ?, 'US', 'desktop', 'Windows 10', 'Chrome', ?, ?, ?)",
        clicks,
    )
    db.executemany(
        "INSERT INTO conversions (id, program_id, partner_id, link_id, click_id, event, status, order_id, order_key, "
        "amount_cents, currency, commission_cents, ts, recorded_at, updated_at, click_ts, customer_id, country, device) "
        "VALUES (?, ?, ?, ?, ?, 'sale', 'approved', ?, ?, ?, 'EUR', ?, ?, ?, ?, ?, ?, 'US', 'desktop')",
        sales,
    )
    rollups, clicks, sales = [], [], []


for p in range(programs):
    program = f"prg_b{p:03d}"
    db.execute(
        "INSERT INTO programs (id, name, currency, model, attribution_window_days, click_id_param, hold_days, "
        "min_payout, timezone, postback_secret_hash, created_at, updated_at) "
        "VALUES (?, ?, 'EUR', 'sales', 30, 'click_id', 0, '0.00', 'UTC', ?, ?, ?)",
        (program, f"Bench program {p}", f"x{p}", start, start),
    )
    injected[program] = {}
    for i in range(partners):
        partner, link = f"ptn_b{p:03d}_{i:04d}", f"lnk_b{p:03d}_{i:04d}"
        db.execute(
            "INSERT INTO partners (id, name, segment, status, created_at, updated_at) VALUES (?, ?, 'blogger', 'approved', ?, ?)",
            (partner, f"Partner {p}-{i}", start, start),
        )
        db.execute(
            "INSERT INTO links (id, code, program_id, partner_id, destination, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'https://shop.example/', 'active', ?, ?)",
            (link, f"b{p}-{i}", program, partner, start, start),
        )
        rate = math.exp(rng.gauss(0.5, 1.2))
        cr = 0.03 * math.exp(rng.gauss(0, 0.3))
        weekend = rng.uniform(0.5, 0.95)
        kind = None
        if rate >= 5 and rng.random() < 0.04 and len(injected[program]) < partners // 100:
            kind = KINDS[len(injected[program]) % len(KINDS)]
            injected[program][partner] = kind
        for d in range(days):
            day_start = start + d * day_ms
            weekday = (first_day + datetime.timedelta(days=d)).weekday()
            mean = rate * (weekend if weekday >= 5 else 1.0)
            fraud = kind is not None and d >= window_from
            if fraud and kind == "spike":
                mean *= 4
            human = poisson(mean)
            bots = sum(1 for _ in range(human) if rng.random() < 0.02)
            flood = round(mean * 2) + 20 if fraud and kind == "click_flooding" else 0
            farm = round(mean * 1.5) + 20 if fraud and kind == "bot_share" else 0
            day_sales = sum(1 for _ in range(human) if rng.random() < cr)
            fast = round(mean * cr * 2) + 3 if fraud and kind == "fast_conversions" else 0
            revenue = commission = 0
            hour = (day_start // day_ms) * 24 + 12
            for s in range(day_sales + fast):
                amount = rng.randrange(1_000, 8_000)
                revenue += amount
                commission += amount // 10
                sale_no += 1
                ts = day_start + rng.randrange(day_ms - 3_600_000)
                click_ts = ts - (1_500 if s >= day_sales else rng.randrange(60_000, 7_200_000))
                sales.append((f"cnv_b{sale_no}", program, partner, link, None, f"O{sale_no}", f"O{sale_no}",
                              amount, amount // 10, ts, ts, ts, click_ts, f"cust{p}-{rng.randrange(10**9)}"))
            if human + bots + flood + farm or day_sales + fast:
                rollups.append((hour, program, partner, link, human - bots + flood, human - bots, bots + farm,
                                day_sales + fast, revenue, commission))
            if d >= window_from:
                for c in range(human + bots + flood + farm):
                    click_no += 1
                    is_bot = 1 if c < bots or c >= human + flood else 0
                    visitor = f"v{p}-{i}-flood{c % 3}" if human <= c < human + flood else f"v{click_no}"
                    clicks.append((f"c_b{click_no}", day_start + rng.randrange(day_ms), link, partner, program,
                                   visitor, is_bot, 0 if is_bot else 1))
        flush()
flush(final=True)
db.commit()
db.close()
with open(injected_file, "w") as f:
    json.dump(injected, f)
fraud = sum(len(v) for v in injected.values())
print(f"seeded {programs} programs x {partners} partners, {days} days to {today - datetime.timedelta(days=1)}: "
      f"{click_no} raw clicks (last 7 days), {sale_no} sales, {fraud} partners with injected fraud")
