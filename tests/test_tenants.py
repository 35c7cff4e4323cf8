"""Tenants: the default tenant holds what existed before, and users of the CLI."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from invoice_app.extensions import db
from invoice_app.models import Tenant, User


def user(email: str) -> User:
    db.session.commit()
    return db.session.scalar(select(User).where(User.email == email))


def test_migration_moves_existing_users_into_the_default_tenant(app):
    db.session.remove()
    downgrade(revision="0004")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO app_user (email, password_hash, role, created_at) "
                    "VALUES ('old@example.test', 'x', 'admin', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        upgrade()
    old = user("old@example.test")
    assert old.tenant.slug == "default" and old.tenant.name == "Default"
    assert old.sso_sub is None and old.name == "" and old.allowed_clients is None
    assert db.session.scalars(select(Tenant.slug)).all() == ["default"]


def test_downgrade_keeps_portal_users_without_a_way_to_sign_in(app):
    db.session.add(User(email="portal@example.test", sso_sub="p-1", role="staff"))
    db.session.commit()
    db.session.remove()
    downgrade(revision="0004")
    try:
        with db.engine.connect() as conn:
            hashes = conn.execute(
                text("SELECT password_hash FROM app_user WHERE email = :e"),
                {"e": "portal@example.test"},
            ).all()
    finally:
        upgrade()
    assert hashes == [("!",)]


def test_create_user_in_the_default_tenant_without_tenant(app, runner):
    args = ["users", "create", "ada@example.com", "--role", "admin"]
    result = runner.invoke(args=[*args, "--password", "correct horse"])
    assert result.exit_code == 0, result.output
    assert result.output == "Created admin ada@example.com.\n"
    assert user("ada@example.com").tenant.slug == "default"


def test_create_user_of_another_tenant_is_refused_until_invoices_are_scoped(
    app, runner
):
    """Such a user would see every invoice; nothing is created."""
    args = ["users", "create", "bo@acme.example", "--role", "staff"]
    result = runner.invoke(args=[*args, "--tenant", "Acme", "--password", "pw-acme-1"])
    assert result.exit_code == 1
    assert "Tenant 'acme' cannot have users yet" in result.output
    assert "would see every invoice" in result.output
    assert user("bo@acme.example") is None
    db.session.commit()
    assert "acme" not in db.session.scalars(select(Tenant.slug)).all()


def test_create_user_refuses_a_bad_tenant_slug(app, runner):
    args = ["users", "create", "x@example.com", "--role", "staff", "--password"]
    result = runner.invoke(args=[*args, "pw-long-1", "--tenant", "acme corp/1"])
    assert result.exit_code == 2
    assert "--tenant" in result.output and "lower-case letters" in result.output
    assert user("x@example.com") is None
    assert "acme corp/1" not in db.session.scalars(select(Tenant.slug)).all()
