"""Database models: clients, invoices with their lines, users and their tenants."""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .money import ScaledDecimal


def utcnow() -> datetime:
    return datetime.now(UTC)


def searchable_text(*fields: str | None) -> str:
    """The fields quick search looks in, one a line, case-folded so that it matches
    Unicode case-insensitively; the same for ORM writes and bulk seeding."""
    return "\n".join(value or "" for value in fields).casefold()


def invoice_search_columns(
    number: str, notes: str | None, descriptions: Iterable[str | None]
) -> tuple[str, str]:
    """An invoice's (search_number, search_text); the same for ORM writes and seeding.

    search_number is the case-folded number: a search the number starts with is
    a range of its index. search_text has the number from its second character
    on, so a search found anywhere else in the number is still in it. Left out,
    the first character no longer puts every invoice in the trigram index under
    the trigram all numbers start with ("inv"): a search for the start of a
    number finds there only the few texts that hold it further in.
    """
    folded = number.casefold()
    return folded, searchable_text(folded[1:], notes, *descriptions)


class Status(enum.StrEnum):
    """An invoice's lifecycle state, as stored and as shown."""

    DRAFT = "DRAFT"
    DUE = "DUE"
    OVER_DUE = "OVER_DUE"
    PAID = "PAID"
    CANCEL = "CANCEL"


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# What can never be true of an invoice, refused by the database itself (migration
# 0004), whatever code or hand-written SQL writes the row. Amounts are compared
# as stored (scaled integers). A credit (payable 0 or less) has nothing to pay,
# so nothing can have been paid on it.
INVOICE_CHECKS = {
    "ck_invoice_status": _one_of("status", Status),
    "ck_invoice_amount_paid_not_negative": "amount_paid >= 0",
    "ck_invoice_amount_paid_within_payable": (
        "amount_paid = 0 OR amount_paid <= payable"
    ),
    "ck_invoice_draft_unpaid": "status <> 'DRAFT' OR amount_paid = 0",
    "ck_invoice_paid_date_only_when_paid": "paid_date IS NULL OR status = 'PAID'",
    "ck_invoice_version_positive": "version >= 1",
    "ck_invoice_payment_terms_not_negative": (
        "payment_terms_days IS NULL OR payment_terms_days >= 0"
    ),
}
PAYMENT_CHECKS = {"ck_payment_amount_positive": "amount > 0"}
USER_CHECKS = {"ck_app_user_role": _one_of("role", Role)}


class ExportStatus(enum.StrEnum):
    """Where a background export is: queued, running, then done, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


EXPORT_FORMATS = ("xlsx", "pdf", "zip")
EXPORT_JOB_CHECKS = {
    "ck_export_job_status": _one_of("status", ExportStatus),
    "ck_export_job_rows_done_not_negative": "rows_done >= 0",
}


def _checks(checks: dict[str, str]) -> tuple[CheckConstraint, ...]:
    return tuple(CheckConstraint(sql, name=name) for name, sql in checks.items())


class Client(db.Model):
    """A customer account; matched by e-mail on import."""

    __tablename__ = "client"
    # Sorting the list by client name walks this index (migrations 0002, 0007);
    # quick search looks clients up by trigram (0006; SQLite: the FTS5
    # client_search). An e-mail names one client of a tenant (0007).
    __table_args__ = (
        UniqueConstraint("tenant_id", "email", name="uq_client_tenant_email"),
        Index("ix_client_name", "tenant_id", "name"),
        Index(
            "ix_client_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Filled in on flush from the tenant scope in force (tenancy.py).
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # Case-folded name and e-mail, kept in step by the flush hook below: quick
    # search finds clients first, then their invoices by client_id (search.py).
    # Only SQL reads it: loading a client does not (nor needs it to exist, as
    # before migration 0006).
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)

    tenant: Mapped[Tenant] = relationship()
    invoices: Mapped[list[Invoice]] = relationship(back_populates="client")

    def compute_search_text(self) -> str:
        """The client's part of quick search: name and e-mail."""
        return searchable_text(self.name, self.email)


class Invoice(db.Model):
    """One invoice for one client and one billing month."""

    __tablename__ = "invoice"
    __table_args__ = (
        # Every list is one tenant's (tenancy.py), so the sort indexes start
        # with tenant_id (0007) and end in id, the tie-breaker, so a page is an
        # index range (migration 0002, which also adds the SQLite FTS5 table
        # and the tally). A number names one invoice of a tenant.
        UniqueConstraint("tenant_id", "number", name="uq_invoice_tenant_number"),
        Index("ix_invoice_status_due_date", "tenant_id", "status", "due_date"),
        Index(
            "ix_invoice_status_period",
            "tenant_id",
            "status",
            "billing_period",
            "id",
            "due_date",
        ),
        # The default order, with the filtered columns along for the walk.
        Index(
            "ix_invoice_billing_period",
            "tenant_id",
            "billing_period",
            "id",
            "status",
            "due_date",
            "issue_date",
        ),
        Index(
            "ix_invoice_due_date",
            "tenant_id",
            "due_date",
            "id",
            "billing_period",
            "status",
        ),
        Index(
            "ix_invoice_issue_date",
            "tenant_id",
            "issue_date",
            "id",
            "billing_period",
            "status",
        ),
        # A search's counts and totals for the clients it names read this index
        # alone: every column they group, sum or filter rides along (0006). A
        # client is one tenant's, so client_id needs no tenant_id before it.
        Index(
            "ix_invoice_client_id",
            "client_id",
            "id",
            "status",
            "due_date",
            "currency",
            "usage_cost",
            "payable",
            "billing_period",
            "issue_date",
        ),
        # Everything receivables.aging() reads, status and paid date first: the
        # open invoices and those paid after a day are index ranges (0009).
        Index(
            "ix_invoice_receivable",
            "tenant_id",
            "status",
            "paid_date",
            "due_date",
            "issue_date",
            "currency",
            "payable",
            "amount_paid",
            "client_id",
            "id",
        ),
        # Numbers starting with a search, with the period and id of each, so
        # a page of them in period order is read from the index alone (0016).
        Index(
            "ix_invoice_search_number",
            "tenant_id",
            "search_number",
            "billing_period",
            "id",
        ),
        Index("ix_invoice_usage_cost", "tenant_id", "usage_cost", "id"),
        Index("ix_invoice_payable", "tenant_id", "payable", "id"),
        Index(
            "ix_invoice_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        # A month's numbers by prefix (LIKE 'INV-202507-%'), for the next draft
        # number, whatever the collation (0012); SQLite's unique index serves.
        Index(
            "ix_invoice_number_pattern",
            "tenant_id",
            "number",
            postgresql_ops={"number": "text_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        *_checks(INVOICE_CHECKS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always its client's tenant (set on flush, tenancy.py).
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    number: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    # The first day of the billed month.
    billing_period: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    usage_cost: Mapped[Decimal] = mapped_column(ScaledDecimal())
    payable: Mapped[Decimal] = mapped_column(ScaledDecimal())
    issue_date: Mapped[date | None] = mapped_column(Date)
    # Empty only on a draft that takes its due date from payment terms at issue.
    due_date: Mapped[date | None] = mapped_column(Date)
    # Stored status; DUE past its due date reads as OVER_DUE (queries.effective_status).
    status: Mapped[str] = mapped_column(String(10), default=Status.DRAFT.value)
    paid_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # A credit or discount (negative) or a surcharge; payable = usage + adjustment.
    adjustment: Mapped[Decimal] = mapped_column(ScaledDecimal(), default=Decimal(0))
    adjustment_reason: Mapped[str] = mapped_column(String(200), default="")
    # Days from issue to due, for drafts issued without a due date.
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    amount_paid: Mapped[Decimal] = mapped_column(ScaledDecimal(), default=Decimal(0))
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    # Bumped by every change; a write that names an older version is a conflict.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Case-folded copies of the invoice's own searchable fields (not its
    # client's: Client.search_text), kept in step by the flush hook below:
    # invoice_search_columns() says how they share the number. Code point order
    # on PostgreSQL too (collation "C"), so a prefix is one range of the index.
    search_number: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"), default=""
    )
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    tenant: Mapped[Tenant] = relationship()
    client: Mapped[Client] = relationship(back_populates="invoices")
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="InvoiceLine.position",
    )

    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="Payment.id"
    )

    @property
    def balance_due(self) -> Decimal:
        """What is still to be paid (nothing on drafts, paid or cancelled ones)."""
        if self.status in (Status.DRAFT, Status.CANCEL, Status.PAID):
            return Decimal(0)
        return self.payable - (self.amount_paid or Decimal(0))

    def compute_search_columns(self) -> tuple[str, str]:
        """The invoice's own text quick search looks in (not its client's):
        search_number and search_text."""
        lines = [line.description for line in self.lines]
        return invoice_search_columns(self.number, self.notes, lines)


class InvoiceLine(db.Model):
    """A line item: what was used, how much, at what unit price."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    # Cloud unit prices go to fractions of a cent (0.000012 per GB-hour).
    unit_price: Mapped[Decimal] = mapped_column(ScaledDecimal(6))
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(db.Model):
    """Money received against an invoice; several make a partial payment."""

    __tablename__ = "payment"
    # What an invoice had received by a day, and what came in in a month, from
    # the index alone (receivables.py, migration 0009).
    __table_args__ = (
        Index("ix_payment_invoice_received", "invoice_id", "received_on", "amount"),
        Index("ix_payment_received", "received_on", "invoice_id", "amount"),
        *_checks(PAYMENT_CHECKS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal())
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class AuditEvent(db.Model):
    """Who changed what on an invoice, and when (before and after values)."""

    __tablename__ = "audit_event"
    # An invoice's trail is looked up by tenant and number (0007).
    __table_args__ = (
        Index("ix_audit_event_tenant_number", "tenant_id", "invoice_number"),
        # Invoices cancelled in the app after a day (receivables.py, 0009).
        Index(
            "ix_audit_event_action_time",
            "tenant_id",
            "action",
            "created_at",
            "invoice_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its invoice's tenant (set on flush, tenancy.py).
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    # Kept by number too, so the trail of a deleted draft survives it.
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    invoice_number: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    # {"field": [before, after], ...} as JSON text, values as strings.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    # A change by a user signed in through the portal: the portal's id for the
    # user and the sign-in token's id, so the portal's own logs can be matched.
    sso_sub: Mapped[str | None] = mapped_column(String(255))
    sso_jti: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


class ExportJob(db.Model):
    """A background export: who asked, for what (scope and filters), how far it is.

    The scope (tenant, allowed clients) and the filters are stored as they were
    when the user queued it; the worker runs the export under exactly those, so
    it never sees more than the user did. The id is the export's address: random
    and unguessable, and a download still checks the owner.
    """

    __tablename__ = "export_job"
    __table_args__ = (
        Index("ix_export_job_tenant_user", "tenant_id", "user_id", "created_at"),
        Index("ix_export_job_status", "status", "heartbeat_at"),
        *_checks(EXPORT_JOB_CHECKS),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    # Ids of the clients the owner could see; None: every client of the tenant.
    client_ids: Mapped[list | None] = mapped_column(JSON)
    # InvoiceFilters.to_args(): parsed again by parse_filters() in the worker.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    # The ticked invoice numbers of a selection, in the filters' sort; None:
    # every invoice the filters match (migration 0012).
    numbers: Mapped[list | None] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED.value)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    # Relative to EXPORT_DIR, so the folder can move; set once the file is whole.
    file_path: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Why it failed, in plain words for the Downloads page.
    error: Mapped[str] = mapped_column(String(500), default="")
    # Times a worker has started it: a killed worker's export is retried once.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written with each batch of rows: a running export without one for a while
    # lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


# The tenant that standalone use, the demo data and databases from before
# tenants belong to (migration 0005 creates it).
DEFAULT_TENANT_SLUG = "default"
# A tenant's slug names it in URLs and tokens: lower-case letters, digits, hyphens.
TENANT_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class Tenant(db.Model):
    """One portal account (an organisation, a reseller) whose invoices these are."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


def default_tenant(session: Session) -> Tenant:
    """The default tenant, created when missing (an emptied database)."""
    with session.no_autoflush:
        tenant = session.scalar(
            select(Tenant).where(Tenant.slug == DEFAULT_TENANT_SLUG)
        )
    if tenant is None:
        tenant = Tenant(slug=DEFAULT_TENANT_SLUG, name="Default")
        session.add(tenant)
    return tenant


class UsedToken(db.Model):
    """A single sign-on token's id, kept until the token expires: each works once."""

    __tablename__ = "used_token"

    # The primary key is what refuses a second use, even by another worker or host.
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


TOKEN_READ, TOKEN_WRITE = "read", "write"


class User(UserMixin, db.Model):
    """A billing user who signs in to the portal, or calls the API with a token."""

    __tablename__ = "app_user"
    __table_args__ = _checks(USER_CHECKS)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Empty for users who sign in through the portal (single sign-on) only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default=Role.STAFF.value)
    # Left empty, filled in on flush from the tenant scope in force (tenancy.py).
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    # The portal's id for the user (the token's `sub`); set by single sign-on.
    sso_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    # E-mails of the clients whose invoices the user may see; None: all of the
    # tenant's clients.
    allowed_clients: Mapped[list | None] = mapped_column(JSON)
    # Keys of the optional list columns (columns.py) the user shows, in their
    # order; None: never chosen (the guide's five only).
    list_columns: Mapped[list | None] = mapped_column(JSON)
    # Only a SHA-256 of the token is kept; the token itself is shown once.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What the token may do: `read`, or `write` (a billing admin's only).
    api_token_scope: Mapped[str] = mapped_column(
        String(5), default=TOKEN_READ, server_default=TOKEN_READ
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    tenant: Mapped[Tenant] = relationship()

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        if self.password_hash is None:
            return False
        return check_password_hash(self.password_hash, password)

    @property
    def signs_in_through_portal(self) -> bool:
        """True for users created by single sign-on, who have no password here."""
        return self.password_hash is None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, flush_context, instances) -> None:
    """Keep Invoice.search_text and Client.search_text in step with their fields.

    Only what changed a searched field is recomputed: a status change or a new
    invoice for an existing client must not reload that client's other invoices,
    and renaming a client touches the client alone.
    """
    touched: set[Invoice | Client] = set()
    deleted = set(session.deleted)
    for obj in session.new:
        if isinstance(obj, Invoice | Client):
            touched.add(obj)
        elif isinstance(obj, InvoiceLine) and obj.invoice is not None:
            touched.add(obj.invoice)
    for obj in session.dirty:
        if isinstance(obj, Invoice) and _changed(obj, "number", "notes"):
            touched.add(obj)
        elif isinstance(obj, InvoiceLine) and _changed(obj, "description"):
            touched.add(obj.invoice)
        elif isinstance(obj, Client) and _changed(obj, "name", "email"):
            touched.add(obj)
    for obj in deleted:
        if isinstance(obj, InvoiceLine) and obj.invoice is not None:
            touched.add(obj.invoice)
    for obj in touched:
        if obj is None or obj in deleted:
            continue
        if isinstance(obj, Invoice):
            number, text = obj.compute_search_columns()
            if obj.search_number != number:
                obj.search_number = number
        else:
            text = obj.compute_search_text()
        if obj.search_text != text:
            obj.search_text = text


def _changed(obj, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


class IdempotencyKey(db.Model):
    """A POST's Idempotency-Key: the request it came with and the answer it got.

    A repeat with the same key and body is given the stored answer again; the
    unique (user, key) lets only one of two racing requests through.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", name="fk_idempotency_key_user_id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and body: the same key with another body is 422.
    request_hash: Mapped[str] = mapped_column(String(64))
    # Empty while the first request is still running.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class WebhookEndpoint(db.Model):
    """Where a tenant's portal hears about its invoices' changes (Standard Webhooks)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The event types sent here (webhooks/events.py, EVENT_TYPES).
    event_types: Mapped[list] = mapped_column(JSON)
    # `whsec_` + base64 of the key: signs every delivery; shown once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    tenant: Mapped[Tenant] = relationship()


class WebhookEvent(db.Model):
    """One change to tell portals about, written in the change's own transaction
    (an outbox): a rolled-back change leaves none, a committed one is kept."""

    __tablename__ = "webhook_event"

    # `msg_…`: the webhook-id every delivery and retry of it carries.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    invoice_number: Mapped[str] = mapped_column(String(64))
    # The body sent, as JSON text: the same bytes on every attempt.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


class WebhookDelivery(db.Model):
    """One event to one endpoint: its attempts, last answer and next retry."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_event.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    # pending (to try at next_attempt_at), succeeded, or failed (gave up).
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class OverdueNotice(db.Model):
    """An invoice whose invoice.overdue event went out: each is sent once."""

    __tablename__ = "overdue_notice"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


class SavedView(db.Model):
    """A named list: filters, sort and columns (the list's query), one user's own
    or (made by a billing admin) shared with the whole tenant."""

    __tablename__ = "saved_view"
    __table_args__ = (
        # One name per audience: "team" for shared views, "user:<id>" for a
        # user's own; name_key is the name casefolded, so "Overdue" and
        # "overdue" clash (saved_views.py words the clash for the user).
        UniqueConstraint(
            "tenant_id", "audience", "name_key", name="uq_saved_view_audience_name"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    # Casefolding may lengthen a name ("ß" -> "ss"); four times is ample.
    name_key: Mapped[str] = mapped_column(String(240))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(40))
    # InvoiceFilters' canonical query parameters, without page and view.
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class SavedViewDefault(db.Model):
    """The view a user's bare /billing/invoices opens (at most one per user).

    A table of its own rather than a column of app_user: app_user and saved_view
    would then reference each other, a cycle the schema's table order (and its
    cleanup) cannot sort. Deleting the view deletes the default with it.
    """

    __tablename__ = "saved_view_default"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    view_id: Mapped[int] = mapped_column(
        ForeignKey("saved_view.id", ondelete="CASCADE"), index=True
    )
