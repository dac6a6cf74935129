"""Human labels for column names: `kyc_status` reads "KYC status", `created_at` "Created"."""

from __future__ import annotations

ACRONYMS = {"kyc": "KYC", "ip": "IP", "ai": "AI", "id": "ID", "url": "URL", "totp": "TOTP"}
OVERRIDES = {
    "id": "ID",
    "exp_month": "Expiry month",
    "exp_year": "Expiry year",
    "last_four": "Card number",
    "flag_type": "Type",
    "is_internal": "Internal note",
    "admin_user": "Staff member",
    "actor_email": "Actor",
    "entity_type": "Table",
    "entity_id": "Row",
    "cashback_rate": "Cashback %",
    "rollout_percentage": "Rollout %",
}


def humanize(name: str) -> str:
    if name in OVERRIDES:
        return OVERRIDES[name]
    words = name.removeprefix("is_").removesuffix("_at").removesuffix("_id").split("_")
    text = " ".join(ACRONYMS.get(word, word) for word in words)
    return text[:1].upper() + text[1:]
