"""CSRF on the API: a bearer token stands in for it, a session cookie never does.

A throwaway POST route, registered under the API blueprint's name for these
tests only, stands for any route that writes (tokens here may write).
"""

from __future__ import annotations

import pytest
from flask import request
from flask_login import current_user, login_required

from invoice_app.extensions import db
from invoice_app.models import Client
from tests.conftest import Auth, csrf_token

CLIENT_EMAIL = "forged@example.test"


@pytest.fixture
def api_post(app) -> str:
    """POST /api/test-clients creates a client: a stand-in for a writing route.

    Routes can only be added before the app's first request: tests list this
    fixture before any that signs in.
    """

    @login_required
    def create_client():
        client = Client(name=f"by {current_user.email}", email=request.json["email"])
        db.session.add(client)
        db.session.commit()
        return {"name": client.name}, 201

    # The endpoint's "api." prefix puts the route in the API blueprint.
    app.add_url_rule(
        "/api/test-clients",
        endpoint="api.test_create_client",
        view_func=create_client,
        methods=["POST"],
    )
    return "/api/test-clients"


def token_for(runner, email: str) -> str:
    args = ["users", "token", email, "--scope", "write"]
    return runner.invoke(args=args).output.splitlines()[-1]


def created() -> list[str]:
    return db.session.scalars(
        db.select(Client.name).where(Client.email == CLIENT_EMAIL)
    ).all()


def test_session_cookie_without_csrf_token_is_refused(api_post, admin):
    response = admin.post(api_post, json={"email": CLIENT_EMAIL})
    assert response.status_code == 400
    assert response.json == {"error": "The CSRF token is missing.", "errors": []}
    assert created() == []


def test_session_cookie_with_csrf_token_passes(api_post, admin):
    token = csrf_token(admin.get("/billing/invoices").get_data(as_text=True))
    response = admin.post(
        api_post, json={"email": CLIENT_EMAIL}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    assert created() == ["by admin@example.test"]


def test_bearer_token_needs_no_csrf_token(client, auth, runner, api_post):
    auth.user("admin", "engine@example.test")
    token = token_for(runner, "engine@example.test")
    response = client.post(
        api_post,
        json={"email": CLIENT_EMAIL},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert created() == ["by engine@example.test"]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic YWRtaW46eA=="])
def test_session_cookie_with_a_bad_token_still_needs_csrf(api_post, admin, header):
    response = admin.post(
        api_post, json={"email": CLIENT_EMAIL}, headers={"Authorization": header}
    )
    assert response.status_code == 400
    assert created() == []


def test_someone_elses_token_beside_a_session_needs_csrf(api_post, app, admin, runner):
    """The session's user would act, so the token does not vouch for the request."""
    Auth(app.test_client()).user("admin", "engine@example.test")
    token = token_for(runner, "engine@example.test")
    response = admin.post(
        api_post,
        json={"email": CLIENT_EMAIL},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert created() == []


def test_no_credentials_at_all_changes_nothing(client, api_post):
    response = client.post(api_post, json={"email": CLIENT_EMAIL})
    assert response.status_code in {400, 401}
    assert created() == []


def test_reading_needs_no_csrf_token(admin):
    assert admin.get("/api/invoices").status_code == 200
