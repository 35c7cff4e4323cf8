"""Invoice Manager: the billing screen of a cloud management portal."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, redirect, url_for

from . import cli
from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .paths import MIGRATIONS_DIR, STATIC_DIR, TEMPLATES_DIR


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI commands."""
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        instance_relative_config=True,
    )
    # A test's config goes through the same checks as the environment.
    app.config.update(load_config(Path(app.instance_path), config))

    from . import database, jobs, tenancy
    from .web import (
        embedding,
        errors,
        formatting,
        health,
        request_guard,
        request_log,
        security,
    )

    # Order matters: before_request hooks run in registration order, and a hook
    # that aborts (CSRF) must not keep the request log or the rate limit from
    # seeing the request.
    request_log.register(app)
    limiter.init_app(app)
    # Before CSRF and every other hook that reads request.args or request.form.
    request_guard.register(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .billing import bp as billing_bp

    database.configure(app)
    security.register(app)
    embedding.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(api_bp)
    # After the sign-in hooks (an idle SSO session ends in one of them), before
    # any view: each request is confined to its user's tenant.
    tenancy.register(app)
    errors.register(app)
    formatting.register(app)
    cli.register(app)
    jobs.init_app(app)
    # The portal's home for this app is the invoice list.
    app.add_url_rule(
        "/", "index", lambda: redirect(url_for("billing.invoices"), code=302)
    )
    return app
