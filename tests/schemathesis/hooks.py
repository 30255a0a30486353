"""Schemathesis hooks for partnerlens.

What a schema cannot say, taught here:

- the NDJSON import bodies (a serializer);
- references: a create that names a program or partner needs one that exists (an unknown
  id is `422 unknown_reference`), so schema-valid cases name the fixture program and
  partner below instead of a made-up id (ids that look real, such as the ones the stateful
  phase's links carry, are kept);
- credentials only the runtime knows: schema-valid postbacks and AmoCRM webhooks carry the
  fixture program's postback secret (a signed postback keeps its signature) and come from
  the advertiser's address rather than the fuzzer's (whose schema-violating requests run
  into the limit of failed credentials), and their click ids name a real click of the
  fixture link, so they reach attribution and recording rather than `401`/`429`;
- a postback's parameters agree with each other (aliases of one parameter, a sale's order
  id and amount, the program's currency);
- cross-parameter rules: a report's `to` is 1 to 366 days after its `from`, and
  `/rollups/run` takes both or neither; a percent rule's new value is at most 100;
- no calls to made-up hosts: a partner postback URL template's host becomes
  `partner.invalid`, which never resolves;
- something to pay: a schema-valid payout run pays the fixtures' payout program, after an
  approved sale there (which a new rule pays 5.00), so the run creates a payout and the
  links to it lead somewhere.

The fixtures are made once, through the API, with the admin key: `PARTNERLENS_BASE_URL` and
`ADMIN_API_KEY` name the runtime (scripts/test.sh sets both). Without them only the
serializer, the date ranges and the harmless hosts apply. Only schema-valid cases are
given fixtures; what the hooks change is validated again before the call, so a case is
judged by what is sent.
"""

import datetime
import json
import os
import re
import urllib.parse

import requests
import schemathesis

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
# What the API's own ids look like: kept, as they may name something that exists.
REAL_ID = re.compile(r"^(prg|ptn)_[A-Za-z0-9_-]{22}$")
CLICK_ID_ALIASES = ("click_id", "clickid", "cid", "subid")
# The postback's parameters that have aliases (src/domain/conversion.rs).
POSTBACK_ALIASES = {
    "event": ("event", "type", "et"),
    "order_id": ("order_id", "txid", "transaction_id"),
    "amount": ("amount", "sale_amount"),
    "click_id": CLICK_ID_ALIASES,
    "currency": ("currency",),
    "coupon": ("coupon", "promo_code", "coupon_code"),
}
# The host name of an outbound postback URL template.
OUTBOUND_HOST = re.compile(r"^([Hh][Tt][Tt][Pp][Ss]?://)[A-Za-z0-9.-]+")
# Where the advertiser's postbacks and webhooks come from (a documentation address; the
# local runtime takes the client address from `CF-Connecting-IP`, as Cloudflare sets it).
ADVERTISER_ADDRESS = "203.0.113.10"


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """An array becomes one JSON document per line; anything else one line."""
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row) for row in rows).encode()


class Fixtures:
    """A program (with its postback secret and an AmoCRM mapping), a partner, a link of
    theirs and a click on it; and a second such program for payout runs, which generated
    requests are not pointed at."""

    def __init__(self, base_url, admin_key):
        self.admin_key = admin_key
        self.base_url = base_url
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {admin_key}"
        self.sales = 0
        self.partner_id = self.create("partners", {"name": "schemathesis fixture"})["id"]
        self.program_id, self.postback_secret, self.click_id = self.program_with_click()
        self.create(
            "amocrm-mappings",
            {
                "program_id": self.program_id,
                "click_id_field_id": "581225",
                "statuses": {"142": "sale", "143": "rejected", "20": "lead", "30": "qualified"},
            },
        )
        self.payout_program_id, self.payout_secret, self.payout_click_id = self.program_with_click()
        # A link of its own for split tests (one runs at a time; the rest are 409s).
        self.experiment_link_id = self.create(
            "links",
            {
                "program_id": self.program_id,
                "partner_id": self.partner_id,
                "destination": "https://shop.example/split",
            },
        )["id"]

        # A program of forty partners for commission experiments (one runs at a time).
        self.experiment_program_id = self.create(
            "programs", {"name": "schemathesis experiments", "currency": "EUR", "model": "sales"}
        )["id"]
        for i in range(40):
            partner = self.create("partners", {"name": f"schemathesis experiment partner {i}"})
            self.create(
                "links",
                {
                    "program_id": self.experiment_program_id,
                    "partner_id": partner["id"],
                    "destination": "https://shop.example/",
                },
            )

    def create(self, path, body):
        response = self.api.post(f"{self.base_url}/api/v1/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def program_with_click(self):
        """A program, a link of the fixture partner in it, and a click on that link."""
        program = self.create(
            "programs",
            {
                "name": "schemathesis fixture",
                "currency": "EUR",
                "model": "sales",
                "partner_link_domains": ["shop.example"],
            },
        )
        link = self.create(
            "links",
            {
                "program_id": program["id"],
                "partner_id": self.partner_id,
                "destination": "https://shop.example/landing",
            },
        )
        redirect = requests.get(
            f"{self.base_url}/r/{link['code']}",
            headers={"User-Agent": BROWSER},
            allow_redirects=False,
            timeout=30,
        )
        location = urllib.parse.urlparse(redirect.headers["Location"])
        click_id = urllib.parse.parse_qs(location.query)["click_id"][0]
        return program["id"], program["postback_secret"], click_id

    def approved_sale(self):
        """Records an approved sale in the payout program, as the advertiser would, under
        a new partner rule that pays 5.00 (the newest partner rule wins, whatever the
        fuzzer changed in the older ones)."""
        self.sales += 1
        self.create(
            "commission-rules",
            {
                "program_id": self.payout_program_id,
                "partner_id": self.partner_id,
                "event": "sale",
                "kind": "fixed",
                "value": "5",
            },
        )
        sale = {
            "click_id": self.payout_click_id,
            "event": "sale",
            "order_id": f"schemathesis-{os.getpid()}-{self.sales}",
            "amount": "100.00",
            "status": "approved",
        }
        answer = self.postback(sale)
        if answer.status_code == 401:
            # The stateful phase follows the link from a program to `rotate-secret`, and
            # may have rotated this one's secret: take a new one, as its owner would.
            rotated = self.api.post(
                f"{self.base_url}/api/v1/programs/{self.payout_program_id}/rotate-secret", timeout=30
            )
            rotated.raise_for_status()
            self.payout_secret = rotated.json()["postback_secret"]
            answer = self.postback(sale)
        answer.raise_for_status()

    def postback(self, sale):
        """The payout program's postback of `sale`, as its advertiser sends it."""
        return requests.post(
            f"{self.base_url}/postback",
            data={"token": self.payout_secret, **sale},
            headers={"CF-Connecting-IP": ADVERTISER_ADDRESS},
            timeout=30,
        )


_fixtures = None


def fixtures():
    global _fixtures
    if _fixtures is None:
        base_url = os.environ.get("PARTNERLENS_BASE_URL")
        admin_key = os.environ.get("ADMIN_API_KEY")
        _fixtures = Fixtures(base_url.rstrip("/"), admin_key) if base_url and admin_key else False
    return _fixtures


def is_positive(case):
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


def refer(container, field, value):
    """Names `value` in `field` when the case made up an id there."""
    if isinstance(container, dict) and isinstance(container.get(field), str):
        if not REAL_ID.match(container[field]):
            container[field] = value


# (method, path) → (body field, fixture attribute) of the references a create names.
REFERENCES = {
    ("POST", "/api/v1/links"): [("program_id", "program_id"), ("partner_id", "partner_id")],
    ("POST", "/api/v1/commission-rules"): [("program_id", "program_id"), ("partner_id", "partner_id")],
    ("POST", "/api/v1/costs"): [("program_id", "program_id")],
    ("POST", "/api/v1/materials"): [("program_id", "program_id"), ("link_id", "experiment_link_id")],
    ("POST", "/api/v1/amocrm-mappings"): [("program_id", "program_id")],
    ("POST", "/api/v1/partner-postbacks"): [("partner_id", "partner_id"), ("program_id", "program_id")],
    ("POST", "/api/v1/bi-keys"): [("partner_id", "partner_id")],
    ("POST", "/api/v1/partner-tokens"): [("partner_id", "partner_id")],
    ("POST", "/api/v1/promo-codes"): [("program_id", "program_id"), ("partner_id", "partner_id")],
    ("POST", "/api/v1/goals"): [("program_id", "program_id"), ("partner_id", "partner_id")],
    ("POST", "/api/v1/alerts"): [("program_id", "program_id")],
}


def consistent_experiment(case, found):
    """A split test names the fixture link, and its variants' names differ (the schema
    cannot say so; two alike are `422 invalid_variants`). A commission experiment names
    the fixture program with forty partners (so any share leaves two in each arm), and
    ends in the future."""
    body = case.body
    if not isinstance(body, dict):
        return
    refer(body, "link_id", found.experiment_link_id)
    refer(body, "program_id", found.experiment_program_id)
    if isinstance(body.get("ends_at"), str):
        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
        body["ends_at"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    variants = body.get("variants")
    if isinstance(variants, list):
        for i, variant in enumerate(variants):
            if isinstance(variant, dict) and isinstance(variant.get("name"), str):
                variant["name"] = f"{variant['name'][:29]}-{i}"


def consistent_material(case, found):
    """A material made for a link is in that link's program: with a `link_id`, the fixture
    program and its link (another program's link is `422 conflicting_values`)."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("link_id"), str):
        body["link_id"] = found.experiment_link_id
        body["program_id"] = found.program_id


def parse_date(raw):
    """A `YYYY-MM-DD` the API reads, as a Python date (year 0, which Python lacks, as 1)."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        return None
    year, month, day = (int(part) for part in raw.split("-"))
    if year == 0:
        year, day = 1, min(day, 28) if month == 2 else day
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def fix_range(query, both_or_neither):
    """Makes `to` 1 to 366 days after `from` when both are dates (keeping their distance
    when it already fits); with `both_or_neither`, adds the one that is missing."""
    if not isinstance(query, dict):
        return
    start, end = parse_date(query.get("from")), parse_date(query.get("to"))
    if both_or_neither:
        if start and "to" not in query:
            end = start
        elif end and "from" not in query:
            start = end
    if not (start and end):
        return
    days = (end - start).days
    if not 1 <= days <= 366:
        days = abs(days) % 366 + 1
    try:
        end = start + datetime.timedelta(days=days)
    except OverflowError:
        try:
            start, end = end - datetime.timedelta(days=days), end
        except OverflowError:
            start, end = datetime.date(2026, 1, 1), datetime.date(2026, 1, 8)
    query["from"], query["to"] = start.isoformat(), end.isoformat()


def credentials(case, found):
    """A postback's or webhook's token, and its click ids, name the fixtures'; a signed
    postback keeps its signature (and its `401`)."""
    signed = any(name.lower() == "x-partnerlens-signature" for name in (case.headers or {}))
    for container in (case.query, case.body):
        if not isinstance(container, dict):
            continue
        for alias in CLICK_ID_ALIASES:
            if isinstance(container.get(alias), (str, int, float)) and str(container[alias]).strip():
                container[alias] = found.click_id
        if "token" in container and not signed:
            container["token"] = found.postback_secret
    if not signed:
        if case.query is None:
            case.query = {}
        case.query["token"] = found.postback_secret
        # From the advertiser's server: the fuzzer's own address runs into the limit of
        # failed credentials (src/http/throttle.rs) with its schema-violating requests.
        if case.headers is None:
            case.headers = {}
        case.headers["CF-Connecting-IP"] = ADVERTISER_ADDRESS


def consistent_postback(case, found):
    """What a conversion's parameters need of each other: the aliases of one parameter
    agree (the first one given wins), a sale (the default event) has an order id and an
    amount, there is a click id (the fixture click), and the currency is the program's."""
    containers = [c for c in (case.query, case.body) if isinstance(c, dict)]
    if case.query is None:
        case.query = {}
        containers.insert(0, case.query)

    def given(value):
        return isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip()

    values = {}
    for canonical, aliases in POSTBACK_ALIASES.items():
        present = [(c, a) for c in containers for a in aliases if given(c.get(a))]
        if present:
            first, alias = present[0]
            values[canonical] = str(first[alias]).strip()
            for container, name in present:
                container[name] = values[canonical]
    if "click_id" not in values:
        case.query["click_id"] = found.click_id
    if values.get("event", "sale").lower() == "sale":
        if "order_id" not in values:
            found.sales += 1
            case.query["order_id"] = f"schemathesis-{os.getpid()}-{found.sales}"
        if "amount" not in values:
            case.query["amount"] = "10.00"
    if "currency" in values:
        for container in containers:
            if given(container.get("currency")):
                container["currency"] = "EUR"


def harmless_host(case):
    """Outbound postbacks of a template go to a host that never resolves (`.invalid`), so
    the runtime never calls whatever host name the fuzzer made up."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url_template"), str):
        body["url_template"] = OUTBOUND_HOST.sub(r"\1partner.invalid", body["url_template"])


def percent_rule_value(case, found):
    """A percent rule's value is at most 100: a change that asks for more asks for 100."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        return
    try:
        value = float(body["value"])
    except ValueError:
        return
    if value <= 100:
        return
    rule = found.api.get(
        f"{found.base_url}/api/v1/commission-rules/{urllib.parse.quote(str(case.path_parameters['id']), safe='')}",
        timeout=30,
    )
    if rule.status_code == 200 and rule.json().get("kind") == "percent":
        body["value"] = "100"


def partner_link(case, found):
    """A partner's own link: the fixture partner, in the fixture program (whose partners
    may link to shop.example), to a page there."""
    if isinstance(case.query, dict):
        case.query["partner_id"] = found.partner_id
    if isinstance(case.body, dict):
        # Any other program (one a stateful scenario just created, say) is one the
        # fixture partner has no link in: a 422, rightly.
        case.body["program_id"] = found.program_id
        destination = case.body.get("destination")
        if isinstance(destination, str):
            path = urllib.parse.urlsplit(destination).path or "/"
            case.body["destination"] = "https://shop.example" + urllib.parse.quote(path, safe="/")


def shift_goal_dates(body):
    """Moves every date of a goal 400 years on (the Gregorian calendar repeats, so the
    distances and leap days hold) while one is before 1970: before standard time zones a
    program's zone had a local mean time (Singapore was +6:55 in 1847), which the hourly
    rollups cannot serve (`400 unsupported_timezone`, rightly)."""
    fields = ["start", "deadline", "baseline_from", "baseline_to"]
    dates = {f: parse_date(body.get(f)) for f in fields}
    while any(d and d.year < 1970 for d in dates.values()):
        if any(d and d.year > 9999 - 400 for d in dates.values()):
            dates = {f: d and datetime.date(2026, 1, 1) for f, d in dates.items()}
            break
        dates = {f: d and d.replace(year=d.year + 400) for f, d in dates.items()}
    for field, value in dates.items():
        if value:
            body[field] = value.isoformat()


def consistent_goal(case, found):
    """What a goal's fields need of each other (each is a 422 with the field named): one
    kind of target, a baseline (of at most 366 days) with a change only, the deadline on
    or after the start and at most 731 days later, a partner or a segment, and only the
    fixture partner, who has a link in the fixture program. A PATCH is checked as the
    whole goal it makes, so it is left as it is there."""
    body = case.body
    if not isinstance(body, dict):
        return
    if body.get("partner_id") is not None:
        # The fixture partner has a link in the fixture program only (any other program,
        # one a stateful scenario just created, say, is a 422, rightly).
        body["partner_id"] = found.partner_id
        body["segment"] = None
        if case.method.upper() == "POST":
            body["program_id"] = found.program_id
    shift_goal_dates(body)
    if case.method.upper() == "PATCH":
        return
    change = body.get("target_change_percent")
    if body.get("target") is not None or change is None:
        body["target_change_percent"] = None
        body["target"] = body.get("target") or "100"
        body["baseline_from"] = body["baseline_to"] = None
    else:
        first = parse_date(body.get("baseline_from")) or datetime.date(2026, 1, 1)
        last = parse_date(body.get("baseline_to")) or first
        if not 0 <= (last - first).days <= 365:
            last = first
        body["baseline_from"], body["baseline_to"] = first.isoformat(), last.isoformat()
    start, deadline = parse_date(body.get("start")), parse_date(body.get("deadline"))
    if start and deadline and not 0 <= (deadline - start).days <= 731:
        body["deadline"] = body["start"]


def consistent_schedule(case, found):
    """A report schedule's program filter (an alert's program) names the fixture program
    (an unknown one is `422 unknown_reference`), and its recipients are distinct as the
    API compares them
    (addresses whatever their case, webhooks by type and URL), which `uniqueItems`
    cannot say."""
    body = case.body
    if not isinstance(body, dict):
        return
    filters = body.get("filters")
    if isinstance(filters, dict) and isinstance(filters.get("program_id"), str):
        filters["program_id"] = found.program_id
    if isinstance(body.get("program_id"), str):
        body["program_id"] = found.program_id
    recipients = body.get("recipients")
    if isinstance(recipients, list):
        seen, kept = set(), []
        for recipient in recipients:
            if not isinstance(recipient, dict):
                kept.append(recipient)
                continue
            key = (recipient.get("type"), str(recipient.get("address") or "").lower(), recipient.get("url"))
            if key not in seen:
                seen.add(key)
                kept.append(recipient)
        body["recipients"] = kept


@schemathesis.hook
def before_call(context, case, kwargs):
    method, path = case.method.upper(), case.operation.path
    if path in ("/api/v1/partner-postbacks", "/api/v1/partner-postbacks/{id}"):
        harmless_host(case)
    if path in ("/api/v1/reports/kpis", "/api/v1/reports/partners"):
        fix_range(case.query, both_or_neither=False)
    elif path == "/api/v1/rollups/run":
        fix_range(case.query, both_or_neither=True)
    if not is_positive(case):
        return
    found = fixtures()
    if not found:
        return
    for field, attribute in REFERENCES.get((method, path), []):
        refer(case.body, field, getattr(found, attribute))
    if (method, path) in (("GET", "/api/v1/balances"), ("GET", "/api/v1/insights/forecast"), ("POST", "/api/v1/insights/run")):
        refer(case.query, "program_id", found.program_id)
    elif (method, path) == ("GET", "/api/v1/amocrm-mappings/{program_id}"):
        refer(case.path_parameters, "program_id", found.program_id)
    elif path in ("/postback", "/webhooks/amocrm"):
        credentials(case, found)
        if path == "/postback" and not any(
            name.lower() == "x-partnerlens-signature" for name in (case.headers or {})
        ):
            consistent_postback(case, found)
    elif (method, path) == ("GET", "/api/v1/partner-programs"):
        refer(case.query, "partner_id", found.partner_id)
    elif (method, path) == ("POST", "/api/v1/partner-links"):
        partner_link(case, found)
    elif (method, path) == ("POST", "/api/v1/sessions") and isinstance(case.body, dict):
        # A schema-valid sign-in with the real key, from an address of its own (the
        # fuzzer's made-up keys are counted against its own address).
        case.body["key"] = found.admin_key
        case.headers = {**(case.headers or {}), "CF-Connecting-IP": "192.0.2.210"}
    elif path in ("/api/v1/goals", "/api/v1/goals/{id}") and method in ("POST", "PATCH"):
        consistent_goal(case, found)
    elif (method, path) == ("POST", "/api/v1/experiments"):
        consistent_experiment(case, found)
    elif (method, path) == ("POST", "/api/v1/materials"):
        consistent_material(case, found)
    elif path in ("/api/v1/report-schedules", "/api/v1/report-schedules/{id}", "/api/v1/alerts", "/api/v1/alerts/{id}") and method in ("POST", "PATCH"):
        consistent_schedule(case, found)
    elif (method, path) == ("PATCH", "/api/v1/commission-rules/{id}"):
        percent_rule_value(case, found)
    if (method, path) == ("POST", "/api/v1/payouts") and isinstance(case.body, dict):
        # Only the fixtures have conversions to pay (no other program's secret is known to
        # send its postbacks with), so every schema-valid run pays the payout program.
        case.body["program_id"] = found.payout_program_id
        found.approved_sale()
