"""Realistic, consistent demo rows for every table (tests name any left empty), in batches.

Consistency the generator keeps: every wallet's balance equals the sum of its posted
transactions (and never dips below zero along the way); refunds and cashback point at
a posted purchase; tickets have threads whose first agent reply is `first_response_at`;
campaign spend equals the sum of its daily performance. (The dashboard rollups are written
after the load, by `analytics.refresh`, from the rows themselves.)
Randomness comes from one seed, so the same seed gives the same data.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import secrets
import uuid
import zlib
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from faker import Faker

from audit.chain import GENESIS_HASH, row_hash
from demo_data import catalog, generic
from flags.environments import new_state, state_of
from models.approvals import DEFAULT_THRESHOLDS
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState, FlagState

Row = dict[str, Any]
CENT = Decimal("0.01")
COUNTED_HOURS = 48
"""Hours of flag evaluation counts: the chart on a flag's page."""
POLLS_PER_HOUR = {"production": 1_200, "staging": 40, "development": 8}
"""Bulk answers per hour at the day's peak, by environment (each counts every live flag)."""
USER_BATCH = 10_000
"""Customers made together: one batch per table each, small enough to stream a million."""
STAFF_EMAIL_DOMAIN = "staff.example.com"
"""Demo staff accounts live here, so `seed-demo --force` can tell them from real ones."""
MERCHANT_FEE_RATE = Decimal("0.025")
"""What the platform charges merchants per purchase: its revenue."""
ZERO = Decimal("0.00")
SECOND = timedelta(seconds=1)
SETTLING = timedelta(hours=6)
"""Transactions younger than this are still pending."""
SHOWN = 3
"""How many times over the first rows of a kind go through every state: a demo of any size
has each state to look at and every action to try."""
RECENT_WALLETS = 6
"""The first wallets saw activity in the last hours, so a demo of any size has pending money."""
LOCKOUT = timedelta(hours=2)
"""How long the locked demo staff account stays locked: the longest lockout by default."""


T = TypeVar("T")


def money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class Weighted(Generic[T]):
    """A weighted choice prepared once: `pick` is `rng.choices(values, weights)[0]`, faster.

    It draws exactly as `random.choices` does, so the same seed gives the same data.
    """

    def __init__(self, values: Sequence[T], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cum_weights = list(accumulate(weights))
        self.total = self.cum_weights[-1] + 0.0
        self.hi = len(self.values) - 1
        self.dealt_in_turn = SHOWN * len(self.values)

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect(self.cum_weights, rng.random() * self.total, 0, self.hi)]

    def deal(self, rng: random.Random, n: int) -> T:
        """The `n`th draw: the first `SHOWN` rounds go through the values in turn, then `pick`."""
        if n < self.dealt_in_turn:
            return self.values[n % len(self.values)]
        # `pick`, inlined: this runs several times for each of millions of rows.
        return self.values[bisect(self.cum_weights, rng.random() * self.total, 0, self.hi)]


COUNTRY = Weighted(list(catalog.COUNTRIES), [w for w, _ in catalog.COUNTRIES.values()])
USER_STATUS = Weighted(["active", "suspended", "deactivated"], [90, 4, 6])
KYC_STATUS = Weighted(["verified", "pending", "unverified", "rejected"], [60, 15, 20, 5])
EMAIL_VERIFIED = Weighted([True, False], [85, 15])
MERCHANT_STATUS = Weighted(["pending", "suspended", "rejected", "active"], [12, 5, 8, 75])
"""For merchants after the first `ALWAYS_ACTIVE_MERCHANTS`, which customers buy from."""
ALWAYS_ACTIVE_MERCHANTS = 10
MERCHANT_CATEGORY = Weighted(list(catalog.MERCHANT_WORDS), [1] * len(catalog.MERCHANT_WORDS))
MERCHANT_DEACTIVATED = Weighted([True, False], [30, 70])
"""Whether a suspended merchant was also taken off the platform."""
PAYMENT_METHOD_COUNT = Weighted([0, 1, 2, 3], [10, 60, 22, 8])
PAYMENT_METHOD_KIND = Weighted(["card", "bank_account"], [80, 20])
PAYMENT_METHOD_STATUS = Weighted(["active", "expired", "removed"], [82, 12, 6])
WALLET_STATUS = Weighted(["active", "frozen"], [98, 2])
"""For customers still with us; a deactivated customer's wallets are closed."""
LEDGER_KIND = Weighted(
    [
        "purchase",
        "refund",
        "reversal",
        "deposit",
        "withdrawal",
        "adjustment",
        "transfer_in",
        "transfer_out",
    ],
    [62, 5, 1, 14, 8, 1, 6, 5],
)
OUTCOME = Weighted(["posted", "failed", "cancelled"], [96, 3, 1])
"""How a purchase, withdrawal or deposit ends (when not still pending)."""
FALLIBLE = frozenset({"purchase", "withdrawal", "deposit"})
STAFF_MADE = frozenset({"adjustment", "reversal"})
"""Corrections staff post: they post at once, never pending."""
CASHBACK = Weighted([True, False], [40, 60])
"""Whether a posted purchase earns cashback."""
ASKED_FOR_HELP = Weighted([True, False], [22, 78])
"""Whether a customer has opened support tickets."""
TICKET_STATUS = Weighted(
    ["open", "pending", "in_progress", "resolved", "closed"], [15, 10, 15, 35, 25]
)
TICKET_PRIORITY = Weighted(["low", "normal", "high", "urgent"], [20, 55, 20, 5])
TICKET_CATEGORY = Weighted(list(catalog.TICKET_SUBJECTS), [1] * len(catalog.TICKET_SUBJECTS))
TICKET_CHANNEL = Weighted(["in_app", "email", "chat", "phone"], [2, 1, 1, 1])
INTERNAL_NOTE = Weighted([True, False], [20, 80])
"""Whether an agent adds an internal note to a reply."""
SESSION_STATE = Weighted(["live", "expired", "revoked"], [30, 45, 25])
SESSION_KIND = Weighted(["browser", "api"], [2, 1])
SESSION_HOURS = 12


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def merchant_count(users: int) -> int:
    return max(20, users // 50)


def estimated_rows(users: int) -> int:
    """Roughly how many rows `users` customers bring with them, for a progress bar."""
    # user, wallets, cards, ledger, tickets, their messages (as generated, at scale)
    per_user = 1 + 1.08 + 1.28 + 7.04 + 0.28 + 1.0
    return int(users * per_user) + merchant_count(users) + 300


@dataclass
class Batch:
    table: str
    rows: list[Row]


@dataclass(frozen=True)
class AuditHead:
    """The last entry already in the audit trail, which demo entries continue from."""

    sequence: int
    row_hash: str
    created_at: datetime


@dataclass(frozen=True)
class Staff:
    id: uuid.UUID
    email: str
    role: str
    state: str = "active"
    """active, disabled (is_active off) or locked (too many failed sign-ins)."""


class DemoData:
    """Generates the demo dataset for `users` customers, in foreign-key order."""

    def __init__(
        self,
        users: int,
        role_ids: dict[str, uuid.UUID],
        password_hash: str,
        seed: int = 42,
        now: datetime | None = None,
        staff: list[Staff] | None = None,
        audit_head: AuditHead | None = None,
        environment_ids: dict[str, uuid.UUID] | None = None,
    ) -> None:
        self.users = users
        self.role_ids = role_ids
        self.environment_ids = environment_ids or {}
        """The flag environments the migrations made, by key."""
        self.password_hash = password_hash
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.today = self.now.date()
        self.first_names = [self.fake.first_name() for _ in range(400)]
        self.last_names = [self.fake.last_name() for _ in range(400)]
        self.staff: list[Staff] = list(staff or [])
        """Demo staff from an earlier seeding are reused: the audit trail points at them."""
        self.audit_head = audit_head
        self.merchants: list[Row] = []
        self.active_merchants: list[Row] = []
        self._tx_counter = 0
        self._ticket_counter = 0
        # How many of each dealt choice were made so far (see `Weighted.deal`).
        self._merchants_suspended = 0
        self._method_count = 0
        self._wallets_open = 0
        self._kinds_done = 0
        self._outcomes = 0
        self._posted_purchases = 0
        self._agent_replies = 0
        self._sessions = 0
        self._flags: dict[str, Row] = {}
        self._flag_served: dict[str, dict[str, FlagState]] = {}
        """Each flag's state in each environment, by flag key and environment key."""
        self._asked_wallet: tuple[Row, Row] | None = None
        """An active wallet and its customer, for the demo's approval requests."""

    def merchant_count(self) -> int:
        return merchant_count(self.users)

    def batches(self) -> Iterator[Batch]:
        """The hand-written batches, then rows made from its columns for any other table."""
        # Roles and flag environments come from the migrations, rollups from
        # `analytics.refresh` after the load, and existing staff are reused: none of them is
        # the generic rows' to write.
        ids: dict[str, list[Any]] = {
            "roles": list(self.role_ids.values()),
            "flag_environments": list(self.environment_ids.values()),
            "admin_users": [staff.id for staff in self.staff],
            "dashboard_analytics": [],
        }
        for batch in self._hand_written_batches():
            generic.remember(ids, batch.table, batch.rows)
            yield batch
        for table in list(generic.unwritten(ids)):
            batch = Batch(table.name, generic.rows(table, ids, self.rng, self.fake, self.now))
            generic.remember(ids, batch.table, batch.rows)
            yield batch

    def _hand_written_batches(self) -> Iterator[Batch]:
        if not self.staff:
            yield Batch("admin_users", self._staff_accounts())
        yield Batch("admin_sessions", self._staff_sessions())
        yield Batch("merchants", self._merchants())
        yield Batch("flag_segments", self._flag_segments())
        yield Batch("feature_flags", self._feature_flags())
        yield Batch("flag_environment_states", self._flag_states())
        yield Batch("flag_evaluation_counts", self._flag_evaluation_counts())
        ai_models = self._ai_models()
        yield Batch("ai_models", ai_models)
        campaigns, performance = self._campaigns(ai_models)
        yield Batch("ai_campaigns", campaigns)
        yield Batch("campaign_performance", performance)
        yield Batch("settings", self._settings())
        for start in range(0, self.users, USER_BATCH):
            yield from self._customers(start, min(start + USER_BATCH, self.users))
        yield Batch("audit_logs", self._audit_trail(campaigns))
        # Last, so that the rows before are the same with or without them.
        yield Batch("approval_requests", self._approval_requests())

    # Staff
    def _staff_accounts(self) -> list[Row]:
        rows = []
        for role, count in catalog.STAFF:
            for n in range(1, count + 1):
                first, last = self.rng.choice(self.first_names), self.rng.choice(self.last_names)
                email = f"{slug(first)}.{slug(last)}.{role}{n}@{STAFF_EMAIL_DOMAIN}"
                state = catalog.STAFF_STATES.get((role, n), "active")
                staff = Staff(self._uuid(), email, role, state)
                self.staff.append(staff)
                created = self._past(days=400, at_least=200)
                # Disabled before the month the demo's audit trail covers.
                last_login = (
                    self._past(days=60, at_least=31)
                    if state == "disabled"
                    else self._between(self.now - timedelta(days=3), self.now)
                )
                locked_at = self.now - timedelta(minutes=self.rng.randint(5, 30))
                rows.append(
                    {
                        "id": staff.id,
                        "email": email,
                        "full_name": f"{first} {last}",
                        "password_hash": self.password_hash,
                        "role_id": self.role_ids[role],
                        "is_active": state != "disabled",
                        "failed_login_count": 0,
                        # Locked after lockouts in a row, each twice as long as the last.
                        "lockout_count": 4 if state == "locked" else 0,
                        "locked_until": locked_at + LOCKOUT if state == "locked" else None,
                        "last_login_at": last_login,
                        "last_login_ip": self._staff_ip(),
                        "password_changed_at": created,
                        "totp_secret": None,
                        "created_at": created,
                        "updated_at": last_login if state == "disabled" else created,
                    }
                )
        return rows

    def _staff_sessions(self) -> list[Row]:
        rows = []
        for staff in self.staff:
            for _ in range(self.rng.randint(1, 3)):
                # Disabling an account signs it out everywhere.
                if staff.state == "disabled":
                    state = "revoked"
                else:
                    state = SESSION_STATE.deal(self.rng, self._sessions)
                    self._sessions += 1
                if state == "live":
                    issued = self.now - timedelta(minutes=self.rng.randint(40, 60 * 11))
                    last_seen = self.now - timedelta(minutes=self.rng.randint(1, 25))
                else:
                    issued = self.now - timedelta(hours=self.rng.randint(SESSION_HOURS, 24 * 20))
                    last_seen = issued + timedelta(minutes=self.rng.randint(1, 300))
                revoked = last_seen + timedelta(minutes=5) if state == "revoked" else None
                reason = "account changed: is_active" if staff.state == "disabled" else "logout"
                rows.append(
                    {
                        "id": self._uuid(),
                        "admin_user_id": staff.id,
                        "kind": SESSION_KIND.deal(self.rng, len(rows)),
                        # Real randomness: a demo session must never be guessable from the seed.
                        "token_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                        "expires_at": issued + timedelta(hours=SESSION_HOURS),
                        "last_seen_at": last_seen,
                        "revoked_at": revoked,
                        "revoked_reason": reason if revoked else None,
                        "ip_address": self._staff_ip(),
                        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/131.0",
                        "created_at": issued,
                        "updated_at": issued,
                    }
                )
        return rows

    # Catalogue tables
    def _merchants(self) -> list[Row]:
        rows = []
        for i in range(self.merchant_count()):
            category = MERCHANT_CATEGORY.deal(self.rng, i)
            name = f"{self.fake.last_name()} {self.rng.choice(catalog.MERCHANT_WORDS[category])}"
            status = (
                MERCHANT_STATUS.deal(self.rng, i - ALWAYS_ACTIVE_MERCHANTS)
                if i >= ALWAYS_ACTIVE_MERCHANTS
                else "active"
            )
            created = self._past(days=720, at_least=30)
            deactivated = None
            if status == "suspended":
                if MERCHANT_DEACTIVATED.deal(self.rng, self._merchants_suspended):
                    deactivated = self._between(created + timedelta(days=3), self.now)
                self._merchants_suspended += 1
            rows.append(
                {
                    "id": self._uuid(),
                    "name": name,
                    "legal_name": f"{name} LLC",
                    "contact_email": f"hello.{i}@{slug(name)}.example.com",
                    "phone": f"+1555{8_000_000 + i:07d}",
                    "website": f"https://{slug(name)}.example.com",
                    "status": status,
                    "category": category,
                    "cashback_rate": money(self.rng.choice([0.5, 1, 1.5, 2, 3, 5])),
                    "tags": self.rng.sample(catalog.MERCHANT_TAGS, self.rng.randint(0, 3)),
                    "address": {
                        "line1": self.fake.street_address(),
                        "city": self.fake.city(),
                        "region": self.fake.state_abbr(),
                        "postal_code": self.fake.postcode(),
                        "country": "US",
                    },
                    "rejection_reason": (
                        self.rng.choice(catalog.REJECTION_REASONS) if status == "rejected" else None
                    ),
                    "approved_at": (
                        created + timedelta(days=2) if status in ("active", "suspended") else None
                    ),
                    "deactivated_at": deactivated,
                    "created_at": created,
                    "updated_at": deactivated or created,
                }
            )
        self.merchants = rows
        self.active_merchants = [m for m in rows if m["status"] == "active"]
        return rows

    def _flag_segments(self) -> list[Row]:
        # Named and dated without drawing: every row after is the same with or without them.
        made = self.now - timedelta(days=60)
        return [
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"swipesavvy:segment:{spec['key']}"),
                "allow_list": [],
                "deny_list": [],
                "revision": 1,
                "created_at": made,
                "updated_at": made,
                **spec,
            }
            for spec in catalog.FLAG_SEGMENTS
        ]

    def _feature_flags(self) -> list[Row]:
        rows = []
        for spec in catalog.FEATURE_FLAGS:
            spec = dict(spec)
            age = spec.pop("age_days")
            created = self._past(days=age, at_least=age)
            starts = self._day_at(spec.pop("starts", None))
            ends = self._day_at(spec.pop("ends", None))
            rows.append(
                {
                    "id": self._uuid(),
                    "description": "",
                    "platforms": [],
                    "min_app_version": None,
                    "max_app_version": None,
                    "allow_list": [],
                    "deny_list": [],
                    "rules": [],
                    "included_segments": [],
                    "excluded_segments": [],
                    "prerequisites": [],
                    "variants": [],
                    "default_value": None,
                    "starts_at": starts,
                    "ends_at": ends,
                    "revision": self.rng.randint(1, 9),
                    "requires_review": False,
                    "created_at": created,
                    "updated_at": self._between(created, self.now),
                    **spec,
                }
            )
            self._flags[rows[-1]["key"]] = rows[-1]
        return rows

    def _flag_states(self) -> list[Row]:
        """Each flag in every environment but the one its own row holds: on for everyone in
        development; in staging, releases at 100% and experiments on, ahead of production,
        so copying staging to production has something to show."""
        environments = [FlagEnvironment(id=i, key=key) for key, i in self.environment_ids.items()]
        columns = [column.key for column in FlagEnvironmentState.__table__.columns]
        rows = []
        for row in self._flags.values():
            flag = FeatureFlag(**row)
            served = self._flag_served[row["key"]] = {}
            for environment in environments:
                if (own := state_of(flag, environment, {})) is not None:
                    served[environment.key] = own
                    continue
                state = served[environment.key] = new_state(flag, environment)
                if environment.key == "development":
                    state.enabled, state.rollout_percentage = True, Decimal(100)
                elif flag.flag_type in ("release", "experiment"):
                    state.enabled = True
                    if flag.flag_type == "release":
                        state.rollout_percentage = Decimal(100)
                made = {name: getattr(state, name) for name in columns}
                moments = {"created_at": row["created_at"], "updated_at": row["updated_at"]}
                # Named, not drawn: every row after is the same with or without these.
                named = uuid.uuid5(row["id"], environment.key)
                rows.append(made | moments | {"id": named})
        return rows

    def _flag_evaluation_counts(self) -> list[Row]:
        """The last `COUNTED_HOURS` of the doors' answers, as the bulk feed counts them:
        every live flag once per poll of its environment, split roughly as its state says
        (the rollout's share on, by the variants' weights; off outside its schedule).
        Named, not drawn: every row after is the same with or without these."""
        first = self.now.replace(minute=0, second=0) - timedelta(hours=COUNTED_HOURS - 1)
        hours = [first + timedelta(hours=n) for n in range(COUNTED_HOURS)]
        rows = []
        for row in self._flags.values():
            for environment, state in self._flag_served[row["key"]].items():
                for hour in hours:
                    for variant, count in _answers(state, hour, _polls(environment, hour)):
                        named = uuid.uuid5(row["id"], f"{environment} {variant} {hour:%Y%m%d%H}")
                        rows.append(
                            {
                                "id": named,
                                "flag_key": row["key"],
                                "environment": environment,
                                "variant": variant,
                                "hour": hour,
                                "count": count,
                            }
                        )
        return rows

    # Four eyes
    def _approval_requests(self) -> list[Row]:
        """One request in each state a request can be in, asked by the demo staff who may
        make those changes and decided by the one who may approve them; the pending one
        waits for the demo superadmin (an adjustment above the threshold)."""
        admin = next(s for s in self.staff if s.role == "admin" and s.state == "active")
        operations = next(s for s in self.staff if s.role == "operations" and s.state == "active")
        analyst = next(s for s in self.staff if s.role == "analyst" and s.state == "active")
        rows: list[Row] = []
        for spec in catalog.APPROVAL_REQUESTS:
            maker = {"admin": admin, "operations": operations, "analyst": analyst}[spec["maker"]]
            asked = self.now - timedelta(hours=spec["hours_ago"])
            decided = asked + timedelta(hours=2) if spec["status"] not in ("pending",) else None
            table, action = spec["table"], spec["action"]
            row: Row = {
                "id": self._uuid(),
                "table_name": table,
                "action": action,
                "action_label": spec["label"],
                "permission": f"{table}:{action}"
                if action == "export"
                else f"{table}:action:{action}",
                "record_ids": [],
                "record_label": "",
                "params": {},
                "preview": "",
                "rule": spec.get("rule", ""),
                "reason": spec["reason"],
                "status": spec["status"],
                "maker_id": maker.id,
                "checker_id": admin.id if spec.get("decision") is not None else None,
                "expires_at": asked + timedelta(hours=24),
                "decided_at": decided if spec["status"] not in ("expired",) else None,
                "decision_reason": spec.get("decision") or None,
                "executed_at": decided if spec["status"] == "executed" else None,
                "outcome": spec.get("outcome"),
                "created_at": asked,
                "updated_at": decided or asked,
            }
            if table == "wallets":
                row |= self._adjustment_asked(spec["times"], spec["reason"])
            elif table == "feature_flags":
                flag = self._flags[spec["flag"]]
                row |= {"record_ids": [str(flag["id"])], "record_label": flag["key"]}
                row["params"] = {"reason": [spec["reason"]]}
            else:
                row |= {
                    "record_label": f"Transactions: {self._tx_counter:,} rows",
                    "params": {"format": "csv", "query": "status=posted"},
                    "preview": f"{self._tx_counter:,} rows of transactions, status posted",
                }
            rows.append(row)
        return rows

    def _adjustment_asked(self, times: Decimal, reason: str) -> Row:
        """What an adjustment request keeps: the wallet, the form as filled in, the effect."""
        assert self._asked_wallet is not None, "the demo has an active wallet"
        wallet, user = self._asked_wallet
        currency = wallet["currency"]
        scaled = (times * DEFAULT_THRESHOLDS[currency]).quantize(CENT)
        after = wallet["balance"] + scaled
        return {
            "record_ids": [str(wallet["id"])],
            "record_label": f"{currency} wallet of {user['first_name']} {user['last_name']}",
            "params": {
                "direction": ["credit"],
                "amount": [f"{scaled:.2f}"],
                "reason": [reason],
                "idempotency_key": [uuid.UUID(int=self.rng.getrandbits(128)).hex],
            },
            "preview": f"balance {wallet['balance']:,.2f} → {after:,.2f} {currency}",
            "rule": f"{scaled:,.2f} {currency} is above the {DEFAULT_THRESHOLDS[currency]:,.2f} "
            f"{currency} threshold for one person.",
        }

    def _ai_models(self) -> list[Row]:
        rows = []
        for spec in catalog.AI_MODELS:
            created = self._past(days=365, at_least=30)
            rows.append({"id": self._uuid(), "created_at": created, "updated_at": created, **spec})
        return rows

    def _campaigns(self, ai_models: list[Row]) -> tuple[list[Row], list[Row]]:
        copywriters = [m["id"] for m in ai_models if m["purpose"] == "copywriting"]
        marketers = [s.id for s in self.staff if s.role == "marketing"]
        campaigns, performance = [], []
        for spec in catalog.CAMPAIGNS:
            start = self._day_at(spec["start"])
            end = self._day_at(spec["end"])
            campaign_id = self._uuid()
            days = []
            if spec["status"] in ("active", "paused", "completed") and start and end:
                last = min(end.date(), self.today - timedelta(days=1))
                days = [
                    start.date() + timedelta(days=d) for d in range((last - start.date()).days + 1)
                ]
            spend = Decimal("0.00")
            daily_budget = spec["budget"] / max(1, (end - start).days if start and end else 30)
            for day in days:
                impressions = self.rng.randint(5_000, 60_000)
                clicks = int(impressions * self.rng.uniform(0.01, 0.06))
                conversions = int(clicks * self.rng.uniform(0.03, 0.15))
                day_spend = money(float(daily_budget) * self.rng.uniform(0.6, 1.0))
                spend += day_spend
                stamp = min(datetime.combine(day + timedelta(days=1), time(1), UTC), self.now)
                performance.append(
                    {
                        "id": self._uuid(),
                        "campaign_id": campaign_id,
                        "day": day,
                        "impressions": impressions,
                        "clicks": clicks,
                        "conversions": conversions,
                        "spend": day_spend,
                        "revenue": money(conversions * self.rng.uniform(8, 45)),
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
            created = min(start or self.now, self.now) - timedelta(days=self.rng.randint(5, 20))
            campaigns.append(
                {
                    "id": campaign_id,
                    "name": spec["name"],
                    "status": spec["status"],
                    "channel": spec["channel"],
                    "description": f"{spec['name']}: {spec['channel'].replace('_', '-')} campaign.",
                    "audience": {
                        "countries": ["US", "CA"],
                        "min_age": 18,
                        "segments": self.rng.sample(["new", "active", "lapsed", "vip"], 2),
                    },
                    "budget": spec["budget"],
                    "spend": spend,
                    "currency": "USD",
                    "starts_at": start,
                    "ends_at": end,
                    "ai_model_id": self.rng.choice(copywriters),
                    "created_by_id": self.rng.choice(marketers),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return campaigns, performance

    def _settings(self) -> list[Row]:
        stamp = self._past(days=60, at_least=1)
        return [
            {
                "id": self._uuid(),
                "updated_by_id": None,
                "created_at": stamp,
                "updated_at": stamp,
                **spec,
            }
            for spec in catalog.RUNTIME_SETTINGS
        ]

    # Customers and everything that hangs off them
    def _customers(self, start: int, stop: int) -> Iterator[Batch]:
        users, wallets, methods, transactions, tickets, messages = [], [], [], [], [], []
        for i in range(start, stop):
            user = self._user(i)
            users.append(user)
            user_methods = self._payment_methods(user)
            methods.extend(user_methods)
            for wallet in self._wallets(user):
                wallet_transactions = self._ledger(wallet, user, user_methods)
                wallets.append(wallet)
                if self._asked_wallet is None and wallet["status"] == "active":
                    self._asked_wallet = (wallet, user)
                transactions.extend(wallet_transactions)
            for ticket, thread in self._tickets(user, i):
                tickets.append(ticket)
                messages.extend(thread)
        yield Batch("users", users)
        yield Batch("payment_methods", methods)
        yield Batch("wallets", wallets)
        yield Batch("wallet_transactions", transactions)
        yield Batch("support_tickets", tickets)
        yield Batch("ticket_messages", messages)

    def _user(self, i: int) -> Row:
        first, last = self.rng.choice(self.first_names), self.rng.choice(self.last_names)
        days_ago = int(365 * self.rng.random() ** 1.6)
        created = self.now - timedelta(days=days_ago, seconds=self.rng.randint(0, 86_399))
        country = COUNTRY.pick(self.rng)
        status = USER_STATUS.deal(self.rng, i)
        kyc = KYC_STATUS.deal(self.rng, i)
        return {
            "id": self._uuid(),
            "email": f"{slug(first)}.{slug(last)}{i}@example.com",
            "phone": f"+1555{i:07d}" if i < 8_000_000 else None,
            "first_name": first,
            "last_name": last,
            "date_of_birth": date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 20_000)),
            "country": country,
            "status": status,
            "kyc_status": kyc,
            "email_verified": EMAIL_VERIFIED.deal(self.rng, i),
            "last_active_at": self._between(created, self.now) if status == "active" else None,
            "deactivated_at": self._between(created, self.now) if status == "deactivated" else None,
            "created_at": created,
            "updated_at": created,
        }

    def _payment_methods(self, user: Row) -> list[Row]:
        count = PAYMENT_METHOD_COUNT.pick(self.rng)
        rows = []
        for n in range(count):
            status = PAYMENT_METHOD_STATUS.deal(self.rng, self._method_count)
            # Only cards expire; a card in use expires after this year.
            kind = (
                "card"
                if status == "expired"
                else PAYMENT_METHOD_KIND.deal(self.rng, self._method_count)
            )
            self._method_count += 1
            is_card = kind == "card"
            created = self._between(user["created_at"], self.now)
            exp_year = None
            if is_card:
                shift = -self.rng.randint(1, 3) if status == "expired" else self.rng.randint(1, 5)
                exp_year = self.today.year + shift
            rows.append(
                {
                    "id": self._uuid(),
                    "user_id": user["id"],
                    "kind": kind,
                    "brand": self.rng.choice(catalog.CARD_BRANDS if is_card else catalog.BANKS),
                    "last_four": f"{self.rng.randint(0, 9999):04d}",
                    "exp_month": self.rng.randint(1, 12) if is_card else None,
                    "exp_year": exp_year,
                    "holder_name": f"{user['first_name']} {user['last_name']}",
                    "is_default": n == 0 and status != "removed",
                    "status": status,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return rows

    def _wallets(self, user: Row) -> list[Row]:
        currencies = [catalog.COUNTRIES[user["country"]][1]]
        if self.rng.random() < 0.08:
            currencies.append("EUR" if currencies[0] != "EUR" else "USD")
        rows = []
        for currency in currencies:
            if user["status"] == "deactivated":
                status = "closed"
            else:
                status = WALLET_STATUS.deal(self.rng, self._wallets_open)
                self._wallets_open += 1
            rows.append(
                {
                    "id": self._uuid(),
                    "user_id": user["id"],
                    "currency": currency,
                    "balance": Decimal("0.00"),
                    "status": status,
                    "created_at": user["created_at"],
                    "updated_at": user["created_at"],
                }
            )
        return rows

    def _ledger(self, wallet: Row, user: Row, methods: list[Row]) -> list[Row]:
        """A wallet's history in time order; sets the wallet's balance from it."""
        count = self.rng.randint(2, 9)
        start = wallet["created_at"]
        end = user["deactivated_at"] or self.now
        stamps = sorted(self._between(start, end) for _ in range(count))
        if wallet["status"] == "active" and self._wallets_open <= RECENT_WALLETS:
            stamps[-1] = max(stamps[-1], self._between(self.now - SETTLING + SECOND, self.now))
        default_method = methods[0]["id"] if methods else None
        active_merchants = self.active_merchants
        balance = Decimal("0.00")
        closing = False
        # Posted purchases not yet refunded or reversed: each is corrected at most once.
        purchases: list[Row] = []
        rows: list[Row] = []

        def post(kind: str, amount: Decimal, stamp: datetime, **extra: Any) -> Row:
            nonlocal balance
            if closing or kind not in FALLIBLE:
                status = "posted"
            else:
                status = OUTCOME.deal(self.rng, self._outcomes)
                self._outcomes += 1
            young = self.now - stamp < SETTLING
            if status == "posted" and young and not closing and kind not in STAFF_MADE:
                status = "pending"
            if status == "posted":
                balance += amount
            row = self._transaction(wallet, kind, status, amount, stamp, extra)
            rows.append(row)
            return row

        for n, stamp in enumerate(stamps):
            if n == 0:
                post(
                    "deposit",
                    money(self.rng.uniform(50, 800)),
                    stamp,
                    payment_method_id=default_method,
                )
                continue
            # A kind dealt that cannot be posted here (nothing to refund, too little money)
            # is dealt again for the next entry: only a kind posted as dealt counts.
            dealt = kind = LEDGER_KIND.deal(self.rng, self._kinds_done)
            if kind == "refund" or kind == "reversal":
                if purchases:
                    original = purchases.pop(self.rng.randrange(len(purchases)))
                    post(
                        kind,
                        -original["amount"],
                        stamp,
                        merchant_id=original["merchant_id"],
                        related_transaction_id=original["id"],
                        description=(
                            self.rng.choice(catalog.REVERSAL_REASONS)
                            if kind == "reversal"
                            else f"Refund of {original['reference']}"
                        ),
                    )
                    self._kinds_done += 1
                    continue
                kind = "purchase"
            if kind == "deposit" or kind == "transfer_in":
                post(
                    kind,
                    money(self.rng.uniform(20, 500)),
                    stamp,
                    payment_method_id=default_method if kind == "deposit" else None,
                )
                self._kinds_done += 1
                continue
            if kind == "adjustment":
                debit = balance > 25 and self.rng.random() < 0.5
                amount = money(self.rng.uniform(1, 25))
                reason = self.rng.choice(catalog.ADJUSTMENT_REASONS["debit" if debit else "credit"])
                post(kind, -amount if debit else amount, stamp, description=reason)
                self._kinds_done += 1
                continue
            amount = money(
                self.rng.uniform(3, 180) if kind == "purchase" else self.rng.uniform(10, 300)
            )
            if amount > balance:
                post(
                    "deposit",
                    money(self.rng.uniform(50, 400)),
                    stamp,
                    payment_method_id=default_method,
                )
                continue
            self._kinds_done += kind == dealt
            if kind != "purchase":
                post(kind, -amount, stamp)
                continue
            merchant = self.rng.choice(active_merchants)
            purchase = post(
                "purchase",
                -amount,
                stamp,
                merchant_id=merchant["id"],
                fee=money(amount * MERCHANT_FEE_RATE),
            )
            if purchase["status"] == "posted":
                purchases.append(purchase)
                earns = CASHBACK.deal(self.rng, self._posted_purchases)
                self._posted_purchases += 1
                cashback = money(amount * merchant["cashback_rate"] / 100)
                if earns and cashback > 0:
                    post(
                        "cashback",
                        cashback,
                        min(stamp + timedelta(minutes=1), self.now),
                        merchant_id=merchant["id"],
                        related_transaction_id=purchase["id"],
                    )
        if wallet["status"] == "closed" and balance > 0:
            closing = True
            post("withdrawal", -balance, max(stamps[-1], end))
        wallet["balance"] = balance
        return rows

    def _transaction(
        self,
        wallet: Row,
        kind: str,
        status: str,
        amount: Decimal,
        stamp: datetime,
        extra: dict[str, Any],
    ) -> Row:
        self._tx_counter += 1
        row = {
            "id": self._uuid(),
            "reference": "TXN-%d%02d%02d-%09d"  # noqa: UP031 - %-format is the fast one here
            % (stamp.year, stamp.month, stamp.day, self._tx_counter),
            "wallet_id": wallet["id"],
            "type": kind,
            "status": status,
            "amount": amount,
            "fee": ZERO,
            "currency": wallet["currency"],
            "description": kind.replace("_", " ").capitalize(),
            "merchant_id": None,
            "payment_method_id": None,
            "related_transaction_id": None,
            "idempotency_key": None,
            "posted_at": stamp if status == "posted" else None,
            "created_at": stamp,
            "updated_at": stamp,
            **extra,
        }
        return row

    def _tickets(self, user: Row, i: int) -> Iterator[tuple[Row, list[Row]]]:
        if not ASKED_FOR_HELP.deal(self.rng, i):
            return
        agents = [s for s in self.staff if s.role == "support"]
        for _ in range(self.rng.choice([1, 1, 1, 2])):
            number = self._ticket_counter
            category = TICKET_CATEGORY.deal(self.rng, number)
            subject = self.rng.choice(catalog.TICKET_SUBJECTS[category])
            created = self._between(user["created_at"], self.now - timedelta(minutes=30))
            status = TICKET_STATUS.deal(self.rng, number)
            ticket_id = self._uuid()
            agent = self.rng.choice(agents)
            thread = [
                self._message(ticket_id, "customer", subject + ". " + self.fake.sentence(), created)
            ]
            first_response = resolved = closed = None
            if status != "open":
                stamp = created
                for n in range(self.rng.randint(1, 4)):
                    stamp = min(stamp + timedelta(minutes=self.rng.randint(5, 1_800)), self.now)
                    if n % 2 == 0:
                        first_response = first_response or stamp
                        thread.append(
                            self._message(
                                ticket_id,
                                "agent",
                                self.rng.choice(catalog.AGENT_REPLIES),
                                stamp,
                                author=agent.id,
                            )
                        )
                        internal = INTERNAL_NOTE.deal(self.rng, self._agent_replies)
                        self._agent_replies += 1
                        if internal:
                            thread.append(
                                self._message(
                                    ticket_id,
                                    "agent",
                                    self.rng.choice(catalog.INTERNAL_NOTES),
                                    stamp,
                                    author=agent.id,
                                    internal=True,
                                )
                            )
                    else:
                        thread.append(
                            self._message(
                                ticket_id,
                                "customer",
                                self.rng.choice(catalog.CUSTOMER_FOLLOW_UPS),
                                stamp,
                            )
                        )
                if status in ("resolved", "closed"):
                    resolved = min(stamp + timedelta(minutes=10), self.now)
                    if status == "closed":
                        closed = min(resolved + timedelta(days=2), self.now)
                        thread.append(
                            self._message(ticket_id, "system", catalog.CLOSED_NOTE, closed)
                        )
            self._ticket_counter += 1
            yield (
                {
                    "id": ticket_id,
                    "reference": f"TCK-{self._ticket_counter:08d}",
                    "user_id": user["id"],
                    "subject": subject,
                    "description": thread[0]["body"],
                    "status": status,
                    "priority": TICKET_PRIORITY.deal(self.rng, number),
                    "category": category,
                    "channel": TICKET_CHANNEL.deal(self.rng, number),
                    "assignee_id": agent.id if status != "open" else None,
                    "tags": self.rng.sample(
                        ["vip", "refund", "bug", "kyc", "chargeback"], self.rng.randint(0, 2)
                    ),
                    "first_response_at": first_response,
                    "resolved_at": resolved,
                    "closed_at": closed,
                    "created_at": created,
                    "updated_at": closed or resolved or thread[-1]["created_at"],
                },
                thread,
            )

    def _message(
        self,
        ticket_id: uuid.UUID,
        author_type: str,
        body: str,
        stamp: datetime,
        author: uuid.UUID | None = None,
        internal: bool = False,
    ) -> Row:
        return {
            "id": self._uuid(),
            "ticket_id": ticket_id,
            "author_type": author_type,
            "author_admin_id": author,
            "body": body,
            "is_internal": internal,
            "created_at": stamp,
        }

    # Derived tables
    def _audit_trail(self, campaigns: list[Row]) -> list[Row]:
        entries: list[tuple[Staff, str, str, str | None, Row | None, Row | None]] = []
        admins = [s for s in self.staff if s.role in ("admin", "operations")]
        for merchant in self.merchants[:15]:
            if merchant["status"] in ("active", "rejected"):
                action = "action:approve" if merchant["status"] == "active" else "action:reject"
                entries.append(
                    (
                        self.rng.choice(admins),
                        action,
                        "merchants",
                        str(merchant["id"]),
                        {"status": "pending"},
                        {"status": merchant["status"]},
                    )
                )
        marketers = [s for s in self.staff if s.role == "marketing"]
        for campaign in campaigns:
            entries.append(
                (
                    self.rng.choice(marketers),
                    "create",
                    "ai_campaigns",
                    str(campaign["id"]),
                    None,
                    {"name": campaign["name"]},
                )
            )
        for staff in self.staff:
            if staff.state == "disabled":
                before, after = {"is_active": True}, {"is_active": False}
                disabler = self.rng.choice(admins)
                entries.append(
                    (disabler, "action:disable", "admin_users", str(staff.id), before, after)
                )
            else:
                entries.append((staff, "login.success", "admin_users", str(staff.id), None, None))
        head = self.audit_head or AuditHead(0, GENESIS_HASH, self.now - timedelta(days=30))
        start = max(head.created_at, self.now - timedelta(days=30))
        stamps = sorted(self._between(start, self.now) for _ in entries)
        rows, prev = [], head.row_hash
        for sequence, ((staff, action, entity, entity_id, before, after), stamp) in enumerate(
            zip(entries, stamps, strict=True), start=head.sequence + 1
        ):
            row = {
                "id": self._uuid(),
                "sequence": sequence,
                "created_at": stamp,
                "actor_id": staff.id,
                "actor_email": staff.email,
                "action": action,
                "entity_type": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
                "ip_address": "10.0.0.12",
                "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/131.0",
                "request_id": self._uuid().hex,
                "prev_hash": prev,
            }
            row["row_hash"] = prev = row_hash(row)
            rows.append(row)
        return rows

    def _staff_ip(self) -> str:
        return f"10.0.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # Time helpers
    def _past(self, days: int, at_least: int) -> datetime:
        return self.now - timedelta(
            days=self.rng.randint(at_least, days), seconds=self.rng.randint(0, 86_399)
        )

    def _between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        span = (end - start) // SECOND
        return start + timedelta(seconds=self.rng.randrange(span + 1))  # randint(0, span)

    def _day_at(self, offset: int | None) -> datetime | None:
        if offset is None:
            return None
        return datetime.combine(self.today + timedelta(days=offset), time(9), UTC)


def _polls(environment: str, hour: datetime) -> int:
    """Bulk answers in `environment` in `hour`: fewest at 04:00 UTC, most at 16:00, give or
    take a tenth from hour to hour."""
    peak = POLLS_PER_HOUR.get(environment, 0)
    daytime = 0.3 + 0.7 * (1 - math.cos(2 * math.pi * (hour.hour - 4) / 24)) / 2
    wobble = 1 + (zlib.crc32(f"{environment} {hour:%Y%m%d%H}".encode()) % 21 - 10) / 100
    return round(peak * daytime * wobble)


def _answers(state: FlagState, hour: datetime, polls: int) -> list[tuple[str, int]]:
    """`polls` answers of a flag in `state`, by variant (`flags.usage.variant_of`)."""
    live = (
        state.enabled
        and (state.starts_at is None or state.starts_at <= hour)
        and (state.ends_at is None or hour < state.ends_at)
    )
    on = round(polls * float(state.rollout_percentage) / 100) if live else 0
    split = [("off", polls - on)]
    if not state.variants:
        split.append(("on", on))
    else:
        given = 0
        for variant in state.variants[:-1]:
            share = round(on * variant["weight"] / 100)
            split.append((variant["name"], share))
            given += share
        split.append((state.variants[-1]["name"], on - given))
    return [(variant, count) for variant, count in split if count > 0]
