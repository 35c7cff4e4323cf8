"""The portal's own users: demo people of two portal accounts (tenants).

A real portal has its own user store; what matters for the Invoice Manager is
which claims each user's token carries (tokens.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.security import check_password_hash, generate_password_hash


@dataclass(frozen=True)
class PortalUser:
    """A signed-in portal user, and what the Invoice Manager needs to know."""

    sub: str  # the portal's stable id: the Invoice Manager finds the user by it
    email: str
    name: str
    tenant: str  # the portal account's slug
    tenant_name: str
    role: str  # "admin" or "staff" in the Invoice Manager
    # E-mails of the only clients whose invoices this user may see (empty: all
    # of the tenant's clients).
    clients: tuple[str, ...] = ()
    locale: str = ""
    theme: str = ""
    password_hash: str = field(default="", repr=False)


def _demo(password: str, **claims) -> PortalUser:
    return PortalUser(password_hash=generate_password_hash(password), **claims)


# Demo accounts only: the sign-in page lists them. The limited user's clients
# are two of the clients `flask demo seed --tenant acme` makes.
DEMO_PASSWORDS = {
    "ada@acme.example": "ada-demo-password",
    "grace@globex.example": "grace-demo-password",
    "linus@acme.example": "linus-demo-password",
}
DEMO_USERS = {
    user.email: user
    for user in (
        _demo(
            DEMO_PASSWORDS["ada@acme.example"],
            sub="acme-user-1",
            email="ada@acme.example",
            name="Ada Lovelace",
            tenant="acme",
            tenant_name="Acme Corporation",
            role="admin",
        ),
        _demo(
            DEMO_PASSWORDS["grace@globex.example"],
            sub="globex-user-1",
            email="grace@globex.example",
            name="Grace Hopper",
            tenant="globex",
            tenant_name="Globex Industries",
            role="staff",
            locale="de_DE",
            theme="dark",
        ),
        _demo(
            DEMO_PASSWORDS["linus@acme.example"],
            sub="acme-user-2",
            email="linus@acme.example",
            name="Linus Pauling",
            tenant="acme",
            tenant_name="Acme Corporation",
            role="staff",
            clients=(
                "billing+acmeanalytics0@acme.example.com",
                "billing+blueharborlogistics1@acme.example.com",
            ),
        ),
    )
}


def authenticate(email: str, password: str) -> PortalUser | None:
    """The user with this e-mail and password, or None."""
    user = DEMO_USERS.get(email.strip().lower())
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user
