"""JSON API over the same filters as the Invoice Manager screen."""

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from ..extensions import csrf
from ..models import TOKEN_WRITE

bp = Blueprint("api", __name__, url_prefix="/api")

# The app-wide check is replaced, for this blueprint only, by the per-request
# rule below: token clients cannot carry a CSRF token, cookie sessions must.
csrf.exempt(bp)


def signed_in_by_token() -> bool:
    """Whether a valid bearer token, not only a session cookie, authenticates."""
    from ..auth.views import load_user_from_token

    user = load_user_from_token(request)
    # A session of someone else beside the token would be the one acting.
    return user is not None and current_user.get_id() == user.get_id()


@bp.before_request
def csrf_unless_token():
    """State changes need a CSRF token unless a bearer token authenticates them."""
    config = current_app.config
    if (
        config["WTF_CSRF_ENABLED"]
        and request.method in config["WTF_CSRF_METHODS"]
        # Nobody signed in: no cookie to forge with; the view answers 401.
        and current_user.is_authenticated
        and not signed_in_by_token()
    ):
        csrf.protect()


def reads_only(view):
    """Mark a POST that changes no invoice (queueing an export): read tokens may."""
    view.reads_only = True
    return view


@bp.before_request
def token_may_write():
    """A token writes only when it was issued with the `write` scope."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not signed_in_by_token():
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "reads_only", False):
        return
    if current_user.api_token_scope != TOKEN_WRITE:
        abort(
            403,
            "This API token may only read. A billing admin can get a token that "
            "writes: flask users token EMAIL --scope write.",
        )


from . import (  # noqa: E402,F401  (routes register on import)
    actions,
    creating,
    exports,
    receivables,
    views,
    webhooks,
)
