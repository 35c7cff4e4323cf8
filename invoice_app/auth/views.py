"""Login, logout and how requests are authenticated."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from ..extensions import csrf, db, limiter, login_manager
from ..models import User
from ..web import is_api_request, is_fragment_request
from . import bp, sso_session
from .redirects import safe_next
from .sso_views import session_ended_response


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """API calls may carry `Authorization: Bearer <token>` instead of a session."""
    if not is_api_request():
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return db.session.scalar(
        select(User).where(User.api_token_hash == User.hash_token(token.strip()))
    )


@login_manager.unauthorized_handler
def unauthorized():
    """JSON 401 for the API; a redirect to the login page for people."""
    if is_api_request():
        response = jsonify(
            error="Authentication required: sign in or send a token.", errors=[]
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="invoices"'
        return response
    # script_root keeps the URL prefix (SCRIPT_NAME) in the way back.
    here = request.script_root + request.full_path.rstrip("?")
    if sso_session.ended():
        # A portal user has no password: say the session ended, no login form.
        return session_ended_response(here)
    target = url_for("auth.login", next=here)
    if is_fragment_request():
        # htmx would swap a login page into the table; make the browser go there.
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
# The form checks its own CSRF token, inside the view, so that the rate limit
# below counts every attempt, with or without a token.
@csrf.exempt
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    error_message="Too many sign-in attempts from your address. "
    "Wait a minute, then try again.",
)
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user and user.signs_in_through_portal:
            form.email.errors.append(
                "This account signs in through the portal: open the Invoice "
                "Manager from the portal."
            )
        elif user and user.check_password(form.password.data):
            sso_session.forget()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        else:
            form.password.errors.append("E-mail or password is not right.")
    status = 400 if form.errors else 200
    page = render_template(
        "auth/login.html", form=form, next_path=safe_next(request.args.get("next"))
    )
    return page, status


@bp.post("/logout")
@login_required
def logout():
    """Sign out (POST, so a stray link or image cannot do it)."""
    logout_user()
    sso_session.forget()
    flash("You have been signed out.")
    return redirect(url_for("auth.login"))
