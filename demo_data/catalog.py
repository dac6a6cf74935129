"""Hand-written demo content: flags, AI models, campaigns, settings, support phrases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

COUNTRIES: dict[str, tuple[int, str]] = {
    # country: (weight, wallet currency)
    "US": (70, "USD"),
    "GB": (10, "GBP"),
    "CA": (8, "CAD"),
    "DE": (5, "EUR"),
    "FR": (4, "EUR"),
    "MX": (3, "MXN"),
}

CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
BANKS = ("Chase", "Bank of America", "Wells Fargo", "Citi", "Capital One", "HSBC", "Barclays")

MERCHANT_WORDS: dict[str, tuple[str, ...]] = {
    "grocery": ("Market", "Grocers", "Fresh Foods", "Pantry"),
    "dining": ("Bistro", "Kitchen", "Diner", "Coffee Co.", "Taqueria"),
    "retail": ("Outfitters", "Goods", "Supply", "Boutique"),
    "travel": ("Travel", "Airways", "Stays", "Rail"),
    "fuel": ("Fuel", "Gas & Go", "Petro"),
    "entertainment": ("Cinemas", "Games", "Live", "Arcade"),
    "health": ("Pharmacy", "Wellness", "Clinic"),
    "services": ("Cleaners", "Repairs", "Salon"),
    "digital": ("Apps", "Streaming", "Cloud"),
    "other": ("Trading Co.", "& Sons", "Collective"),
}
MERCHANT_TAGS = ("local", "online", "chain", "eco", "premium", "new", "popular", "late-night")
REJECTION_REASONS = (
    "Business registration could not be verified.",
    "Category not supported in this region.",
    "Incomplete bank details after three reminders.",
)

TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "account": ("Can't log in after phone change", "Please update my email", "Close my account"),
    "payments": (
        "Payment declined at checkout",
        "Charged twice for one purchase",
        "Deposit not showing up",
    ),
    "cards": ("Card expired, how do I replace it?", "Remove an old card", "Card was stolen"),
    "rewards": ("Cashback missing from last purchase", "How are rewards calculated?"),
    "merchant": ("Merchant refused SwipeSavvy", "Wrong merchant name on statement"),
    "technical": ("App crashes on Android 15", "Notifications stopped working"),
    "other": ("Feedback on the new design", "Question about fees"),
}
AGENT_REPLIES = (
    "Thanks for reaching out. I'm looking into this for you now.",
    "I've checked your account and can see what happened; details below.",
    "Could you confirm the last four digits of the card you used?",
    "This is fixed on our side. Please try again and let us know.",
    "I've escalated this to our payments team and will update you within a day.",
)
CUSTOMER_FOLLOW_UPS = (
    "Thanks, that worked!",
    "It's still happening, I tried again this morning.",
    "The card ends in 4242.",
    "Any news on this?",
)
CLOSED_NOTE = "Ticket closed. A reply from the customer opens it again."
"""What the system writes into a thread when a ticket closes."""
ADJUSTMENT_REASONS = {
    # staff's reason for a manual credit / debit
    "credit": ("Goodwill credit for a delayed deposit", "Compensation for an app outage"),
    "debit": ("Correction: cashback credited twice", "Correction: goodwill credit posted twice"),
}
REVERSAL_REASONS = ("Duplicate charge reversed", "Merchant voided the sale")
INTERNAL_NOTES = (
    "Checked the ledger: the second charge is a pending authorisation, not posted.",
    "Customer verified by phone. OK to proceed.",
    "Possible fraud pattern; flagged to risk.",
)

STAFF: tuple[tuple[str, int], ...] = (
    # (role, how many demo staff accounts)
    ("admin", 1),
    ("operations", 2),
    ("support", 4),
    ("marketing", 2),
    ("analyst", 1),
    ("viewer", 1),
)
STAFF_STATES: dict[tuple[str, int], str] = {
    # (role, number within the role): how that demo account stands; the rest are active.
    ("support", 4): "disabled",
    ("operations", 2): "locked",
}

FLAG_SEGMENTS: tuple[dict[str, Any], ...] = (
    {
        "key": "beta-testers",
        "name": "Beta testers",
        "description": "Customers who joined the beta programme in the app's settings.",
        "rules": [{"attribute": "beta_program", "operator": "eq", "values": ["joined"]}],
    },
    {
        "key": "eu-customers",
        "name": "EU customers",
        "description": "Customers whose account country is in the European Union.",
        "rules": [
            {
                "attribute": "country",
                "operator": "in",
                "values": ["AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "NL", "PT"],
            }
        ],
    },
)
"""Audiences the demo flags include or exclude."""

FEATURE_FLAGS: tuple[dict[str, Any], ...] = (
    # age_days: how long ago the flag was created (past its type's lifetime it shows as stale);
    # starts/ends: its schedule in days relative to today, when it has one.
    {
        "key": "new-checkout-flow",
        "age_days": 12,
        "name": "New checkout flow",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("35.00"),
        "platforms": ["ios", "android"],
        "min_app_version": "4.2.0",
        "description": "Single-screen checkout with saved cards.",
    },
    {
        "key": "dark-mode",
        "age_days": 210,
        "name": "Dark mode",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("100.00"),
        "platforms": [],
        "min_app_version": "4.0.0",
        "description": "Dark theme across the app.",
    },
    {
        "key": "cashback-boost-weekend",
        "age_days": 10,
        "starts": -2,
        "ends": 5,
        "name": "Weekend cashback boost",
        "flag_type": "experiment",
        "enabled": True,
        "rollout_percentage": Decimal("50.00"),
        "platforms": ["ios", "android"],
        "variants": [
            {"name": "control", "weight": 50, "payload": {"multiplier": 1}},
            {"name": "double", "weight": 50, "payload": {"multiplier": 2}},
        ],
        "default_value": {"multiplier": 1},
        "description": "Does doubling weekend cashback lift purchases?",
    },
    {
        "key": "p2p-transfers",
        "age_days": 20,
        "name": "Peer-to-peer transfers",
        "flag_type": "release",
        "requires_review": True,
        "enabled": True,
        "rollout_percentage": Decimal("10.00"),
        "platforms": ["ios"],
        "min_app_version": "4.3.0",
        "rules": [{"attribute": "country", "operator": "in", "values": ["US", "CA"]}],
        "description": "Send money to other SwipeSavvy users.",
    },
    {
        "key": "card-payments-kill-switch",
        "age_days": 400,
        "name": "Card payments kill switch",
        "flag_type": "kill_switch",
        "enabled": False,
        "rollout_percentage": Decimal("100.00"),
        "platforms": [],
        "description": "Turns off card top-ups if the processor misbehaves.",
    },
    {
        "key": "maintenance-banner",
        "age_days": 2,
        "name": "Maintenance banner",
        "flag_type": "operational",
        "enabled": False,
        "rollout_percentage": Decimal("100.00"),
        "platforms": [],
        "default_value": {"message": "Scheduled maintenance tonight 01:00-02:00 UTC"},
        "description": "Shows a banner about planned downtime.",
    },
    {
        "key": "crypto-wallet-beta",
        "age_days": 150,
        "name": "Crypto wallet beta",
        "flag_type": "permission",
        "enabled": True,
        "rollout_percentage": Decimal("0.00"),
        "platforms": ["ios", "android"],
        "description": "Only for users on the allow-list.",
    },
    {
        "key": "smart-budget-insights",
        "age_days": 95,
        "name": "Smart budget insights",
        "flag_type": "experiment",
        "enabled": True,
        "rollout_percentage": Decimal("20.00"),
        "platforms": ["android", "web"],
        "included_segments": ["beta-testers"],
        "variants": [
            {"name": "weekly", "weight": 70, "payload": {"cadence": "weekly"}},
            {"name": "daily", "weight": 30, "payload": {"cadence": "daily"}},
        ],
        "description": "AI spending summaries, tried with beta testers first.",
    },
    {
        "key": "web-dashboard-v2",
        "age_days": 30,
        "name": "Web dashboard v2",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("75.50"),
        "platforms": ["web"],
        "description": "Redesigned web dashboard.",
    },
    {
        "key": "referral-program",
        "age_days": 25,
        "starts": 12,
        "name": "Referral program",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("100.00"),
        "platforms": [],
        "description": "Invite friends for a bonus. Launches with the spring campaign.",
    },
    {
        "key": "instant-withdrawals",
        "age_days": 8,
        "name": "Instant withdrawals",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("5.00"),
        "platforms": ["ios", "android"],
        "max_app_version": "5.0.0",
        "rules": [{"attribute": "kyc_status", "operator": "eq", "values": ["verified"]}],
        "excluded_segments": ["eu-customers"],
        "prerequisites": [{"flag": "new-checkout-flow"}],
        "description": "Withdraw to a debit card in seconds; not yet licensed in the EU, and "
        "only with the new checkout's saved cards.",
    },
    {
        "key": "legacy-rewards-screen",
        "age_days": 300,
        "name": "Legacy rewards screen",
        "flag_type": "operational",
        "enabled": True,
        "rollout_percentage": Decimal("100.00"),
        "platforms": ["android"],
        "max_app_version": "4.1.9",
        "description": "Old rewards screen for old Android builds.",
    },
    {
        "key": "holiday-gift-banner",
        "age_days": 45,
        "starts": -40,
        "ends": -33,
        "name": "Holiday gift banner",
        "flag_type": "operational",
        "enabled": True,
        "rollout_percentage": Decimal("100.00"),
        "platforms": [],
        "default_value": {"message": "Send a gift card to someone you love"},
        "description": "Ran for the holiday week; its schedule is over.",
    },
)

AI_MODELS: tuple[dict[str, Any], ...] = (
    {
        "name": "copy-writer",
        "provider": "anthropic",
        "version": "2026-09",
        "purpose": "copywriting",
        "status": "active",
        "config": {"temperature": 0.7, "max_tokens": 400},
        "metrics": {"approval_rate": 0.91},
    },
    {
        "name": "copy-writer",
        "provider": "anthropic",
        "version": "2026-03",
        "purpose": "copywriting",
        "status": "deprecated",
        "config": {"temperature": 0.8},
        "metrics": {"approval_rate": 0.84},
    },
    {
        "name": "audience-segmenter",
        "provider": "internal",
        "version": "3.1.0",
        "purpose": "segmentation",
        "status": "active",
        "config": {"clusters": 12},
        "metrics": {"silhouette": 0.41},
    },
    {
        "name": "churn-predictor",
        "provider": "internal",
        "version": "1.8.2",
        "purpose": "churn_prediction",
        "status": "active",
        "config": {"horizon_days": 30},
        "metrics": {"auc": 0.87, "precision_at_10": 0.62},
    },
    {
        "name": "fraud-sentinel",
        "provider": "internal",
        "version": "5.0.0",
        "purpose": "fraud_detection",
        "status": "testing",
        "config": {"threshold": 0.93},
        "metrics": {"recall": 0.78, "false_positive_rate": 0.004},
    },
    {
        "name": "support-assistant",
        "provider": "openai",
        "version": "2026-06",
        "purpose": "support_assistant",
        "status": "active",
        "config": {"temperature": 0.2},
        "metrics": {"deflection_rate": 0.37},
    },
    {
        "name": "offer-recommender",
        "provider": "google",
        "version": "2.4",
        "purpose": "recommendation",
        "status": "retired",
        "config": {},
        "metrics": {"ctr": 0.031},
    },
    {
        "name": "receipt-categoriser",
        "provider": "other",
        "version": "0.9.1",
        "purpose": "segmentation",
        "status": "testing",
        "config": {"vendor": "Tally Labs", "languages": ["en", "es"]},
        "metrics": {"accuracy": 0.88},
    },
)

CAMPAIGNS: tuple[dict[str, Any], ...] = (
    # starts/ends are days relative to today; None leaves the date open.
    {
        "name": "Back to school cashback",
        "status": "completed",
        "channel": "push",
        "start": -95,
        "end": -65,
        "budget": Decimal("20000.00"),
    },
    {
        "name": "Holiday double rewards",
        "status": "active",
        "channel": "email",
        "start": -20,
        "end": 25,
        "budget": Decimal("45000.00"),
    },
    {
        "name": "Win back lapsed users",
        "status": "active",
        "channel": "sms",
        "start": -40,
        "end": 10,
        "budget": Decimal("12000.00"),
    },
    {
        "name": "Grocery week",
        "status": "paused",
        "channel": "in_app",
        "start": -30,
        "end": 5,
        "budget": Decimal("8000.00"),
    },
    {
        "name": "New merchant spotlight",
        "status": "completed",
        "channel": "in_app",
        "start": -60,
        "end": -45,
        "budget": Decimal("5000.00"),
    },
    {
        "name": "Spring referral launch",
        "status": "scheduled",
        "channel": "push",
        "start": 12,
        "end": 42,
        "budget": Decimal("30000.00"),
    },
    {
        "name": "Premium card upsell",
        "status": "draft",
        "channel": "email",
        "start": None,
        "end": None,
        "budget": Decimal("15000.00"),
    },
    {
        "name": "Fuel savings summer",
        "status": "cancelled",
        "channel": "push",
        "start": -150,
        "end": -120,
        "budget": Decimal("10000.00"),
    },
    {
        "name": "Dining Fridays",
        "status": "active",
        "channel": "push",
        "start": -75,
        "end": 60,
        "budget": Decimal("25000.00"),
    },
)

RUNTIME_SETTINGS: tuple[dict[str, Any], ...] = (
    {
        "key": "support.auto_close_resolved_days",
        "value": 7,
        "is_secret": False,
        "description": "Days after which a resolved ticket with no reply is closed.",
    },
    {
        "key": "payments.daily_withdrawal_limit",
        "value": "2000.00",
        "is_secret": False,
        "description": "Most a customer may withdraw per day (USD).",
    },
    {
        "key": "flags.client_keys",
        "value": [],
        "is_secret": True,
        "description": "Hashed keys the mobile app must send to read flags; none issued = open.",
    },
    {
        "key": "support.first_response_sla_minutes",
        "value": 240,
        "is_secret": False,
        "description": "Target time to first agent reply.",
    },
    {
        "key": "payments.manual_adjustment_limit",
        "value": "500.00",
        "is_secret": False,
        "description": "Largest manual adjustment a single staff member may post (USD).",
    },
    {
        "key": "payments.processor_webhook_secret",
        "value": "whsec_demo_not_a_real_secret",
        "is_secret": True,
        "description": "Shared secret for the card processor's webhooks.",
    },
    {
        "key": "marketing.daily_push_cap",
        "value": 2,
        "is_secret": False,
        "description": "Most push messages a user receives per day.",
    },
)


APPROVAL_REQUESTS: tuple[dict[str, Any], ...] = (
    # One request in each state. Adjustments are `times` the currency's threshold; the
    # pending one waits for the demo superadmin to approve it.
    {
        "table": "wallets",
        "action": "adjust",
        "label": "Adjust balance",
        "maker": "admin",
        "times": Decimal("1.8"),
        "status": "pending",
        "hours_ago": 2,
        "reason": "Goodwill credit after the card outage, ticket TCK-OUTAGE1",
    },
    {
        "table": "feature_flags",
        "action": "enable",
        "label": "Enable",
        "maker": "operations",
        "flag": "crypto-wallet-beta",
        "status": "executed",
        "hours_ago": 120,
        "rule": "crypto-wallet-beta is a permission flag: a second person reviews changes.",
        "reason": "Compliance signed off the beta for the invited group",
        "decision": "Checked the allow-list with compliance",
        "outcome": "Done.",
    },
    {
        "table": "feature_flags",
        "action": "enable",
        "label": "Enable",
        "maker": "operations",
        "flag": "maintenance-banner",
        "status": "rejected",
        "hours_ago": 72,
        "rule": "maintenance-banner is rolled out to more than 50% of users: a second person "
        "reviews changes.",
        "reason": "Database maintenance window on Sunday night",
        "decision": "Not during the cashback weekend; ask again on Monday",
    },
    {
        "table": "feature_flags",
        "action": "enable",
        "label": "Enable",
        "maker": "operations",
        "flag": "dark-mode",
        "status": "failed",
        "hours_ago": 300,
        "rule": "dark-mode is rolled out to more than 50% of users: a second person reviews "
        "changes.",
        "reason": "Turn dark mode back on after the contrast fix",
        "decision": "",
        "outcome": "Could not run: Enable does not apply to dark-mode: it is on.",
    },
    {
        "table": "wallets",
        "action": "adjust",
        "label": "Adjust balance",
        "maker": "admin",
        "times": Decimal("1.2"),
        "status": "expired",
        "hours_ago": 96,
        "reason": "Chargeback reimbursement agreed with the card network",
    },
    {
        "table": "wallets",
        "action": "adjust",
        "label": "Adjust balance",
        "maker": "admin",
        "times": Decimal("1.5"),
        "status": "withdrawn",
        "hours_ago": 30,
        "reason": "Duplicate of an earlier credit, asked by mistake",
    },
    {
        "table": "wallet_transactions",
        "action": "export",
        "label": "Export",
        "maker": "analyst",
        "status": "approved",
        "hours_ago": 20,
        "rule": "An export of more than 10,000 rows with personal data needs a second person.",
        "reason": "Quarterly reconciliation for finance",
        "decision": "For the Q4 reconciliation only",
        "outcome": "Approved: the export is ready for the staff member who asked.",
    },
)
"""The demo's approval requests (admin_views/shared/four_eyes.py), one in each state."""
