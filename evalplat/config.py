"""Configuration: defaults, then ``EVALPLAT_*`` environment variables, then a mapping given to the factory.

Each environment variable is parsed and checked here, so that a bad value stops the start-up with one
line that names the variable and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message names the variable."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def parse_flag(name: str, raw: str | None, default: bool) -> bool:
    """A switch read from the environment: ``default`` when unset or blank, else a boolean
    (:class:`ConfigError` naming ``name`` when it is neither)."""
    if raw is None or not raw.strip():
        return default
    return _bool(name, raw)


def _flag_on(name: str, raw: str) -> bool:
    return parse_flag(name, raw, True)


def _flag_off(name: str, raw: str) -> bool:
    return parse_flag(name, raw, False)


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def _database_url(name: str, raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{name}={raw!r} is not an SQLAlchemy database URL "
                          "(e.g. postgresql+psycopg://user@host/db or sqlite:///path)") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(f"{name}: unsupported database {url.get_backend_name()!r}; use sqlite or postgresql")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def trusted_proxies(name: str, raw: str) -> int | tuple[str, ...]:
    """A number of proxy hops in front of the app, or a comma-separated list of proxy addresses/networks."""
    import ipaddress

    raw = raw.strip()
    if not raw or raw.isdigit():
        return int(raw or 0)
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in networks:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {part!r} is neither a number of proxy hops nor an IP address or network "
                              "(e.g. 1, or 10.0.0.5,10.0.1.0/24)") from None
    return networks


def _str(name: str, raw: str) -> str:
    return raw


def _timezone(name: str, raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a time zone name such as Asia/Shanghai") from None
    return raw


def _log_level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"{name}={raw!r} must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise ConfigError(f"{name}={raw!r} must be one of: {', '.join(choices)}")
        return raw
    return parse


# environment variable suffix → (config key, parser)
ENV_VARS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "ENV": ("EVALPLAT_ENV", _choice("development", "production", "testing")),
    "SECRET_KEY": ("SECRET_KEY", _str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", _database_url),
    "STORAGE_URL": ("EVALPLAT_STORAGE_URL", _str),
    "DATA_KEYS": ("EVALPLAT_DATA_KEYS", _str),
    "JOBS_URL": ("EVALPLAT_JOBS_URL", _str),
    "JOB_WORKERS": ("EVALPLAT_JOB_WORKERS", _int),
    "JOBS_QUEUE": ("EVALPLAT_JOBS_QUEUE", _str),
    "MAX_UPLOAD_MB": ("EVALPLAT_MAX_UPLOAD_MB", _int),
    "DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", _choice("zh_Hans", "en")),
    "SECURE_COOKIES": ("SESSION_COOKIE_SECURE", lambda n, r: _bool(n, r)),
    "LOGIN_MAX_FAILURES": ("EVALPLAT_LOGIN_MAX_FAILURES", _int),
    "LOGIN_WINDOW_MINUTES": ("EVALPLAT_LOGIN_WINDOW_MINUTES", _int),
    "ADDRESS_MAX_FAILURES": ("EVALPLAT_ADDRESS_MAX_FAILURES", _int),
    "LOGIN_DELAY_SECONDS": ("EVALPLAT_LOGIN_DELAY_SECONDS", _int),
    "LOGIN_MAX_DELAY_SECONDS": ("EVALPLAT_LOGIN_MAX_DELAY_SECONDS", _int),
    "TRUSTED_PROXIES": ("EVALPLAT_TRUSTED_PROXIES", trusted_proxies),
    "ORGANISER_TOTP": ("EVALPLAT_ORGANISER_TOTP", lambda n, r: _bool(n, r)),
    "RELIABILITY_LIVE_MAX": ("EVALPLAT_RELIABILITY_LIVE_MAX", _int),
    "REDACTION_WORKERS": ("EVALPLAT_REDACTION_WORKERS", _int),
    "API_TOKEN_DAYS": ("EVALPLAT_API_TOKEN_DAYS", _int),
    "API_TOKEN_MAX_DAYS": ("EVALPLAT_API_TOKEN_MAX_DAYS", _int),
    # limits of evalplat.tabular (spreadsheet uploads); unset: its defaults
    "TABULAR_MAX_UNCOMPRESSED_MB": ("EVALPLAT_TABULAR_MAX_UNCOMPRESSED_MB", _int),
    "TABULAR_MAX_CELL": ("EVALPLAT_TABULAR_MAX_CELL", _int),
    "TABULAR_MAX_ROWS": ("EVALPLAT_TABULAR_MAX_ROWS", _int),
    "TABULAR_MAX_COLUMNS": ("EVALPLAT_TABULAR_MAX_COLUMNS", _int),
    "TABULAR_MAX_BLANK_ROWS": ("EVALPLAT_TABULAR_MAX_BLANK_ROWS", _int),
    "TIMEZONE": ("BABEL_DEFAULT_TIMEZONE", _timezone),
    "SMTP_URL": ("EVALPLAT_SMTP_URL", _str),
    "LOG_LEVEL": ("EVALPLAT_LOG_LEVEL", _log_level),
    "BASE_URL": ("EVALPLAT_BASE_URL", _str),
    "REDACTION_CHUNK": ("EVALPLAT_REDACTION_CHUNK", _int),
    # OCR switches: read where OCR runs (evalplat.extract.ocr.OcrConfig.from_env, also in worker processes);
    # checked here too, so that a bad value stops the start-up
    "OCR_ANGLE_CLASSIFIER": ("EVALPLAT_OCR_ANGLE_CLASSIFIER", _flag_off),
    "OCR_DROP_RED": ("EVALPLAT_OCR_DROP_RED", _flag_on),
    "OCR_CLEAN": ("EVALPLAT_OCR_CLEAN", _flag_on),
    "OCR_KNOWN_NAMES": ("EVALPLAT_OCR_KNOWN_NAMES", _flag_on),
}


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        "EVALPLAT_ENV": "development",
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(instance_path) / "evalplat.db"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "EVALPLAT_STORAGE_URL": "file://" + str(Path(instance_path) / "files"),
        "EVALPLAT_DATA_KEYS": "",
        "EVALPLAT_JOBS_URL": "",
        "EVALPLAT_JOB_WORKERS": 2,
        "EVALPLAT_MAX_UPLOAD_MB": 200,
        # Campaigns with at most this many initial reviews get their reliability panel computed on the page
        # (about a second); larger ones show the stored snapshot, recomputed in the background.
        "EVALPLAT_RELIABILITY_LIVE_MAX": 3000,
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans": "中文", "en": "English"},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "EVALPLAT_LOGIN_MAX_FAILURES": 5,
        "EVALPLAT_LOGIN_WINDOW_MINUTES": 15,
        "EVALPLAT_ADDRESS_MAX_FAILURES": 50,
        "EVALPLAT_LOGIN_DELAY_SECONDS": 15,
        "EVALPLAT_LOGIN_MAX_DELAY_SECONDS": 900,
        # Reverse proxies whose X-Forwarded-For / -Proto are believed: a number of hops, or their addresses.
        "EVALPLAT_TRUSTED_PROXIES": 0,
        "EVALPLAT_ORGANISER_TOTP": False,
        "EVALPLAT_API_TOKEN_DAYS": 90,
        "EVALPLAT_API_TOKEN_MAX_DAYS": 365,
        "EVALPLAT_SMTP_URL": "",  # unset: e-mail goes to the log (development)
        "EVALPLAT_LOG_LEVEL": "INFO",  # of the "evalplat" loggers (operational log: jobs, solves, imports …)
        "EVALPLAT_BASE_URL": "",  # the platform's address, for links in e-mail
    }


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for suffix, (key, parse) in ENV_VARS.items():
        name = "EVALPLAT_" + suffix
        if name in environ:
            out[key] = parse(name, environ[name])
    if out.get("EVALPLAT_MAX_UPLOAD_MB", 1) <= 0:
        raise ConfigError("EVALPLAT_MAX_UPLOAD_MB must be positive")
    for key in ("EVALPLAT_API_TOKEN_DAYS", "EVALPLAT_API_TOKEN_MAX_DAYS"):
        if out.get(key, 1) <= 0:
            raise ConfigError(f"{key} must be a positive number of days")
    if out.get("EVALPLAT_API_TOKEN_DAYS", 0) > out.get("EVALPLAT_API_TOKEN_MAX_DAYS", 365):
        raise ConfigError("EVALPLAT_API_TOKEN_DAYS must not exceed EVALPLAT_API_TOKEN_MAX_DAYS")
    return out


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse to run production without a real secret key or on the embedded SQLite database."""
    if config.get("EVALPLAT_ENV") != "production":
        return
    if not config.get("SECRET_KEY") or len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError("EVALPLAT_SECRET_KEY must be set to a random value of at least 32 characters "
                          "in production (python -c 'import secrets; print(secrets.token_hex(32))')")
    if not str(config.get("EVALPLAT_DATA_KEYS") or "").strip():
        raise ConfigError("EVALPLAT_DATA_KEYS must be set in production: case files and parties' names are "
                          "encrypted with it (generate a key with `python -m evalplat.files.crypto`)")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        raise ConfigError("EVALPLAT_DATABASE_URL must point at PostgreSQL in production; "
                          "SQLite is the embedded default for development only")
