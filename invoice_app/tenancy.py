"""Tenant scoping: every read and write of a tenant's rows is confined to it, here.

A tenant is one portal account; its clients, their invoices (with lines and
payments) and the audit trail belong to it. A request is confined to its
signed-in user's tenant, and for a user the portal limits to some clients
(the token's `clients` claim) to those clients; a request with nobody signed
in is confined to nothing. The CLI and background work choose a scope with
`use()`; without one (migrations, maintenance commands) they see every tenant.

One hook (do_orm_execute) adds the scope to every ORM SELECT, UPDATE and
DELETE of Client, Invoice, AuditEvent, SavedView and the webhooks' endpoints
and events, wherever the entity appears in the statement (subqueries, unions,
joins), so no view, export or action can forget it: another tenant's invoice
is simply not there, and answers 404 like a number that does not exist. A
second hook (before_flush) puts new rows into the scope's tenant and refuses to
write a row outside the scope. The invoice tally, a table the models do not
describe, is confined by tally_criteria().
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from werkzeug.exceptions import Forbidden

from .extensions import db
from .models import (
    AuditEvent,
    Client,
    Invoice,
    SavedView,
    Tenant,
    User,
    WebhookEndpoint,
    WebhookEvent,
    default_tenant,
)
from .sqlite_hints import unindexed

# Execution option for the few statements that must see past the scope: the
# lookup that builds a scope, and CLI commands naming a tenant by slug.
ALL_TENANTS = {"all_tenants": True}
# Execution option for a statement that reads every row of the tenant anyway
# (queries._scanning): its tenant test is kept from choosing an index (SQLite).
SCANS_TENANT = {"scans_tenant": True}


@dataclass(frozen=True)
class Scope:
    """What one user (or command) may see: a tenant, perhaps some of its clients."""

    tenant_id: int
    # Ids of the clients the user may see; None: every client of the tenant.
    client_ids: tuple[int, ...] | None = None

    @property
    def limited_to_clients(self) -> bool:
        return self.client_ids is not None


# Tenant ids start at 1: nothing belongs to tenant 0.
NOBODY = Scope(tenant_id=0, client_ids=())


class OutOfScope(Forbidden):
    """A write of a row the scope does not cover (a client not allowed, say)."""

    description = "You may not work with this client's invoices."


def scope_for(user) -> Scope:
    """The scope of a signed-in user: its tenant, narrowed by its allowed clients."""
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    if user.allowed_clients is None:
        return Scope(user.tenant_id)
    emails = [email.lower() for email in user.allowed_clients]
    ids = db.session.scalars(
        select(Client.id)
        .where(Client.tenant_id == user.tenant_id, func.lower(Client.email).in_(emails))
        .order_by(Client.id)
        .execution_options(**ALL_TENANTS)
    )
    return Scope(user.tenant_id, tuple(ids))


def tenant_scope(slug: str, *, create: bool = False) -> Scope:
    """A command's scope: every client of the tenant `slug` (made when `create`)."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        if not create:
            raise LookupError(f"There is no tenant {slug!r}.")
        tenant = default_tenant(db.session) if slug == "default" else Tenant(slug=slug)
        tenant.name = tenant.name or slug
        db.session.add(tenant)
        db.session.flush()
    return Scope(tenant.id)


def current() -> Scope | None:
    """The scope in force: a request's is never None (NOBODY before sign-in)."""
    if not has_app_context():
        return None
    scope = g.get("_tenant_scope")
    if scope is None and has_request_context():
        return NOBODY
    return scope


@contextmanager
def use(scope: Scope | None) -> Iterator[Scope | None]:
    """Confine what runs inside to scope (None: every tenant)."""
    previous = g.get("_tenant_scope")
    g._tenant_scope = scope
    try:
        yield scope
    finally:
        g._tenant_scope = previous


def tally_criteria(tally_columns) -> list:
    """WHERE clauses confining invoice_tally (per tenant) to the current scope."""
    scope = current()
    return [] if scope is None else [tally_columns.tenant_id == scope.tenant_id]


def _confine(scope: Scope, scanning: bool = False) -> list:
    tenant_id, client_ids = scope.tenant_id, scope.client_ids
    # Lambdas: SQLAlchemy caches each statement once and binds the variables
    # the lambda itself names (tenant_id, client_ids) as parameters of each
    # execution. They must be named in the lambda, not in a helper it calls:
    # a helper's variables would be cached with the first tenant's values.
    if scanning:

        def tenant(model):
            return with_loader_criteria(
                model,
                lambda cls: unindexed(cls.tenant_id) == tenant_id,
                include_aliases=True,
            )
    else:

        def tenant(model):
            return with_loader_criteria(
                model, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
            )

    tenant_wide = (AuditEvent, WebhookEndpoint, WebhookEvent, SavedView)
    if client_ids is None:
        return [tenant(model) for model in (Client, Invoice, *tenant_wide)]
    # A user limited to some clients: few invoices, found by client_id.
    return [
        with_loader_criteria(
            Client,
            lambda cls: (cls.tenant_id == tenant_id) & cls.id.in_(client_ids),
            include_aliases=True,
        ),
        with_loader_criteria(
            Invoice,
            lambda cls: (cls.tenant_id == tenant_id) & cls.client_id.in_(client_ids),
            include_aliases=True,
        ),
        # A trail is read through its invoice, which the line above confines.
        *(tenant(model) for model in tenant_wide),
    ]


def confine(statement):
    """statement confined to the current scope, for running outside the Session.

    A statement a Session runs is confined by the hook below; one run on a
    connection of its own (a streamed export) must be confined first.
    """
    scope = current()
    if scope is None:
        return statement
    scanning = bool(statement.get_execution_options().get("scans_tenant"))
    return statement.options(*_confine(scope, scanning))


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    # Lazy loads of a row's relationships or deferred columns start from a row
    # that was confined when it was loaded.
    if state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants"):
        return
    scope = current()
    if scope is not None:
        scanning = bool(state.execution_options.get("scans_tenant"))
        state.statement = state.statement.options(*_confine(scope, scanning))


@event.listens_for(Session, "before_flush")
def _place_new_rows(session: Session, flush_context, instances) -> None:
    """New rows join the scope's tenant (the default one when unscoped).

    An invoice always belongs to its client's tenant, and its trail to its
    invoice's. Writing a row outside the scope is refused (OutOfScope).
    """
    scope = current()
    new = list(session.new)
    default = None
    for obj in new:
        if isinstance(obj, User | Client) and obj.tenant is None:
            if obj.tenant_id or scope is not None:
                # The identity map answers after the first lookup.
                obj.tenant = session.get(Tenant, obj.tenant_id or scope.tenant_id)
            else:
                default = default or default_tenant(session)
                obj.tenant = default
    for obj in new:
        if isinstance(obj, Invoice) and obj.client is not None:
            obj.tenant = obj.client.tenant
    if scope is None:
        return
    for obj in [*new, *session.dirty]:
        if isinstance(obj, Client | Invoice | AuditEvent | SavedView):
            _check_in_scope(obj, scope)


def _check_in_scope(obj, scope: Scope) -> None:
    tenant_id = obj.tenant.id if getattr(obj, "tenant", None) else obj.tenant_id
    if tenant_id not in (None, scope.tenant_id):
        raise OutOfScope()
    if not scope.limited_to_clients:
        return
    if isinstance(obj, Client) and obj.id not in scope.client_ids:
        raise OutOfScope()
    if isinstance(obj, Invoice) and obj.client.id not in scope.client_ids:
        raise OutOfScope()


def register(app: Flask) -> None:
    """Confine each request to its signed-in user's scope."""

    @app.before_request
    def _confine_request() -> None:
        g._tenant_scope = scope_for(current_user)
