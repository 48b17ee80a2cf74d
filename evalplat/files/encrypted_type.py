"""``EncryptedText``: a SQLAlchemy column type that stores strings encrypted with the app's key ring.

The application calls :func:`configure_keyring` once at start-up (``create_app``) with
``KeyRing.from_env()``; values are encrypted on the way into the database and decrypted on the way
out. Each write produces a different ciphertext, so an encrypted column cannot be searched,
compared or indexed — keep a separate keyed hash column if lookups by value are ever needed.

Examples
--------
>>> from sqlalchemy.orm import Mapped, mapped_column
>>> class CaseParty(Base):                                     # doctest: +SKIP
...     name: Mapped[str] = mapped_column(EncryptedText())
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text, TypeDecorator

from .crypto import KeyRing
from .errors import CryptoError

__all__ = ["EncryptedText", "configure_keyring", "current_keyring"]

_keyring: KeyRing | None = None


def configure_keyring(keyring: KeyRing | None) -> None:
    """Set (or with ``None`` clear) the key ring every :class:`EncryptedText` column uses."""
    global _keyring
    _keyring = keyring


def current_keyring() -> KeyRing:
    """Return the configured key ring; :class:`CryptoError` ``keyring_not_configured`` if none."""
    if _keyring is None:
        raise CryptoError("keyring_not_configured")
    return _keyring


class EncryptedText(TypeDecorator[str]):
    """A text column whose values are AES-GCM envelope-encrypted at rest.

    Parameters
    ----------
    context : str, optional
        Associated data bound into every ciphertext of this column (e.g. ``"case_party.name"``), so a
        value copied into another column of a different context does not decrypt there.
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"EncryptedText stores str values, got {type(value).__name__}")
        return current_keyring().encrypt_text(value, aad=self.context.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current_keyring().decrypt_text(value, aad=self.context.encode())

    def copy(self, **kw: Any) -> EncryptedText:
        return EncryptedText(self.context)
