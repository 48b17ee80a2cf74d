"""Platform services: the data key ring, the file storage and the job backend.

:func:`init_app` is called by the factory (:func:`evalplat.create_app`), so every app it builds — web,
CLI and RQ worker — is configured the same way, whichever blueprints are registered; calling it again
(a test changing the config) is harmless.

- Key ring: ``EVALPLAT_DATA_KEYS`` (``"kid:base64,kid:base64"``, current key first). Outside
  production a missing key ring is replaced by a random per-installation key kept in the instance
  folder (mode 0600), so development needs no set-up; production refuses to start without one.
- Storage: ``EVALPLAT_STORAGE_URL`` (``file:///…`` by default, ``s3://bucket/prefix``), wrapped in
  :class:`~evalplat.files.EncryptedStorage` so original files are encrypted at rest.
- Jobs: ``EVALPLAT_JOBS_URL`` (empty: in-process thread pool; ``redis://…``: RQ).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from evalplat import jobs
from evalplat.config import ConfigError
from evalplat.files import CryptoError, EncryptedStorage, KeyRing, Storage, generate_key, storage_from_config
from evalplat.files.encrypted_type import configure_keyring
from evalplat.jobs import tracking

__all__ = ["get_keyring", "get_storage", "init_app", "keyring_spec"]

_EXTENSION = "evalplat.services"
_DEV_KEY_FILE = "data_keys"


def _development_keys(instance: Path) -> str:
    """A random per-installation key ring for development, kept in the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / _DEV_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"dev1:{generate_key()}\n")
    return path.read_text().strip()


_MISSING_IN_PRODUCTION = ("EVALPLAT_DATA_KEYS must be set in production: case files and parties' names "
                          "are encrypted with it (generate one with `python -m evalplat.files.crypto`)")


def keyring_spec(app: Flask) -> str | None:
    """The key ring's ``"kid:base64,…"`` spec (config, else the development key file); None in production without one.

    For processes that rebuild the key ring themselves (the redaction workers of
    :mod:`evalplat.cases.batch_redaction`); everything else uses :func:`get_keyring`.
    """
    spec = str(app.config.get("EVALPLAT_DATA_KEYS") or "").strip()
    if not spec:
        if app.config.get("EVALPLAT_ENV") == "production":
            return None
        spec = _development_keys(Path(app.instance_path))
    return spec


def _keyring(app: Flask) -> KeyRing | None:
    spec = keyring_spec(app)
    if spec is None:
        return None
    try:
        return KeyRing.from_string(spec)
    except CryptoError as exc:
        raise ConfigError(f"EVALPLAT_DATA_KEYS: {exc.message('en')}") from None


def init_app(app: Flask) -> None:
    """Configure the key ring, the storage and the job backend for ``app``.

    Parameters
    ----------
    app : Flask
        The application; its config is read, ``app.extensions["evalplat.services"]`` is set.

    Raises
    ------
    ConfigError
        A malformed ``EVALPLAT_DATA_KEYS`` or storage URL, or no key ring in production.
    """
    tracking.init_app(app)
    keyring = _keyring(app)
    if keyring is None:
        # Production without keys: the app starts (so that other areas and health checks work), but
        # anything that reads or writes personal information refuses with this message.
        app.logger.error(_MISSING_IN_PRODUCTION)
        app.extensions[_EXTENSION] = {"missing": _MISSING_IN_PRODUCTION}
        return
    configure_keyring(keyring)
    try:
        inner = storage_from_config(app.config, default_dir=Path(app.instance_path) / "files")
    except Exception as exc:
        message = exc.message("en") if hasattr(exc, "message") else str(exc)
        raise ConfigError(f"EVALPLAT_STORAGE_URL: {message}") from None
    backend = jobs.configure(app.config, context_factory=app.app_context)
    app.extensions[_EXTENSION] = {"keyring": keyring, "storage": EncryptedStorage(inner, keyring),
                                  "jobs": backend}


def _state(app: Flask | None = None) -> dict[str, Any]:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if _EXTENSION not in app.extensions:
        init_app(app)
    state = app.extensions[_EXTENSION]
    if "missing" in state:
        raise ConfigError(state["missing"])
    return state  # type: ignore[no-any-return]


def get_storage(app: Flask | None = None) -> Storage:
    """The encrypted storage of original case files."""
    return _state(app)["storage"]  # type: ignore[no-any-return]


def get_keyring(app: Flask | None = None) -> KeyRing:
    """The data key ring."""
    return _state(app)["keyring"]  # type: ignore[no-any-return]
