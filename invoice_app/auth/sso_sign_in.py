"""Single sign-on, the database half: use the token once, create or update the user.

Both happen in one transaction: the token's id goes into used_token, whose
primary key lets only one of two racing workers (or hosts) through, and the user
is written only by the one that got it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..extensions import db
from ..models import Tenant, UsedToken, User, utcnow
from .sso import LEEWAY_SECONDS, SsoClaims, TokenRefused

# A used token's id is kept a little past the last moment the token verifies.
KEEP_USED_TOKEN = timedelta(seconds=LEEWAY_SECONDS + 60)


def sign_in_user(claims: SsoClaims) -> User:
    """Mark the token used and write the user from its claims; commit both.

    The user's tenant and allowed clients then confine every request it makes
    (tenancy.py); a portal names a new tenant simply by using its slug.
    """
    begin_write()
    session = db.session
    session.execute(delete(UsedToken).where(UsedToken.expires_at < utcnow()))
    session.add(
        UsedToken(jti=claims.jti, expires_at=claims.expires_at + KEEP_USED_TOKEN)
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise TokenRefused(
            "reused",
            "This sign-in token has been used already. Open the Invoice Manager "
            "again from the portal.",
        ) from None
    user = _upsert_user(claims)
    try:
        session.commit()
    except IntegrityError:
        # Another sign-in created the same user at the same moment.
        session.rollback()
        raise TokenRefused(
            "conflict",
            "Another sign-in for this user happened at the same moment. "
            "Open the Invoice Manager again from the portal.",
        ) from None
    return user


def _upsert_user(claims: SsoClaims) -> User:
    session = db.session
    tenant = session.scalar(select(Tenant).where(Tenant.slug == claims.tenant))
    if tenant is None:
        tenant = Tenant(slug=claims.tenant, name=claims.tenant_name or claims.tenant)
        session.add(tenant)
    elif claims.tenant_name:
        tenant.name = claims.tenant_name
    user = session.scalar(select(User).where(User.sso_sub == claims.sub))
    same_email = session.scalar(
        select(User).where(func.lower(User.email) == claims.email)
    )
    if same_email is not None and same_email is not user:
        session.rollback()
        # Linking by e-mail would let the portal take over a local account.
        raise TokenRefused(
            "email_taken",
            f"Another account here already uses {claims.email}; ask the "
            "administrator of this Invoice Manager.",
        )
    if user is None:
        user = User(sso_sub=claims.sub, password_hash=None)
        session.add(user)
    user.email = claims.email
    user.name = claims.name
    user.role = claims.role
    user.tenant = tenant
    # An empty list, like no claim, means every client of the tenant.
    user.allowed_clients = sorted({c.lower() for c in claims.clients}) or None
    return user
