"""Random tokens, their stored hashes, signed cookies, CSRF tokens and API access tokens.

Pure functions over the secret key: no request, no database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from itsdangerous import BadSignature, Signer, TimestampSigner

ACCESS_TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name


def new_token() -> str:
    """256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(secret_key: str, purpose: str) -> Signer:
    return Signer(secret_key, salt=f"swipesavvy.{purpose}")


def sign(secret_key: str, purpose: str, value: str) -> str:
    return _signer(secret_key, purpose).sign(value).decode()


def unsign(secret_key: str, purpose: str, signed: str) -> str | None:
    """The value if the signature is ours for this purpose, else None."""
    try:
        return _signer(secret_key, purpose).unsign(signed).decode()
    except BadSignature:
        return None


def sign_timed(secret_key: str, purpose: str, value: str) -> str:
    return TimestampSigner(secret_key, salt=f"swipesavvy.{purpose}").sign(value).decode()


def unsign_timed(secret_key: str, purpose: str, signed: str, max_age_s: int) -> str | None:
    """The value if signed by us for this purpose less than `max_age_s` ago, else None."""
    try:
        signer = TimestampSigner(secret_key, salt=f"swipesavvy.{purpose}")
        return signer.unsign(signed, max_age=max_age_s).decode()
    except BadSignature:
        return None


def csrf_token(secret_key: str, session_id: uuid.UUID) -> str:
    """Bound to one session: another session's token never matches."""
    message = f"csrf:{session_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def csrf_matches(secret_key: str, session_id: uuid.UUID, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(secret_key, session_id), presented)


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    session_id: uuid.UUID
    email: str
    role: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def issue_access_token(
    secret_key: str,
    *,
    subject: uuid.UUID,
    session_id: uuid.UUID,
    email: str,
    role: str,
    now: datetime,
    ttl: timedelta,
) -> str:
    claims = {
        "sub": str(subject),
        "sid": str(session_id),
        "email": email,
        "role": role,
        "jti": secrets.token_hex(16),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm=ACCESS_TOKEN_ALGORITHM)


def read_access_token(secret_key: str, token: str, now: datetime) -> AccessClaims | None:
    """The claims of a token we issued that has not expired, else None."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ACCESS_TOKEN_ALGORITHM],
            options={"require": ["sub", "sid", "exp", "iat", "jti"], "verify_exp": False},
        )
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        if expires_at <= now:
            return None
        return AccessClaims(
            subject=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            email=str(claims.get("email", "")),
            role=str(claims.get("role", "")),
            token_id=str(claims["jti"]),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=now.tzinfo),
            expires_at=expires_at,
        )
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError, OSError):
        # A time no clock can show (`exp` of 10**20, signed with our key) is as false as a
        # bad signature: fromtimestamp raises OverflowError, or OSError on some platforms.
        return None
