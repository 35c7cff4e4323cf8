"""Sign-in for billing staff (sessions, single sign-on) and API clients (tokens)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _register_sso(state) -> None:
    from . import sso, sso_session

    sso.register(state.app)
    sso_session.register(state.app)


from . import sso_views, views  # noqa: E402,F401  (routes register on import)
