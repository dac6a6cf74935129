"""Time-based one-time passwords (RFC 6238) for the staff second factor."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno

ISSUER = "SwipeSavvy Admin"
STEP_S = 30
DRIFT_STEPS = 1
"""Accept the code of the step before and after, for clocks a little off."""


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """An inline SVG of the enrolment QR code: drawn here, nothing fetched."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1e293b")


def accepted_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time step `code` belongs to, if it is valid now and newer than `after_step`.

    Refusing steps at or before the last accepted one makes every code single-use.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None
