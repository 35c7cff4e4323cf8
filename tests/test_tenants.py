"""Tenants: the default tenant holds what existed before, and users of the CLI."""

from __future__ import annotations

from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from invoice_app.extensions import db
from invoice_app.models import Client, Invoice, Tenant, User


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


def test_create_user_of_another_tenant_creates_the_tenant(app, runner):
    args = ["users", "create", "bo@acme.example", "--role", "staff"]
    result = runner.invoke(args=[*args, "--tenant", "Acme", "--password", "pw-acme-1"])
    assert result.exit_code == 0, result.output
    assert result.output == "Created staff bo@acme.example in tenant acme.\n"
    bo = user("bo@acme.example")
    assert (bo.tenant.slug, bo.tenant.name, bo.role) == ("acme", "acme", "staff")
    assert db.session.scalars(select(Tenant.slug)).all() == ["acme"]


def test_create_user_refuses_a_bad_tenant_slug(app, runner):
    args = ["users", "create", "x@example.com", "--role", "staff", "--password"]
    result = runner.invoke(args=[*args, "pw-long-1", "--tenant", "acme corp/1"])
    assert result.exit_code == 2
    assert "--tenant" in result.output and "lower-case letters" in result.output
    assert user("x@example.com") is None
    assert "acme corp/1" not in db.session.scalars(select(Tenant.slug)).all()


# --- the CLI works in one tenant ----------------------------------------------

IMPORT_CSV = """\
invoice_number,client_name,client_email,billing_period,currency,usage_cost,payable,issue_date,due_date,status,paid_date,notes
INV-1,Müller GmbH,billing@mueller.example,2025-05,EUR,150.00,140.00,2025-06-01,2025-06-30,DUE,,
INV-2,Tanaka Robotics,ap@tanaka.example,2025-05,JPY,5000,5000,2025-06-01,2025-07-01,DUE,,
"""  # noqa: E501


def tenant_rows(slug: str) -> list[tuple]:
    db.session.commit()
    return db.session.execute(
        select(Invoice.number, Client.email, Invoice.payable)
        .join(Client, Invoice.client_id == Client.id)
        .join(Tenant, Invoice.tenant_id == Tenant.id)
        .where(Tenant.slug == slug, Client.tenant_id == Tenant.id)
        .order_by(Invoice.number)
    ).all()


def test_import_into_two_tenants_keeps_them_apart(app, runner, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(IMPORT_CSV, encoding="utf-8")
    first = runner.invoke(args=["invoices", "import", str(path), "--tenant", "acme"])
    assert first.exit_code == 0, first.output
    assert first.output == "Imported 2 new and 0 updated invoices.\n"
    # The same numbers and client e-mails in another tenant are that tenant's own.
    second = runner.invoke(args=["invoices", "import", str(path), "--tenant", "globex"])
    assert second.exit_code == 0, second.output
    assert second.output == "Imported 2 new and 0 updated invoices.\n"
    expected = [
        ("INV-1", "billing@mueller.example", Decimal("140.00")),
        ("INV-2", "ap@tanaka.example", Decimal("5000")),
    ]
    assert tenant_rows("acme") == tenant_rows("globex") == expected
    # Within one tenant a number stays unique: a second import is refused.
    again = runner.invoke(args=["invoices", "import", str(path), "--tenant", "acme"])
    assert again.exit_code == 1
    assert "INV-1" in again.output and "nothing was imported" in again.output
    # Without --tenant: the default tenant, which has none of them.
    default = runner.invoke(args=["invoices", "import", str(path)])
    assert default.exit_code == 0, default.output
    assert len(tenant_rows("default")) == 2


def test_import_update_replaces_the_tenants_own_invoice_only(app, runner, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(IMPORT_CSV, encoding="utf-8")
    for slug in ("acme", "globex"):
        runner.invoke(args=["invoices", "import", str(path), "--tenant", slug])
    path.write_text(IMPORT_CSV.replace("150.00,140.00", "150.00,120.00"), "utf-8")
    result = runner.invoke(
        args=["invoices", "import", str(path), "--tenant", "globex", "--update"]
    )
    assert result.exit_code == 0, result.output
    assert tenant_rows("globex")[0][2] == Decimal("120.00")
    assert tenant_rows("acme")[0][2] == Decimal("140.00")


def test_import_refuses_a_bad_tenant_slug(app, runner, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(IMPORT_CSV, encoding="utf-8")
    result = runner.invoke(args=["invoices", "import", str(path), "--tenant", "a b"])
    assert result.exit_code == 2
    assert "--tenant" in result.output and "lower-case letters" in result.output
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_demo_seed_per_tenant(app, runner):
    seed_acme = ["demo", "seed", "--invoices", "40", "--tenant", "acme"]
    result = runner.invoke(args=seed_acme)
    assert result.exit_code == 0, result.output
    assert result.output == "Added 40 demo invoices to tenant acme.\n"
    result = runner.invoke(args=["demo", "seed", "--invoices", "30"])
    assert result.output == "Added 30 demo invoices.\n"
    acme = tenant_rows("acme")
    assert len(acme) == 40 and len(tenant_rows("default")) == 30
    assert all(email.endswith("@acme.example.com") for _, email, _ in acme)
    # Seeding again adds nothing: the numbers exist in that tenant.
    again = runner.invoke(args=seed_acme)
    assert again.output == "Added 0 demo invoices to tenant acme.\n"
    # The tally counts each tenant apart.
    db.session.commit()
    tallied = dict(
        db.session.execute(
            text(
                "SELECT tenant.slug, sum(invoices) FROM invoice_tally JOIN tenant"
                " ON tenant.id = invoice_tally.tenant_id GROUP BY tenant.slug"
            )
        ).all()
    )
    assert tallied == {"acme": 40, "default": 30}


def test_users_token_for_a_user_of_another_tenant(app, runner, client):
    runner.invoke(
        args=["users", "create", "bo@acme.example", "--role", "staff"]
        + ["--tenant", "acme", "--password", "pw-acme-1"]
    )
    runner.invoke(args=["demo", "seed", "--invoices", "20", "--tenant", "acme"])
    runner.invoke(args=["demo", "seed", "--invoices", "30"])
    result = runner.invoke(args=["users", "token", "bo@acme.example"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/invoices", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["total"] == 20
