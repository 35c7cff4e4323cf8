"""Saved views of the invoice list: who sees which, their names, defaults.

A view is the list's canonical query parameters under a name. A user sees their
own (personal) views and their tenant's shared ones; any other view, another
user's personal one or another tenant's, is simply not there (404, worded as for
an id that does not exist). Only billing admins make, rename or delete shared
views; anyone who sees a view may open it and make it their default.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, delete, false, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from .database import begin_write
from .extensions import db
from .models import SavedView, SavedViewDefault, User

NAME_MAX = 60
TEAM = "team"
# Request parameters that do not choose what the list shows: a request with
# nothing but these is "bare" and opens the user's default view.
NOT_FILTERS = ("embed",)


class ViewRefused(Exception):
    """A name the rules refuse (a clash); the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _visible(user) -> Select:
    if not getattr(user, "is_authenticated", False):
        return select(SavedView).where(false())
    # The tenant test repeats tenancy's scope on purpose: a view is never
    # looked up for a user outside that user's tenant, scope or no scope.
    return select(SavedView).where(
        SavedView.tenant_id == user.tenant_id,
        or_(SavedView.shared.is_(True), SavedView.owner_id == user.id),
    )


def visible_views(user) -> list[SavedView]:
    """The views user sees: the team's shared ones first, then their own, by name."""
    stmt = _visible(user).order_by(
        SavedView.shared.desc(), SavedView.name_key, SavedView.id
    )
    return list(db.session.scalars(stmt))


def visible_view(user, view_id: int) -> SavedView | None:
    """One view user sees, or None (missing, or not theirs to see)."""
    return db.session.scalar(_visible(user).where(SavedView.id == view_id))


def view_or_404(user, view_id: int) -> SavedView:
    """The view, or 404 with the same words whether it is missing or hidden."""
    view = visible_view(user, view_id)
    if view is None:
        abort(404, f"There is no saved view {view_id}.")
    return view


def stored_args(view_id: int) -> dict[str, str]:
    """The signed-in user's view's parameters (for the one parser), else 404."""
    return dict(view_or_404(current_user, view_id).args)


def may_change(user, view: SavedView) -> bool:
    """Personal views are their owner's to change; shared ones, billing admins'."""
    return user.is_admin if view.shared else view.owner_id == user.id


def check_may_change(user, view: SavedView) -> None:
    """403 unless user may rename or delete view."""
    if not may_change(user, view):
        abort(403, "Only a billing admin may change a view shared with the team.")


def _audience(user: User, shared: bool) -> str:
    return TEAM if shared else f"user:{user.id}"


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _clash(user: User, shared: bool, name: str, keep_id: int | None = None) -> None:
    stmt = select(SavedView.id).where(
        SavedView.tenant_id == user.tenant_id,
        SavedView.audience == _audience(user, shared),
        SavedView.name_key == _key(name),
    )
    if keep_id is not None:
        stmt = stmt.where(SavedView.id != keep_id)
    if db.session.scalar(stmt) is not None:
        raise ViewRefused(_clash_message(shared, name))


def _clash_message(shared: bool, name: str) -> str:
    whose = (
        "The team already has a shared view" if shared else "You already have a view"
    )
    return f"{whose} named “{name}”; choose another name."


def _commit_or_clash(shared: bool, name: str) -> None:
    # The check above reads before it writes; two saves of one name at once
    # meet the unique constraint instead, and get the same message.
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ViewRefused(_clash_message(shared, name)) from None


def create(user: User, name: str, shared: bool, args: dict[str, str]) -> SavedView:
    """Save args as a view named name: user's own, or the team's (admins only)."""
    if shared and not user.is_admin:
        abort(403, "Only a billing admin may share a view with the team.")
    name = " ".join(name.split())
    begin_write()
    _clash(user, shared, name)
    view = SavedView(
        tenant_id=user.tenant_id,
        owner_id=user.id,
        name=name,
        name_key=_key(name),
        shared=shared,
        audience=_audience(user, shared),
        args=dict(args),
    )
    db.session.add(view)
    _commit_or_clash(shared, name)
    return view


def rename(user: User, view: SavedView, name: str) -> None:
    """Give view a new name (clashes refused as when saving)."""
    check_may_change(user, view)
    name = " ".join(name.split())
    begin_write()
    _clash(user, view.shared, name, keep_id=view.id)
    view.name, view.name_key = name, _key(name)
    _commit_or_clash(view.shared, name)


def remove(user: User, view: SavedView) -> None:
    """Delete view; whoever had it as their default opens the whole list again."""
    check_may_change(user, view)
    begin_write()
    # The foreign key cascades too; said here so no database setting decides it.
    db.session.execute(
        delete(SavedViewDefault).where(SavedViewDefault.view_id == view.id)
    )
    db.session.delete(view)
    db.session.commit()


def default_view_id(user) -> int | None:
    """The id of the view user's bare list opens, if they chose one they still see."""
    if not getattr(user, "is_authenticated", False):
        return None
    stmt = (
        _visible(user)
        .join(SavedViewDefault, SavedViewDefault.view_id == SavedView.id)
        .where(SavedViewDefault.user_id == user.id)
        .with_only_columns(SavedView.id)
    )
    return db.session.scalar(stmt)


def set_default(user: User, view: SavedView | None) -> None:
    """Make view user's default (None: the whole list again)."""
    begin_write()
    db.session.execute(
        delete(SavedViewDefault).where(SavedViewDefault.user_id == user.id)
    )
    if view is not None:
        db.session.add(SavedViewDefault(user_id=user.id, view_id=view.id))
    db.session.commit()


def with_default(args: MultiDict) -> MultiDict:
    """args, or the user's default view when args choose nothing at all."""
    if any(key not in NOT_FILTERS for key in args):
        return args
    view_id = default_view_id(current_user)
    if view_id is None:
        return args
    chosen = MultiDict(args)
    chosen["view"] = str(view_id)
    return chosen
