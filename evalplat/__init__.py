"""evalplat: peer review of legal-aid case quality (法律援助案件质量同行评估)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine

from evalplat import config as config_module
from evalplat import onnx_runtime  # noqa: F401 - sets ORT_DISABLE_TELEMETRY before any model loads
from evalplat.extensions import babel, csrf, db, login_manager, migrate

__all__ = ["create_app"]

ROOT = Path(__file__).resolve().parent.parent

# One sub-package per domain; each may provide views.py (a blueprint ``bp``) and cli.py (``register(app)``).
DOMAINS = (
    "accounts", "main", "organisations", "cases", "campaigns", "assignments", "reviews", "results",
    "appeals", "rankings", "audit", "api", "demo", "ops",
    "closing", "selfeval", "followups", "quality", "notifications", "levels",
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then ``EVALPLAT_*`` environment variables, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config_module.defaults(app.instance_path))
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.check_production(app.config)
    if not app.config.get("SECRET_KEY"):
        if app.config["EVALPLAT_ENV"] == "production":  # pragma: no cover - check_production refuses earlier
            raise config_module.ConfigError("EVALPLAT_SECRET_KEY is required")
        app.config["SECRET_KEY"] = _development_secret(Path(app.instance_path))
    if app.config["EVALPLAT_ENV"] == "production":
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["EVALPLAT_MAX_UPLOAD_MB"]) * 1024 * 1024
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from evalplat import params

    params.init_app(app)  # before any route: every <int:…> is bounded
    _init_extensions(app)

    from evalplat import services

    services.init_app(app)  # key ring, storage, job backend and job tracking: platform services, not a blueprint's
    _init_templates(app)
    _register_domains(app)
    _connect_signals()

    from evalplat.errors import register_error_handlers
    from evalplat.security import enforce
    from evalplat.web import install_proxy_fix, register_web_hooks

    app.before_request(enforce)
    register_web_hooks(app)
    install_proxy_fix(app)
    register_error_handlers(app)
    _init_logging(app)
    return app


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _init_logging(app: Flask) -> None:
    """The operational log, configured once here: the ``evalplat`` loggers at ``EVALPLAT_LOG_LEVEL``.

    Outside tests, a process whose root logger has no handler yet (the CLI, an RQ worker, the development
    server) gets one on stderr; under gunicorn or pytest their handlers receive the records.
    """
    level = str(app.config.get("EVALPLAT_LOG_LEVEL") or "INFO").upper()
    logging.getLogger("evalplat").setLevel(level)
    if not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)


def _development_secret(instance: Path) -> str:
    """A random per-installation secret for development, kept in the instance folder (never a fixed value)."""
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _init_extensions(app: Flask) -> None:
    import evalplat.models  # noqa: F401 - the whole schema, for the session and for Alembic
    from evalplat.i18n import select_locale, translation_directories

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=";".join(translation_directories()))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    from evalplat.i18n import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    from evalplat.accounts.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        import sqlalchemy as sa
        from sqlalchemy.orm import joinedload

        from evalplat.notifications.models import Notification

        # one round trip per request for the user, their roles, their reviewer profile and their unread count
        unread = (sa.select(sa.func.count()).where(Notification.user_id == User.id, Notification.read_at.is_(None))
                  .correlate(User).scalar_subquery())
        row = db.session.execute(
            sa.select(User, unread).where(User.id == int(ident))
            .options(joinedload(User.role_rows), joinedload(User.reviewer_profile))).unique().first()
        if row is None:
            return None
        user = row[0]
        if not user.active or user.session_token != token:
            return None
        g.unread_notifications = row[1]
        return user



def _init_templates(app: Flask) -> None:
    loaders = [app.jinja_loader, FileSystemLoader(str(ROOT / "forms" / "templates")),
               FileSystemLoader(str(ROOT / "reports" / "templates"))]
    app.jinja_loader = ChoiceLoader([loader for loader in loaders if loader is not None])

    from evalplat import labels

    app.jinja_env.globals.update(labels=labels)
    app.jinja_env.filters.update(labels.FILTERS)
    app.jinja_env.globals.update(labels.GLOBALS)

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"],
                "nav": _navigation()}


def _navigation() -> list[tuple[str, str]]:
    from evalplat.main.navigation import items_for

    if not current_user.is_authenticated:
        return []
    if "nav" not in g:
        g.nav = items_for(current_user)
    return g.nav


def _register_domains(app: Flask) -> None:
    for domain in DOMAINS:
        for part, hook in (("views", "bp"), ("cli", "register")):
            name = f"evalplat.{domain}.{part}"
            if importlib.util.find_spec(f"evalplat.{domain}") is None or importlib.util.find_spec(name) is None:
                continue
            module = importlib.import_module(name)
            if part == "views":
                app.register_blueprint(getattr(module, hook))
            else:
                getattr(module, hook)(app)
    # Static files of the rubric form (forms/static) are served by the reviews area under /assets/forms/.
    from flask import Blueprint

    assets = Blueprint("form_assets", __name__, static_folder=str(ROOT / "forms" / "static"),
                       static_url_path="/assets/forms")
    app.register_blueprint(assets)


def _connect_signals() -> None:
    """Connect every receiver of the domains' signals (evalplat/signals.py); connecting twice is harmless."""
    from evalplat.appeals.operations import no_open_appeals
    from evalplat.campaigns.models import CampaignState
    from evalplat.campaigns.states import precondition
    from evalplat.notifications import on_events_committed
    from evalplat.results.operations import (
        calibrated_scores_are_current,
        consolidate_on_submit,
        every_sample_has_a_result,
    )
    from evalplat.reviews.operations import on_review_submitted
    from evalplat.signals import events_committed

    on_review_submitted(consolidate_on_submit)  # a submitted initial review may complete its sample
    events_committed.connect(on_events_committed)  # a page committed events: scan for notifications
    precondition(CampaignState.PUBLISHED)(every_sample_has_a_result)
    precondition(CampaignState.PUBLISHED)(calibrated_scores_are_current)
    precondition(CampaignState.FINAL)(no_open_appeals)


def request_address() -> str:
    return request.remote_addr or "unknown"
