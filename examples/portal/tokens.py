"""Making the Invoice Manager's sign-in token for the signed-in portal user.

This is the part of the portal that a portal team copies first: a short-lived
JWT (HS256 with the secret shared with the Invoice Manager's SSO_SECRET), made
on the server, just before the browser uses it. docs/embedding.md has the
contract.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

import jwt

from .users import PortalUser

# Made just before use, so a minute is plenty; the Invoice Manager refuses more
# than five minutes, and accepts each token once.
TOKEN_LIFETIME_SECONDS = 60


def invoice_manager_token(user: PortalUser, config: Mapping) -> str:
    """A one-time sign-in token for user, valid for TOKEN_LIFETIME_SECONDS."""
    now = int(time.time())
    claims = {
        "iss": config["SSO_ISSUER"],
        "aud": config["SSO_AUDIENCE"],
        "sub": user.sub,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "jti": str(uuid.uuid4()),
        "email": user.email,
        "name": user.name,
        "tenant": user.tenant,
        "tenant_name": user.tenant_name,
        "role": user.role,
    }
    # Optional claims only when they say something.
    if user.clients:
        claims["clients"] = list(user.clients)
    if user.locale:
        claims["locale"] = user.locale
    if user.theme:
        claims["theme"] = user.theme
    return jwt.encode(claims, config["SSO_SECRET"], algorithm="HS256")
