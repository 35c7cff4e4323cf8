"""Role checks enforced on the server."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def admin_required(view):
    """Only billing admins may call the view; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, "Only a billing admin may do this.")
        return view(*args, **kwargs)

    return wrapped
