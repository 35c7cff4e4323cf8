"""`flask users ...` and `flask demo ...`: what an operator types and sees."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from invoice_app.extensions import db
from invoice_app.models import Client, Invoice, User


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def counts() -> tuple[int, int, int]:
    """(invoices, clients, users) in the database."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Invoice, Client, User)
    )


def api_get(client, token: str):
    # Each request in its own app context, as in production, so nothing cached in
    # `g` (Flask-Login keeps the user there) carries over to the next request.
    with client.application.app_context():
        return client.get("/api/invoices", headers={"Authorization": f"Bearer {token}"})


# --- users create -----------------------------------------------------------


def test_create_user_with_password_option(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            " Ada@Example.COM ",
            "--role",
            "admin",
            "--password",
            "correct horse",
        ]
    )

    assert result.exit_code == 0, result.output
    assert result.output == "Created admin ada@example.com.\n"
    created = user("ada@example.com")
    assert created.role == "admin" and created.is_admin
    assert created.check_password("correct horse")
    assert created.password_hash != "correct horse"


def test_create_user_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["users", "create", "sam@example.com", "--role", "staff"],
        input="staff-pass-1\nstaff-pass-1\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password: " in result.output
    assert "Repeat for confirmation: " in result.output
    assert "staff-pass-1" not in result.output  # hidden input is not echoed
    assert result.output.endswith("Created staff sam@example.com.\n")
    created = user("sam@example.com")
    assert created.role == "staff" and not created.is_admin
    assert created.check_password("staff-pass-1")


def test_prompted_passwords_that_differ_are_asked_again(app, runner):
    result = runner.invoke(
        args=["users", "create", "sam@example.com", "--role", "staff"],
        input="staff-pass-1\nstaff-pass-2\nstaff-pass-3\nstaff-pass-3\n",
    )

    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output
    assert user("sam@example.com").check_password("staff-pass-3")


def test_duplicate_user_is_refused(app, runner):
    args = ["users", "create", "ada@example.com", "--role", "admin"]
    assert runner.invoke(args=[*args, "--password", "first-pass"]).exit_code == 0

    result = runner.invoke(
        args=[
            "users",
            "create",
            "ADA@example.com",
            "--role",
            "staff",
            "--password",
            "x" * 8,
        ]
    )

    assert result.exit_code == 1
    assert result.output == "Error: A user ada@example.com exists already.\n"
    assert counts()[2] == 1
    kept = user("ada@example.com")
    assert kept.role == "admin" and kept.check_password("first-pass")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ada@example.com", "--role", "admin", "--password", "short"],
            "Invalid value for --password: use at least 8 characters",
        ),
        (
            ["ada@example.com", "--role", "boss", "--password", "long-enough"],
            "Invalid value for '--role': 'boss' is not one of 'admin', 'staff'.",
        ),
        (
            ["ada@example.com", "--password", "long-enough"],
            "Missing option '--role'. Choose from:",
        ),
        (
            ["ada.example.com", "--role", "admin", "--password", "long-enough"],
            "Invalid value for EMAIL: 'ada.example.com' is not an e-mail address",
        ),
    ],
)
def test_bad_user_input_is_refused_by_click(app, runner, args, message):
    result = runner.invoke(args=["users", "create", *args])

    assert result.exit_code == 2
    assert f"\nError: {message}" in result.output
    assert counts()[2] == 0


# --- users token ------------------------------------------------------------


def make_user(runner, email: str = "api@example.com") -> None:
    args = ["users", "create", email, "--role", "staff", "--password", "api-pass-1"]
    assert runner.invoke(args=args).exit_code == 0


def issue_token(runner, email: str = "api@example.com") -> str:
    result = runner.invoke(args=["users", "token", email])
    assert result.exit_code == 0, result.output
    *before, token = result.output.splitlines()
    shown = email.strip().lower()
    assert before == [
        f"New read API token for {shown} (the previous one no longer works):"
    ]
    return token


def test_token_is_printed_alone_on_the_last_line_and_works(
    app, runner, client, make_invoice
):
    make_invoice(number="INV-API-1")
    make_user(runner)

    token = issue_token(runner, "API@Example.com")

    assert token and " " not in token and len(token) >= 40
    # Only a hash is kept.
    assert user("api@example.com").api_token_hash == User.hash_token(token)
    response = api_get(client, token)
    assert response.status_code == 200
    assert [item["number"] for item in response.get_json()["items"]] == ["INV-API-1"]


def test_made_up_token_is_refused_with_json(app, runner, client):
    make_user(runner)
    issue_token(runner)

    response = api_get(client, "made-up-token")

    assert response.status_code == 401
    assert response.is_json
    assert "error" in response.get_json()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_new_token_replaces_the_old_one(app, runner, client):
    make_user(runner)
    old = issue_token(runner)

    new = issue_token(runner)

    assert new != old
    assert api_get(client, old).status_code == 401
    assert api_get(client, new).status_code == 200


def test_token_for_unknown_user(app, runner):
    result = runner.invoke(args=["users", "token", "nobody@example.com"])

    assert result.exit_code == 1
    assert result.output == "Error: There is no user nobody@example.com.\n"


# --- demo -------------------------------------------------------------------


def test_demo_seed_adds_once(app, runner):
    result = runner.invoke(args=["demo", "seed", "--invoices", "50"])

    assert result.exit_code == 0, result.output
    assert result.output == "Added 50 demo invoices.\n"
    after_first = counts()
    assert after_first[0] == 50

    again = runner.invoke(args=["demo", "seed", "--invoices", "50"])

    assert again.exit_code == 0, again.output
    assert again.output == "Added 0 demo invoices.\n"
    assert counts() == after_first


def test_demo_setup_seeds_an_empty_database_and_makes_the_users(app, runner):
    result = runner.invoke(args=["demo", "setup"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Added 400 demo invoices."
    invoices, clients, users = counts()
    assert (invoices, users) == (400, 2)
    assert clients > 0
    admin, staff = user("admin@example.com"), user("staff@example.com")
    assert admin.role == "admin" and staff.role == "staff"
    assert "Billing admin: admin@example.com / " in result.output
    assert "Billing staff: staff@example.com / " in result.output

    again = runner.invoke(args=["demo", "setup"])

    assert again.exit_code == 0, again.output
    assert "Added" not in again.output
    assert counts() == (invoices, clients, users)


def test_demo_setup_leaves_existing_invoices_alone(app, runner, make_invoice):
    make_invoice(number="INV-REAL-1")

    result = runner.invoke(args=["demo", "setup"])

    assert result.exit_code == 0, result.output
    assert "Added" not in result.output
    assert counts() == (1, 1, 2)
