"""The OpenAPI 3.1 document of the JSON API (staff auth, the dashboard, the mobile flag
feed, OFREP), served at `GET /api/openapi.json`.

Declared from small reusable pieces and from the very constants the routes check requests
with (field limits, enums, patterns), so a limit changed in a route changes the document.
The OFREP part follows the protocol's own document (open-feature/protocol,
service/openapi.yaml) in its names and shapes, narrowed to what this server answers.
tests/test_openapi.py checks that every route is described and fuzzes the app against the
document with schemathesis.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics import support
from analytics.period import MAX_DAYS, PRESETS
from api import auth, dashboard, flag_feed, ofrep
from api.etag import conditional_json
from api.validation import Text
from auth.middleware import cookie_name
from core.settings import Settings
from flags.engine import PLATFORMS, ErrorCode, Reason
from models.campaigns import CampaignChannel, CampaignStatus
from models.flags import FlagType
from models.merchants import MerchantStatus
from models.payments import TransactionType
from models.support import TicketPriority

PATH = "/api/openapi.json"
JSON = "application/json"
Schema = dict[str, Any]

# -- Schema building blocks -----------------------------------------------------------------


def ref(name: str, section: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{section}/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def record(properties: dict[str, Schema], *, optional: Iterable[str] = ()) -> Schema:
    """An object with exactly these properties, all required but the `optional` ones."""
    left_out = set(optional)
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in left_out],
        "additionalProperties": False,
    }


def mapping(values: Schema) -> Schema:
    return {"type": "object", "additionalProperties": values}


def enum(values: Iterable[str]) -> Schema:
    return {"type": "string", "enum": sorted(values)}


INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}
ANY_JSON: Schema = {"description": "Any JSON value."}
NO_NUL = "^[^\\u0000]*$"


def tally(values: Iterable[str]) -> Schema:
    """A count for each of `values`, every one listed (analytics.support.Tally)."""
    return record({"value": enum(values), "count": COUNT})


def string(description: str | None = None, **keywords: Any) -> Schema:
    schema: Schema = {"type": "string", **keywords}
    if description:
        schema["description"] = description
    return schema


UUID = string(format="uuid")
DAY = string(format="date")

# A version as `flags.engine.parse_version` reads it: semver's own grammar (semver.Version
# with optional minor and patch), surrounding whitespace allowed; empty means "not given".
_NUMBER = "(0|[1-9][0-9]*)"
_PRE = "(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD = "[0-9a-zA-Z-]+"
VERSION = rf"{_NUMBER}(\.{_NUMBER}(\.{_NUMBER})?)?(-{_PRE}(\.{_PRE})*)?(\+{_BUILD}(\.{_BUILD})*)?"
VERSION_OR_EMPTY = rf"^(|\s*{VERSION}\s*)$"


def text_field(rule: Text) -> Schema:
    """One field of `api.validation.json_object`: a string within its limit, no NUL; an
    optional field may also be null or left out."""
    schema = string(maxLength=rule.max_length, pattern=NO_NUL)
    return schema if rule.required else nullable(schema)


def json_body(fields: dict[str, Text]) -> Schema:
    """The object `json_object` reads: unknown properties are allowed and ignored."""
    return {
        "type": "object",
        "properties": {name: text_field(rule) for name, rule in fields.items()},
        "required": [name for name, rule in fields.items() if rule.required],
        "additionalProperties": True,
    }


def content(schema: Schema) -> dict[str, Schema]:
    return {JSON: {"schema": schema}}


def header(schema: Schema, description: str) -> Schema:
    return {"description": description, "schema": schema}


def response(
    description: str, schema: Schema | None = None, headers: dict[str, Schema] | None = None
) -> Schema:
    answer: Schema = {"description": description}
    if headers:
        answer["headers"] = headers
    if schema is not None:
        answer["content"] = content(schema)
    return answer


def api_error(*codes: str) -> Schema:
    """The staff API's error body (api/errors.py) with one of these codes."""
    return {"allOf": [ref("ApiError"), {"properties": {"error": {"enum": list(codes)}}}]}


def ofrep_error(*codes: str, keyed: bool = False) -> Schema:
    """OFREP's error body with one of these codes; `keyed` when it names the flag."""
    narrowed: Schema = {"properties": {"errorCode": {"enum": list(codes)}}}
    if keyed:
        narrowed["required"] = ["key"]
    return {"allOf": [ref("OfrepError"), narrowed]}


# -- Headers --------------------------------------------------------------------------------

HEADERS: dict[str, Schema] = {
    "ETag": header(
        string(pattern='^"[0-9a-f]{32}"$'),
        "Strong validator of this answer: send it back in If-None-Match.",
    ),
    "CacheControl": header(string(), "How long and by whom this answer may be kept."),
    "RetryAfter": header(string(pattern="^[0-9]+$"), "Seconds to wait before trying again."),
    "WWWAuthenticate": header(string(), "The scheme to sign in with: Bearer."),
}
CACHED = {"ETag": ref("ETag", "headers"), "Cache-Control": ref("CacheControl", "headers")}
RETRY = {"Retry-After": ref("RetryAfter", "headers")}
NO_STORE = {"Cache-Control": ref("CacheControl", "headers")}

# -- Schemas --------------------------------------------------------------------------------

RATIO = nullable(ref("Ratio"))
MONEY_OR_NONE = nullable(ref("Decimal"))

DASHBOARD_SCHEMAS: dict[str, Schema] = {
    "Decimal": string(
        "An exact decimal number, as text so that no digit is lost.",
        pattern="^-?[0-9]+(\\.[0-9]+)?$",
    ),
    "Ratio": {
        "$ref": "#/components/schemas/Decimal",
        "description": "A fraction to four places: 0.0512 is 5.12 %. Null where there is no "
        "rate to show.",
    },
    "Period": record({"from": DAY, "to": DAY}),
    "Kpi": record(
        {
            "key": string(),
            "label": string(),
            "unit": enum(["count", "money", "ratio"]),
            "value": MONEY_OR_NONE,
            "previous": MONEY_OR_NONE,
            "change": RATIO,
        }
    ),
    "CampaignFigures": record(
        {
            "impressions": COUNT,
            "clicks": COUNT,
            "conversions": COUNT,
            "spend": ref("Decimal"),
            "revenue": ref("Decimal"),
            "ctr": RATIO,
            "conversion_rate": RATIO,
            "cost_per_conversion": RATIO,
            "roas": RATIO,
        }
    ),
    "Campaign": record(
        {
            "id": UUID,
            "name": string(),
            "status": enum(CampaignStatus),
            "channel": enum(CampaignChannel),
            "currency": string(),
            "budget_used": RATIO,
            "figures": ref("CampaignFigures"),
        }
    ),
}

ANSWERS: dict[str, Schema] = {
    "overview": record(
        {
            "period": ref("Period"),
            "days": array(DAY),
            "previous": ref("Period"),
            "currency": string(),
            "kpis": array(ref("Kpi")),
            "signups": array(COUNT),
            "active_users": array(COUNT),
        }
    ),
    "revenue": record(
        {
            "period": ref("Period"),
            "days": array(DAY),
            "currency": string(),
            "transactions": record({kind.value: array(COUNT) for kind in TransactionType}),
            "volume": record({kind.value: array(ref("Decimal")) for kind in TransactionType}),
            "total_volume": array(ref("Decimal")),
            "revenue": array(ref("Decimal")),
            "totals": record(
                {
                    "transactions": COUNT,
                    "volume": ref("Decimal"),
                    "revenue": ref("Decimal"),
                    "average_ticket": MONEY_OR_NONE,
                    "purchases": COUNT,
                }
            ),
        }
    ),
    "funnel": record(
        {
            "period": ref("Period"),
            "steps": array(
                record({"key": string(), "label": string(), "users": COUNT, "conversion": RATIO})
            ),
        }
    ),
    "cohorts": record(
        {
            "period": ref("Period"),
            "cohorts": array(
                record(
                    {
                        "week": DAY,
                        "users": COUNT,
                        "cells": array(record({"week": COUNT, "active": COUNT, "share": RATIO})),
                    }
                )
            ),
        }
    ),
    "campaigns": record(
        {
            "period": ref("Period"),
            "currency": string(),
            "campaigns": array(ref("Campaign")),
            "days": array(record({"day": DAY, "figures": ref("CampaignFigures")})),
            "totals": ref("CampaignFigures"),
            "other_currencies": array(ref("Campaign")),
        }
    ),
    "support": record(
        {
            "period": ref("Period"),
            "open": record(
                {
                    "total": COUNT,
                    "by_priority": array(tally(TicketPriority)),
                    "by_status": array(tally(support.OPEN_STATUSES)),
                }
            ),
            "times": record(
                {
                    "created": COUNT,
                    "responded": COUNT,
                    "median_first_response_seconds": nullable({"type": "number"}),
                    "resolved": COUNT,
                    "median_resolution_seconds": nullable({"type": "number"}),
                }
            ),
            "workload": record(
                {
                    "agents": array(
                        record({"id": UUID, "name": string(), "assigned": COUNT, "done": COUNT})
                    ),
                    "unassigned": COUNT,
                }
            ),
        }
    ),
    "merchants": record(
        {
            "period": ref("Period"),
            "currency": string(),
            "by_status": record({status.value: COUNT for status in MerchantStatus}),
            "pending": COUNT,
            "oldest_pending": array(
                record({"id": UUID, "name": string(), "created_at": string(format="date-time")})
            ),
            "new_per_week": {
                "type": "object",
                "description": "Merchants created each ISO week, by the week's Monday.",
                "propertyNames": DAY,
                "additionalProperties": COUNT,
            },
            "top_merchants": array(
                record({"merchant_id": UUID, "name": string(), "volume": ref("Decimal")})
            ),
        }
    ),
    "users": record(
        {
            "period": ref("Period"),
            "days": array(DAY),
            "totals": record(
                {
                    "total": COUNT,
                    "active": COUNT,
                    "suspended": COUNT,
                    "deactivated": COUNT,
                    "verified": COUNT,
                    "verification_rate": RATIO,
                }
            ),
            "signups": array(COUNT),
            "active_users": array(COUNT),
        }
    ),
}
"""Each dashboard answer (analytics/answers.py) by its name in `answers.QUESTIONS`."""

AUTH_SCHEMAS: dict[str, Schema] = {
    "ApiError": record(
        {
            "error": string("A stable, machine-readable code."),
            "message": string("What went wrong, for people."),
        }
    ),
    "LoginRequest": json_body(auth.LOGIN_FIELDS),
    "RefreshRequest": json_body(auth.REFRESH_FIELDS),
    "TokenPair": record(
        {
            "access_token": string("A JWT (HS256) to send as 'Authorization: Bearer'."),
            "token_type": enum(["bearer"]),
            "expires_in": {**COUNT, "description": "Seconds the access token lives."},
            "refresh_token": string("Single use: each refresh returns a new one."),
            "refresh_expires_at": string(format="date-time"),
        }
    ),
    "StaffProfile": record(
        {
            "id": UUID,
            "email": string(),
            "full_name": string(),
            "role": string(),
            "permissions": array(string(description="`resource:action`, `*` a wildcard.")),
            "two_factor": BOOLEAN,
        }
    ),
    "DemoCredentials": record(
        {"email": string(), "password": {"type": "null"}, "note": string()},
    ),
}

FLAG_SCHEMAS: dict[str, Schema] = {
    "FeedFlag": record(
        {"enabled": {"const": True}, "variant": nullable(string()), "value": ANY_JSON}
    ),
    "FlagFeed": record(
        {
            "revision": INTEGER,
            "flags": mapping(ref("FeedFlag")),
            "stale": {"const": True, "description": "Present when the flags may be old."},
        },
        optional=["stale"],
    ),
    "OfrepError": record(
        {
            "key": string("The flag asked about."),
            "errorCode": string(),
            "errorDetails": string(),
        },
        optional=["key"],
    ),
    "context": {
        "type": "object",
        "description": "The evaluation context: every property but targetingKey is an "
        "attribute that flag rules can test.",
        "properties": {
            "targetingKey": nullable(string(maxLength=ofrep.MAX_TARGETING_KEY)),
            "platform": {"enum": [*sorted(PLATFORMS), None]},
            **{
                name: nullable(string(pattern=VERSION_OR_EMPTY))
                for name in ofrep.VERSION_ATTRIBUTES
            },
        },
        "additionalProperties": True,
    },
    "evaluationRequest": {
        "type": "object",
        "properties": {"context": ref("context")},
        "additionalProperties": True,
    },
    "metadata": record(
        {
            "revision": INTEGER,
            "flagType": enum(FlagType),
            "stale": {"const": True, "description": "Present when the flags may be old."},
        },
        optional=["stale"],
    ),
    "evaluationSuccess": record(
        {
            "key": string(),
            "value": ANY_JSON,
            "reason": enum(reason.value for reason in Reason if reason is not Reason.ERROR),
            "variant": string(),
            "metadata": ref("metadata"),
        }
    ),
    "evaluationFailure": record(
        {
            "key": string(),
            "errorCode": enum([*(code.value for code in ErrorCode), "GENERAL"]),
            "errorDetails": string(),
        }
    ),
    "bulkEvaluationSuccess": record(
        {"flags": array({"oneOf": [ref("evaluationSuccess"), ref("evaluationFailure")]})}
    ),
    "configurationResponse": record(
        {
            "name": string(),
            "capabilities": record(
                {
                    "cacheInvalidation": record(
                        {"polling": record({"enabled": BOOLEAN, "minPollingIntervalMs": COUNT})}
                    ),
                    "flagEvaluation": record(
                        {
                            "supportedTypes": array(
                                enum(["boolean", "string", "int", "float", "object"])
                            )
                        }
                    ),
                }
            ),
        }
    ),
}

# -- Parameters -----------------------------------------------------------------------------


def query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


# YYYY-MM-DD from dashboard.FIRST_DAY (1970-01-01) to LAST_DAY (2999-12-31); the calendar
# itself is the `date` format's part.
DAY_IN_RANGE = "^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"

PARAMETERS: dict[str, Schema] = {
    "days": query(
        "days",
        {"type": "integer", "enum": list(PRESETS), "default": 30},
        "The range: this many days ending today (UTC). Checked even when from and to "
        "are given, which then take its place.",
    ),
    "from": query(
        "from",
        DAY | {"pattern": DAY_IN_RANGE},
        f"First day of the range (UTC), with to; from {dashboard.FIRST_DAY} to "
        f"{dashboard.LAST_DAY}, at most {MAX_DAYS} days before to.",
    ),
    "to": query("to", DAY | {"pattern": DAY_IN_RANGE}, "Last day of the range, with from."),
    "currency": query(
        "currency",
        string(pattern=f"^{dashboard.CURRENCY.pattern}$", default=dashboard.DEFAULT_CURRENCY),
        "The currency money figures are in.",
    ),
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "schema": string(),
        "description": "ETags of answers held, comma-separated, or *: 304 when one matches.",
    },
    "platform": query(
        "platform",
        enum(["", *PLATFORMS]),
        "The app's platform; empty is the same as leaving it out.",
    ),
    "app_version": query(
        "app_version",
        string(maxLength=flag_feed.MAX_APP_VERSION, pattern=VERSION_OR_EMPTY),
        "The app's version, such as 4.2 or 4.2.1-beta.1.",
    ),
    "user_id": query(
        "user_id",
        string(maxLength=flag_feed.MAX_USER_ID),
        "The app user, for rollouts, splits and allow/deny lists; empty means none.",
    ),
    "key": {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": string(),
        "description": "The flag's key.",
    },
}
DASHBOARD_PARAMETERS = [ref(name, "parameters") for name in ("days", "from", "to", "currency")]
FEED_PARAMETERS = [
    ref(name, "parameters") for name in ("platform", "app_version", "user_id", "If-None-Match")
]

# -- Responses shared by many operations ----------------------------------------------------

RESPONSES: dict[str, Schema] = {
    "NotSignedIn": response(
        "No valid access token, and no admin session.",
        api_error("not_authenticated"),
        {"WWW-Authenticate": ref("WWWAuthenticate", "headers")},
    ),
    "DatabaseUnavailable": response(
        "The database is not answering or too slow; nothing was changed.",
        api_error("database_unavailable", "database_timeout"),
        {**RETRY, **NO_STORE},
    ),
    "PayloadTooLarge": response(
        "The request body is over the server's limit.", api_error("payload_too_large")
    ),
    "BadJsonBody": response(
        "The body is not JSON, not an object, or a field is missing, mistyped or too long.",
        api_error("parse_error", "invalid_request"),
    ),
    "OfrepUnauthorized": response(
        "App keys are in use and none valid was sent.", ofrep_error("UNAUTHORIZED")
    ),
    "OfrepTooLarge": response(
        "The request body is over the server's limit.", ofrep_error("GENERAL")
    ),
    "OfrepLoading": response("Flags are still loading.", ofrep_error("GENERAL")),
    "NotModified": response("The answer held (If-None-Match) is still current.", None, CACHED),
}

# -- Operations -----------------------------------------------------------------------------

STAFF = [{"staffBearer": []}, {"staffSession": []}]
APP = [{"appKey": []}, {"appBearer": []}]
PUBLIC: list[dict[str, list[str]]] = []


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Schema],
    *,
    security: list[dict[str, list[str]]],
    description: str | None = None,
    **more: Any,
) -> Schema:
    described: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
        **more,
    }
    if description:
        described["description"] = description
    return described


def body(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": content(schema)}


def shared(name: str) -> Schema:
    return ref(name, "responses")


AUTH_PATHS: dict[str, Schema] = {
    "/api/v1/admin/auth/login": {
        "post": operation(
            "login",
            "Sign in with email and password (and a two-factor code) for tokens",
            "Staff auth",
            {
                "200": response("Signed in.", ref("TokenPair"), NO_STORE),
                "400": shared("BadJsonBody"),
                "401": response(
                    "Wrong or unknown credentials, a locked or disabled account; or the "
                    "account needs its two-factor code in totp_code.",
                    api_error("invalid_credentials", "totp_required"),
                ),
                "403": response(
                    "The role must use two-factor sign-in and the account has none yet.",
                    api_error("two_factor_enrolment_required"),
                ),
                "413": shared("PayloadTooLarge"),
                "429": response(
                    "Too many failed sign-ins from this address.",
                    api_error("too_many_attempts"),
                    RETRY,
                ),
                "503": shared("DatabaseUnavailable"),
            },
            security=PUBLIC,
            requestBody=body(ref("LoginRequest")),
        )
    },
    "/api/v1/admin/auth/refresh": {
        "post": operation(
            "refresh",
            "Swap a refresh token for new tokens",
            "Staff auth",
            {
                "200": response(
                    "New tokens; the refresh token sent is spent.", ref("TokenPair"), NO_STORE
                ),
                "400": shared("BadJsonBody"),
                "401": response(
                    "Not a live refresh token. Reusing a spent one ends its session.",
                    api_error("invalid_refresh_token"),
                ),
                "413": shared("PayloadTooLarge"),
                "503": shared("DatabaseUnavailable"),
            },
            security=PUBLIC,
            requestBody=body(ref("RefreshRequest")),
        )
    },
    "/api/v1/admin/auth/me": {
        "get": operation(
            "me",
            "The signed-in staff member",
            "Staff auth",
            {
                "200": response("Who is calling.", ref("StaffProfile")),
                "401": shared("NotSignedIn"),
                "503": shared("DatabaseUnavailable"),
            },
            security=STAFF,
        )
    },
    "/api/v1/admin/auth/logout": {
        "post": operation(
            "logout",
            "Sign out: the session behind the token ends",
            "Staff auth",
            {
                "204": response("Signed out."),
                "401": shared("NotSignedIn"),
                "413": shared("PayloadTooLarge"),
                "503": shared("DatabaseUnavailable"),
            },
            security=STAFF,
        )
    },
    "/api/v1/admin/auth/demo-credentials": {
        "get": operation(
            "demoCredentials",
            "Which account the demo signs in with (not in production)",
            "Staff auth",
            {
                "200": response("The demo account.", ref("DemoCredentials")),
                "404": response(
                    "Always, in production: there is no demo there.", api_error("not_found")
                ),
                "503": shared("DatabaseUnavailable"),
            },
            security=PUBLIC,
        )
    },
}

DASHBOARD_PATHS = {
    **{f"/api/v1/admin/dashboard/{name}": name for name in dashboard.DASHBOARD},
    "/api/v1/admin/users/stats/overview": "users",
}


def _answer_schema_name(name: str) -> str:
    return f"{name.title()}Answer"


def _dashboard_operation(name: str) -> Schema:
    return {
        "get": operation(
            f"dashboard{name.title()}",
            f"Dashboard: {name}",
            "Dashboard",
            {
                "200": response(
                    "The figures for the range.", ref(_answer_schema_name(name)), NO_STORE
                ),
                "400": response(
                    "A parameter the dashboard cannot use; the message says which.",
                    api_error("bad_query"),
                ),
                "401": shared("NotSignedIn"),
                "403": response("The role may not view the dashboard.", api_error("forbidden")),
                "503": shared("DatabaseUnavailable"),
            },
            security=STAFF,
            description="Needs the dashboard:view permission. The range is days, or from "
            "and to together; money is in one currency.",
            parameters=DASHBOARD_PARAMETERS,
        )
    }


FEED_DESCRIPTION = (
    "The flags that are on for one platform, version and user, from the server's in-memory "
    "snapshot. Attributes for flag rules travel as attr.<name>=<value> query parameters "
    f"(at most {flag_feed.MAX_ATTRIBUTES}, names and values at most "
    f"{flag_feed.MAX_ATTRIBUTE_LENGTH} characters), which OpenAPI cannot list. App keys: "
    "until the first is issued the feed is open to all; from then on one is required."
)

FLAG_PATHS: dict[str, Schema] = {
    "/api/feature-flags/mobile/active": {
        "get": operation(
            "mobileFlags",
            "The mobile app's flag feed",
            "Flags",
            {
                "200": response("The flags that are on.", ref("FlagFeed"), CACHED),
                "304": shared("NotModified"),
                "400": response(
                    "A parameter the feed cannot use; the message says which.",
                    api_error("invalid_request"),
                ),
                "401": response(
                    "App keys are in use and none valid was sent.", api_error("unauthorized")
                ),
                "503": response("Flags are still loading.", api_error("unavailable"), RETRY),
            },
            security=APP,
            description=FEED_DESCRIPTION,
            parameters=FEED_PARAMETERS,
        )
    },
    "/ofrep/v1/evaluate/flags": {
        "post": operation(
            "ofrepBulk",
            "OFREP bulk evaluation: every flag for one context",
            "OFREP",
            {
                "200": response(
                    "Every flag; one that cannot be evaluated says why in its own entry.",
                    ref("bulkEvaluationSuccess"),
                    CACHED,
                ),
                "304": shared("NotModified"),
                "400": response(
                    "The body is not a JSON object, or the context is invalid.",
                    ofrep_error("PARSE_ERROR", "INVALID_CONTEXT"),
                ),
                "401": shared("OfrepUnauthorized"),
                "413": shared("OfrepTooLarge"),
                "503": shared("OfrepLoading"),
            },
            security=APP,
            parameters=[ref("If-None-Match", "parameters")],
            requestBody=body(ref("evaluationRequest"), required=False),
        )
    },
    "/ofrep/v1/evaluate/flags/{key}": {
        "post": operation(
            "ofrepOne",
            "OFREP single flag evaluation",
            "OFREP",
            {
                "200": response("The flag's value for the context.", ref("evaluationSuccess")),
                "400": response(
                    "The body or context is invalid, or the flag splits users and the "
                    "context has no targetingKey.",
                    ofrep_error(
                        "PARSE_ERROR", "INVALID_CONTEXT", *(c.value for c in ErrorCode), keyed=True
                    ),
                ),
                "401": shared("OfrepUnauthorized"),
                "404": response("No such flag.", ofrep_error("FLAG_NOT_FOUND", keyed=True)),
                "413": shared("OfrepTooLarge"),
                "500": response(
                    "The flag's stored definition cannot be read.",
                    ofrep_error("GENERAL", keyed=True),
                ),
                "503": shared("OfrepLoading"),
            },
            security=APP,
            parameters=[ref("key", "parameters")],
            requestBody=body(ref("evaluationRequest"), required=False),
        )
    },
    "/ofrep/v1/configuration": {
        "get": operation(
            "ofrepConfiguration",
            "OFREP provider configuration",
            "OFREP",
            {
                "200": response("What this server supports.", ref("configurationResponse"), CACHED),
                "304": shared("NotModified"),
            },
            security=PUBLIC,
            parameters=[ref("If-None-Match", "parameters")],
        )
    },
}

DOCUMENT_PATHS: dict[str, Schema] = {
    PATH: {
        "get": operation(
            "openapi",
            "This document",
            "Meta",
            {
                "200": response("The OpenAPI document.", {"type": "object"}, CACHED),
                "304": shared("NotModified"),
            },
            security=PUBLIC,
            parameters=[ref("If-None-Match", "parameters")],
        )
    }
}


def _security_schemes(cookie: str) -> Schema:
    return {
        "staffBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from login or refresh.",
        },
        "staffSession": {
            "type": "apiKey",
            "in": "cookie",
            "name": cookie,
            "description": "The admin screens' session, used when no Authorization header is sent.",
        },
        "appKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An app key issued with `swipesavvy-admin flags create-key`.",
        },
        "appBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The same app key, as 'Authorization: Bearer <key>'.",
        },
    }


PATHS: dict[str, Schema] = {
    **AUTH_PATHS,
    **{path: _dashboard_operation(name) for path, name in DASHBOARD_PATHS.items()},
    **FLAG_PATHS,
    **DOCUMENT_PATHS,
}
SCHEMAS: dict[str, Schema] = {
    **AUTH_SCHEMAS,
    **DASHBOARD_SCHEMAS,
    **{_answer_schema_name(name): schema for name, schema in ANSWERS.items()},
    **FLAG_SCHEMAS,
}


@cache
def _document(cookie: str) -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SwipeSavvy Admin API",
            "version": "1.0.0",
            "description": "The staff back office's JSON API (sign-in and the dashboard's "
            "figures), the mobile apps' flag feed, and the OpenFeature Remote Evaluation "
            "Protocol (OFREP) v1 for OpenFeature SDKs. Errors are JSON: "
            '{"error", "message"} under /api, OFREP\'s {"errorCode", "errorDetails"} under '
            "/ofrep.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "Staff auth"},
            {"name": "Dashboard"},
            {"name": "Flags", "description": "The mobile apps' flag feed."},
            {"name": "OFREP", "description": "OpenFeature Remote Evaluation Protocol v1."},
            {"name": "Meta"},
        ],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "headers": HEADERS,
            "securitySchemes": _security_schemes(cookie),
        },
    }


def document(settings: Settings) -> Schema:
    """The document for an app with these settings: only the session cookie's name
    depends on them."""
    return _document(cookie_name(settings))


async def openapi_json(request: Request) -> Response:
    return conditional_json(request, document(request.app.state.settings), "public, max-age=300")


routes = [Route(PATH, openapi_json, methods=["GET"], name="openapi")]
