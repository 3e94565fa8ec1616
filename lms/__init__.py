"""Helix LMS: a plugin-style course engine for continuing medical education.

``create_app`` is a list of named steps. None of them queries the database, runs migrations or prompts:
set-up work belongs to the CLI (``flask db upgrade``, ``flask courses sync``, ``flask users demo``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from lms.config import (
    Config,
    check_production,
    config_from_env,
    default_base_url,
    engine_options_for,
    ensure_secret_key,
    env_overrides,
)


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` is a config class or a mapping of overrides."""
    app = Flask(__name__, instance_relative_config=False)
    load_config(app, config)
    from lms.startup import forbid_queries

    with forbid_queries(app.config.get("FORBID_QUERIES_AT_STARTUP", False)):
        init_extensions(app)
        load_plugins(app)
        register_blueprints(app)
        connect_signals(app)
        register_error_handlers(app)
        register_request_hooks(app)
        register_template_helpers(app)
        register_static_files(app)
        register_cli(app)
    return app


def load_config(app: Flask, config: type[Config] | Mapping[str, Any] | None) -> None:
    """Class defaults, then ``LMS_*`` environment variables, then explicit overrides."""
    if isinstance(config, type):
        app.config.from_object(config)
        app.config.update(env_overrides())
    else:
        app.config.from_object(config_from_env())
        app.config.update(env_overrides())
        if config:
            base = config.get("CONFIG_CLASS")
            if base is not None:
                app.config.from_object(base)
                app.config.update(env_overrides())
            app.config.update({k: v for k, v in config.items() if k != "CONFIG_CLASS"})
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'lms.sqlite3'}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options_for(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    )
    from lms.dbconn import lazy_transactions_options

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = lazy_transactions_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        bool(app.config.get("DATABASE_LAZY_TRANSACTIONS", True)),
    )
    ensure_secret_key(app.config, instance)  # type: ignore[arg-type]
    check_production(app.config)  # type: ignore[arg-type]
    default_base_url(app.config)  # type: ignore[arg-type]
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(app.config["REMEMBER_DAYS"]))
    from lms.proxy import TrustedProxyMiddleware, parse_trusted_proxies

    # Only the proxies named in LMS_TRUSTED_PROXIES may tell us the client's address (rate limits use it);
    # the host is never taken from headers: absolute links are built from LMS_BASE_URL.
    networks = parse_trusted_proxies(app.config.get("TRUSTED_PROXIES"))
    app.wsgi_app = TrustedProxyMiddleware(app.wsgi_app, networks)  # type: ignore[method-assign]


def init_extensions(app: Flask) -> None:
    import lms.models  # noqa: F401  (every table registered on the metadata)
    from lms.auth.services import load_user_from_session
    from lms.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from lms.catalog.content import init_app as init_content

    init_content(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_from_session)
    from lms.jobs import init_jobs

    init_jobs(app)
    if app.config.get("SQLALCHEMY_DATABASE_URI", "").startswith("sqlite"):
        from lms.startup import enable_sqlite_pragmas

        enable_sqlite_pragmas(app)
    from lms.dbconn import init_lazy_transactions

    init_lazy_transactions(app)  # PostgreSQL: reads without BEGIN/ROLLBACK, a ping only after idling


def load_plugins(app: Flask) -> None:
    """Build the plugin registries (question types, course sources) once; they are read-only after."""
    from lms.plugins import build_registries

    app.extensions["lms"] = build_registries()


def register_blueprints(app: Flask) -> None:
    import lms.admin.settings_routes
    import lms.authoring.structure_routes  # noqa: F401  (modules, quizzes and questions on /author)
    from lms.admin.routes import bp as admin_bp
    from lms.auth.routes import bp as auth_bp
    from lms.authoring.routes import bp as authoring_bp
    from lms.catalog.routes import bp as catalog_bp
    from lms.learning.routes import bp as learning_bp
    from lms.main.routes import bp as main_bp
    from lms.quizzes.routes import bp as quizzes_bp
    from lms.reports.routes import bp as reports_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(authoring_bp, url_prefix="/author")

    from lms.certificates.routes import init_app as init_certificates

    init_certificates(app)


def connect_signals(app: Flask) -> None:
    """Higher areas subscribe to the events of lower ones (see lms/signals.py)."""
    from lms.quizzes.services import on_course_left
    from lms.signals import course_left

    course_left.connect(on_course_left)  # idempotent: blinker keeps one connection per receiver


def register_error_handlers(app: Flask) -> None:
    from lms.errors import init_error_handlers

    init_error_handlers(app)


def register_request_hooks(app: Flask) -> None:
    from lms.inputguard import init_input_guard
    from lms.security import init_security_headers

    init_input_guard(app)
    init_security_headers(app)


def register_template_helpers(app: Flask) -> None:
    from lms.templating import init_templating

    init_templating(app)


def register_static_files(app: Flask) -> None:
    """Content-hashed static URLs, cached for a year (lms/staticfiles.py)."""
    from lms.staticfiles import init_static_files
    from lms.urlcache import init_url_cache

    init_static_files(app)
    init_url_cache(app)  # after the hashes: static URLs carry them


def register_cli(app: Flask) -> None:
    from lms.auth.cli import users_cli
    from lms.catalog.cli import staff_cli
    from lms.coursepacks.cli import courses_cli
    from lms.devcli import dev_cli, reset_command
    from lms.jobs_cli import jobs_cli
    from lms.quizzes.cli import quizzes_cli

    app.cli.add_command(users_cli)
    courses_cli.add_command(staff_cli)  # `flask courses staff ...`: ownership belongs to the catalog
    from lms.authoring.cli import export_command, import_command

    courses_cli.add_command(export_command)  # authoring sits above the package format: it adds its commands
    courses_cli.add_command(import_command)
    app.cli.add_command(courses_cli)
    app.cli.add_command(quizzes_cli)
    app.cli.add_command(jobs_cli)
    from lms.certificates.cli import certificates_cli

    app.cli.add_command(certificates_cli)
    from lms.reports.cli import reports_cli

    app.cli.add_command(reports_cli)
    app.cli.add_command(reset_command)
    app.cli.add_command(dev_cli)
