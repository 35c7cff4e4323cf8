"""Single sign-on: verify a portal's signed token (JWT) and read its claims.

Only the algorithm family of the configured key is accepted, so neither an
unsigned token (`alg: none`) nor an HS256 token "signed" with a public key gets
through. Nothing here touches the database; sso_sign_in.py records the use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from flask import Flask, current_app

from ..models import TENANT_SLUG, Role

LEEWAY_SECONDS = 30
MAX_LIFETIME_SECONDS = 300
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "jti", "email", "tenant", "role"]
THEMES = {"light", "dark"}
# A key set is fetched again after this long, and on an unknown key id (at most
# once per cooldown, so tokens with made-up key ids cannot hammer the portal).
JWKS_LIFESPAN_SECONDS = 300
JWKS_REFRESH_COOLDOWN_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5


class TokenRefused(Exception):
    """A token that signs nobody in; `reason` is said to the user in plain words."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class SsoClaims:
    """What a verified token says about the user signing in."""

    sub: str
    jti: str
    email: str
    tenant: str
    role: str
    expires_at: datetime
    name: str = ""
    tenant_name: str = ""
    clients: tuple[str, ...] = ()
    locale: str = ""
    theme: str = ""


def sso_enabled(app: Flask | None = None) -> bool:
    """True when a key source is configured (otherwise /sso is not there)."""
    return bool((app or current_app).config["SSO_ALGORITHMS"])


def register(app: Flask) -> None:
    """Keep one key-set client per app: its cache lives as long as the worker."""
    if app.config["SSO_JWKS_URL"]:
        app.extensions["sso_jwks"] = jwt.PyJWKClient(
            app.config["SSO_JWKS_URL"],
            lifespan=JWKS_LIFESPAN_SECONDS,
            cooldown_duration=JWKS_REFRESH_COOLDOWN_SECONDS,
            timeout=JWKS_TIMEOUT_SECONDS,
        )


def _key_and_algorithms(token: str) -> tuple[object, list[str]]:
    config = current_app.config
    if config["SSO_SECRET"]:
        return config["SSO_SECRET"].encode(), config["SSO_ALGORITHMS"]
    if config["SSO_PUBLIC_KEY"]:
        return config["SSO_PUBLIC_KEY"], config["SSO_ALGORITHMS"]
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.DecodeError:
        raise TokenRefused("malformed", "The sign-in token cannot be read.") from None
    if not isinstance(kid, str) or not kid:
        raise TokenRefused(
            "no_kid", "The sign-in token does not name its signing key (kid)."
        )
    client: jwt.PyJWKClient = current_app.extensions["sso_jwks"]
    unreachable = TokenRefused(
        "jwks_unreachable",
        "Could not fetch the portal's keys, so the sign-in cannot be checked. "
        "Try again in a minute.",
    )
    # A set that is not JSON, or holds no usable key, counts as not fetched.
    fetch_errors = (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, ValueError)
    try:
        client.get_signing_keys()  # from the cache once fetched
    except (*fetch_errors, jwt.PyJWKClientError):
        raise unreachable from None
    try:
        key = client.get_signing_key(kid)
    except fetch_errors:
        raise unreachable from None
    except jwt.PyJWKClientError:
        raise TokenRefused(
            "unknown_kid",
            "The sign-in token is signed with a key the portal does not publish.",
        ) from None
    # The key's own type decides the one algorithm it may be used with.
    if key.algorithm_name not in config["SSO_ALGORITHMS"]:
        raise TokenRefused(
            "bad_key_type", "The portal's key is of a kind this app does not accept."
        )
    return key, [key.algorithm_name]


def verify_token(token: str) -> SsoClaims:
    """The claims of a valid token, or TokenRefused saying why it is not valid."""
    config = current_app.config
    if not token:
        raise TokenRefused("missing", "No sign-in token was sent.")
    key, algorithms = _key_and_algorithms(token)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=config["SSO_AUDIENCE"],
            issuer=config["SSO_ISSUER"],
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "strict_aud": False},
        )
    except jwt.InvalidTokenError as error:
        raise _refusal(error) from None
    return _claims(payload)


def _refusal(error: jwt.InvalidTokenError) -> TokenRefused:
    """Plain words for PyJWT's reasons."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return TokenRefused(
            "expired",
            "The sign-in token has expired. Open the Invoice Manager again "
            "from the portal.",
        )
    if isinstance(error, jwt.ImmatureSignatureError):
        return TokenRefused(
            "not_yet_valid",
            "The sign-in token is not valid yet: the portal's clock and this "
            "server's clock disagree.",
        )
    if isinstance(error, jwt.InvalidAudienceError):
        return TokenRefused(
            "wrong_audience",
            "The sign-in token is meant for another application (wrong audience).",
        )
    if isinstance(error, jwt.InvalidIssuerError):
        return TokenRefused(
            "wrong_issuer",
            "The sign-in token comes from a portal this app does not know "
            "(wrong issuer).",
        )
    if isinstance(error, jwt.MissingRequiredClaimError):
        return TokenRefused(
            "missing_claim",
            f"The sign-in token is missing the claim “{error.claim}”.",
        )
    if isinstance(error, jwt.InvalidSignatureError):
        return TokenRefused(
            "bad_signature",
            "The sign-in token's signature is not right.",
        )
    if isinstance(error, jwt.InvalidAlgorithmError):
        return TokenRefused(
            "bad_algorithm",
            "The sign-in token is signed in a way this app does not accept.",
        )
    return TokenRefused("invalid", "The sign-in token is not valid.")


def _text(payload: dict, claim: str, limit: int, required: bool = True) -> str:
    value = payload.get(claim, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise TokenRefused(
            "bad_claim",
            f"The sign-in token's “{claim}” must be text of at most {limit} "
            "characters.",
        )
    return value.strip()


def _claims(payload: dict) -> SsoClaims:
    """Check what PyJWT does not: lifetime, types and the allowed values."""
    lifetime = payload["exp"] - payload["iat"]
    if lifetime > MAX_LIFETIME_SECONDS:
        raise TokenRefused(
            "lifetime_too_long",
            "The sign-in token lives too long: a portal's token must expire "
            "within 5 minutes of being issued.",
        )
    email = _text(payload, "email", 254).lower()
    if "@" not in email:
        raise TokenRefused(
            "bad_claim", "The sign-in token's “email” is not an e-mail address."
        )
    role = payload["role"]
    if role not in {r.value for r in Role}:
        raise TokenRefused(
            "bad_role",
            "The sign-in token's role must be “admin” or “staff”.",
        )
    clients = payload.get("clients", [])
    if not isinstance(clients, list) or not all(
        isinstance(c, str) and "@" in c for c in clients
    ):
        raise TokenRefused(
            "bad_claim",
            "The sign-in token's “clients” must be a list of client e-mails.",
        )
    tenant = _text(payload, "tenant", 63)
    if not TENANT_SLUG.fullmatch(tenant):
        # The slug names the tenant for good (CLI --tenant, URLs): no "Acme Corp".
        raise TokenRefused(
            "bad_claim",
            "The sign-in token's “tenant” must be a slug: lower-case letters, "
            "digits and hyphens (put the display name in “tenant_name”).",
        )
    theme = _text(payload, "theme", 10, required=False)
    if theme and theme not in THEMES:
        raise TokenRefused(
            "bad_claim", "The sign-in token's “theme” must be “light” or “dark”."
        )
    return SsoClaims(
        sub=_text(payload, "sub", 255),
        jti=_text(payload, "jti", 255),
        email=email,
        tenant=tenant,
        role=role,
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        name=_text(payload, "name", 200, required=False),
        tenant_name=_text(payload, "tenant_name", 200, required=False),
        clients=tuple(c.strip().lower() for c in clients),
        locale=_text(payload, "locale", 35, required=False),
        theme=theme,
    )
