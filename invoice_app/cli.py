"""Flask CLI commands: `flask --app wsgi invoices|users|demo ...`."""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from . import tenancy
from .extensions import db
from .models import (
    DEFAULT_TENANT_SLUG,
    TENANT_SLUG,
    TOKEN_READ,
    TOKEN_WRITE,
    Role,
    Tenant,
    User,
)

invoices_cli = AppGroup("invoices", help="Import and maintain invoices.")
users_cli = AppGroup("users", help="Manage billing users and API tokens.")
demo_cli = AppGroup("demo", help="Demo data for a first look.")


def tenant_option(command):
    """--tenant SLUG: the tenant a command works in (created if new)."""
    return click.option(
        "--tenant",
        "tenant_slug",
        default=DEFAULT_TENANT_SLUG,
        show_default=True,
        help="Slug of the tenant (portal account); created if new.",
    )(command)


def _checked_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not TENANT_SLUG.fullmatch(slug):
        raise click.BadParameter(
            "use 1 to 63 lower-case letters, digits and hyphens, starting with a "
            "letter or digit",
            param_hint="--tenant",
        )
    return slug


@contextmanager
def in_tenant(slug: str) -> Iterator[Tenant]:
    """Run the command confined to tenant `slug`, as a request of its users is."""
    scope = tenancy.tenant_scope(_checked_slug(slug), create=True)
    db.session.commit()
    with tenancy.use(scope):
        yield db.session.get(Tenant, scope.tenant_id)


@invoices_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--lines",
    "lines_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of line items (invoice_number,description,quantity,unit_price,amount).",
)
@click.option("--update", is_flag=True, help="Replace invoices whose number exists.")
@tenant_option
def import_command(
    file: Path, lines_file: Path | None, update: bool, tenant_slug: str
) -> None:
    """Import invoices from CSV or JSON into a tenant, all or nothing."""
    from .importing import ImportRejected, import_file

    try:
        with in_tenant(tenant_slug):
            result = import_file(file, lines_file, update=update)
    except ImportRejected as rejected:
        for error in rejected.errors:
            click.echo(f"{file.name}: {error}", err=True)
        raise click.ClickException(
            f"{len(rejected.errors)} problem(s) found; nothing was imported."
        ) from None
    click.echo(f"Imported {result.created} new and {result.updated} updated invoices.")


@invoices_cli.command("mark-overdue")
def mark_overdue_command() -> None:
    """Store OVER_DUE on DUE invoices past their due date (idempotent; for cron)."""
    from .clock import today
    from .lifecycle import mark_overdue

    changed = mark_overdue(today())
    plural = "" if len(changed) == 1 else "s"
    click.echo(f"Marked {len(changed)} invoice{plural} OVER_DUE.")
    for number in changed:
        click.echo(f"  {number}")


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="Role."
)
@tenant_option
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
def create_user(email: str, role: str, tenant_slug: str, password: str) -> None:
    """Create a billing user (admin or staff) of a tenant."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter(
            f"{email!r} is not an e-mail address", param_hint="EMAIL"
        )
    tenant_slug = _checked_slug(tenant_slug)
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"A user {email} exists already.")
    with in_tenant(tenant_slug) as tenant:
        user = User(email=email, role=role, tenant=tenant)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
    where = "" if tenant_slug == DEFAULT_TENANT_SLUG else f" in tenant {tenant_slug}"
    click.echo(f"Created {role} {email}{where}.")


@users_cli.command("token")
@click.argument("email")
@click.option(
    "--scope",
    type=click.Choice([TOKEN_READ, TOKEN_WRITE]),
    default=TOKEN_READ,
    show_default=True,
    help="read: look only; write: also create invoices (billing admins only).",
)
def create_token(email: str, scope: str) -> None:
    """Issue a new API token for a user (replacing the old one); shown once."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no user {email}.")
    if scope == TOKEN_WRITE and not user.is_admin:
        raise click.BadParameter(
            f"{user.email} is billing staff: only a billing admin's token can write.",
            param_hint="--scope",
        )
    token = secrets.token_urlsafe(32)
    user.api_token_hash = User.hash_token(token)
    user.api_token_scope = scope
    db.session.commit()
    click.echo(
        f"New {scope} API token for {user.email} (the previous one no longer works):"
    )
    click.echo(token)


@demo_cli.command("seed")
@click.option("--invoices", "count", default=400, show_default=True, type=int)
@tenant_option
def seed(count: int, tenant_slug: str) -> None:
    """Add demo invoices to a tenant in bulk (existing numbers are skipped)."""
    from .clock import today
    from .demo.load import seed_demo

    def progress(added: int) -> None:
        # Only big seeds take long enough to want a sign of life.
        if count >= 200_000 and added % 100_000 == 0:
            click.echo(f"  {added:,} written …", err=True)

    with in_tenant(tenant_slug) as tenant:
        # Each tenant's own demo history (the default tenant's is as it was).
        default = tenant.slug == DEFAULT_TENANT_SLUG
        history = 2025 if default else zlib.crc32(tenant.slug.encode())
        added = seed_demo(count, today(), seed=history, progress=progress)
    where = "" if tenant_slug == DEFAULT_TENANT_SLUG else f" to tenant {tenant_slug}"
    click.echo(f"Added {added} demo invoices{where}.")


@demo_cli.command("setup")
def setup() -> None:
    """First run: demo data if the database is empty, and the demo users."""
    from .clock import today
    from .demo.data import DEMO_ADMIN, DEMO_STAFF
    from .demo.load import ensure_user, invoice_count, seed_demo

    if invoice_count() == 0:
        click.echo(f"Added {seed_demo(400, today())} demo invoices.")
    ensure_user(*DEMO_ADMIN, Role.ADMIN)
    ensure_user(*DEMO_STAFF, Role.STAFF)
    click.echo(f"Billing admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
    click.echo(f"Billing staff: {DEMO_STAFF[0]} / {DEMO_STAFF[1]}")


def register(app: Flask) -> None:
    app.cli.add_command(invoices_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    from .jobs.cli import jobs_cli

    app.cli.add_command(jobs_cli)
