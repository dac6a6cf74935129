"""Random tokens, their stored hashes, signed cookies, CSRF tokens and API access tokens.

Pure functions over the signing keys: no request, no database. Everything new is signed with
the current key; what comes back is read with it or any previous key (`SECRET_KEY_PREVIOUS`),
so rotating SECRET_KEY signs nobody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from itsdangerous import BadSignature, Signer, TimestampSigner

from core.settings import Settings

ACCESS_TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name
AnySigner = TypeVar("AnySigner", bound=Signer)


def new_token() -> str:
    """256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Keys:
    """The key that signs, and the keys a signature is still accepted from."""

    current: str
    previous: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Keys:
        """The one place the secret keys are taken from the settings."""
        return cls(str(settings.secret_key), tuple(map(str, settings.secret_key_previous)))

    @property
    def readable(self) -> tuple[str, ...]:
        """Every key a signature is checked against, the current one first."""
        return (self.current, *self.previous)


def _signer(keys: Keys, purpose: str, kind: type[AnySigner]) -> AnySigner:
    # itsdangerous signs with the last key of a list and accepts any of them.
    return kind([*keys.previous, keys.current], salt=f"swipesavvy.{purpose}")


def sign(keys: Keys, purpose: str, value: str) -> str:
    return _signer(keys, purpose, Signer).sign(value).decode()


def unsign(keys: Keys, purpose: str, signed: str) -> str | None:
    """The value if the signature is ours for this purpose, else None."""
    try:
        return _signer(keys, purpose, Signer).unsign(signed).decode()
    except BadSignature:
        return None


def sign_timed(keys: Keys, purpose: str, value: str) -> str:
    return _signer(keys, purpose, TimestampSigner).sign(value).decode()


def unsign_timed(keys: Keys, purpose: str, signed: str, max_age_s: int) -> str | None:
    """The value if signed by us for this purpose less than `max_age_s` ago, else None."""
    try:
        return _signer(keys, purpose, TimestampSigner).unsign(signed, max_age=max_age_s).decode()
    except BadSignature:
        return None


def _csrf_digest(key: str, session_id: uuid.UUID) -> str:
    return hmac.new(key.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_token(keys: Keys, session_id: uuid.UUID) -> str:
    """Bound to one session: another session's token never matches."""
    return _csrf_digest(keys.current, session_id)


def csrf_matches(keys: Keys, session_id: uuid.UUID, presented: str) -> bool:
    return any(
        hmac.compare_digest(_csrf_digest(key, session_id), presented) for key in keys.readable
    )


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
    keys: Keys,
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
    return jwt.encode(claims, keys.current, algorithm=ACCESS_TOKEN_ALGORITHM)


def _access_claims(keys: Keys, token: str) -> dict[str, Any]:
    """The claims of a token signed with any readable key; raises jwt.InvalidTokenError."""
    for key in keys.readable:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ACCESS_TOKEN_ALGORITHM],
                options={"require": ["sub", "sid", "exp", "iat", "jti"], "verify_exp": False},
            )
        except jwt.InvalidSignatureError:
            continue
    raise jwt.InvalidSignatureError("signed with none of our keys")


def read_access_token(keys: Keys, token: str, now: datetime) -> AccessClaims | None:
    """The claims of a token we issued that has not expired, else None."""
    try:
        claims = _access_claims(keys, token)
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
