"""Bodies of the staff auth API: sign in, refresh, who am I, the demo account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, NonNegativeInt

from api.bodies import text
from api.schemas import Closed


class LoginRequest(BaseModel):
    email: text(255)
    password: text(1024)
    totp_code: text(16) | None = None


class RefreshRequest(BaseModel):
    refresh_token: text(256)


class TokenPair(Closed):
    access_token: str = Field(description="A JWT (HS256) to send as 'Authorization: Bearer'.")
    token_type: Literal["bearer"]
    expires_in: NonNegativeInt = Field(description="Seconds the access token lives.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_at: datetime


class StaffProfile(Closed):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    permissions: list[str] = Field(description="`resource:action` each, `*` a wildcard.")
    two_factor: bool


class DemoCredentials(Closed):
    email: str
    password: None
    note: str
