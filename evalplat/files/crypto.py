"""AES-GCM envelope encryption for personal information at rest (original files, parties' names).

Each object gets a fresh random 256-bit data key; the data is sealed with it (AES-256-GCM) and the
data key is wrapped (AES-256-GCM) by a key-encryption key from the key ring. A ciphertext names the
key id that wrapped it, so it decrypts with any key still in the ring, and :meth:`KeyRing.rotate`
re-wraps only the 32-byte data key under the current key — rotating a 50 MB scan costs microseconds
of cryptography and leaves the sealed data untouched.

Key ring configuration (environment)::

    EVALPLAT_DATA_KEYS="2025a:<base64 32 bytes>,2024b:<base64 32 bytes>"

The first entry is the current key (used for new ciphertexts and rotation); the others still
decrypt. Generate a key with ``python -m evalplat.files.crypto [key-id]``.

Ciphertext layout (bytes)::

    b"EPE1" | len(kid) (1) | kid (ASCII) | wrap nonce (12) | wrapped data key (48) | data nonce (12) | sealed data

The header (magic and key id) is authenticated as associated data of the wrapped key; the caller's
``aad`` (e.g. the storage key or a column name) is authenticated with the data.

Examples
--------
>>> ring = KeyRing.from_string("k1:" + generate_key())
>>> ring.decrypt(ring.encrypt(b"secret"))
b'secret'
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import CryptoError

__all__ = ["DEFAULT_KEYS_VARIABLE", "KeyRing", "generate_key"]

DEFAULT_KEYS_VARIABLE = "EVALPLAT_DATA_KEYS"
_MAGIC = b"EPE1"
_NONCE = 12
_KEY_BYTES = 32
_WRAPPED = _KEY_BYTES + 16  # data key + GCM tag
_KID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def generate_key() -> str:
    """Return a new random 256-bit key, base64-encoded, for an ``EVALPLAT_DATA_KEYS`` entry."""
    return base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")


def _decode_key(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key is not valid base64") from None


class KeyRing:
    """An ordered set of named AES-256 keys; the first is current.

    Parameters
    ----------
    keys : sequence of (str, bytes)
        ``(key id, 32-byte key)`` pairs, current key first.

    Raises
    ------
    CryptoError
        ``keyring_missing`` for an empty sequence, ``keyring_invalid`` for a bad id or key.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]], *, variable: str = DEFAULT_KEYS_VARIABLE) -> None:
        if not keys:
            raise CryptoError("keyring_missing", variable=variable)
        self._keys: dict[str, AESGCM] = {}
        for position, (kid, key) in enumerate(keys, start=1):
            if not _KID_RE.match(kid):
                raise CryptoError(
                    "keyring_invalid",
                    position=position,
                    reason="the key id must be 1-64 of A-Z a-z 0-9 _ . -",
                )
            if kid in self._keys:
                raise CryptoError("keyring_invalid", position=position, reason=f"the key id '{kid}' repeats")
            if len(key) != _KEY_BYTES:
                raise CryptoError(
                    "keyring_invalid",
                    position=position,
                    reason=f"key '{kid}' is {len(key)} bytes; AES-256 needs exactly {_KEY_BYTES}",
                )
            self._keys[kid] = AESGCM(key)
        self.current_id: str = keys[0][0]

    @classmethod
    def from_string(cls, spec: str, *, variable: str = DEFAULT_KEYS_VARIABLE) -> KeyRing:
        """Parse ``"kid1:base64key,kid2:base64key"`` (first is current).

        Raises
        ------
        CryptoError
            ``keyring_missing`` when ``spec`` is blank, ``keyring_invalid`` naming the bad entry's
            position (never its key material).
        """
        entries = [part.strip() for part in (spec or "").replace("\n", ",").split(",") if part.strip()]
        if not entries:
            raise CryptoError("keyring_missing", variable=variable)
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate(entries, start=1):
            kid, sep, encoded = entry.partition(":")
            if not sep:
                raise CryptoError("keyring_invalid", position=position, reason="expected 'key-id:base64-key'")
            try:
                keys.append((kid.strip(), _decode_key(encoded)))
            except ValueError as exc:
                raise CryptoError("keyring_invalid", position=position, reason=str(exc)) from None
        return cls(keys, variable=variable)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, variable: str = DEFAULT_KEYS_VARIABLE
    ) -> KeyRing:
        """Read the key ring from ``environ[variable]`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        return cls.from_string(env.get(variable, ""), variable=variable)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The key ids, current first."""
        return tuple(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r})"

    # --- bytes -----------------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> bytes:
        """Encrypt ``plaintext`` under a fresh data key wrapped by the current key.

        Parameters
        ----------
        plaintext : bytes
        aad : bytes
            Associated data that must be presented again to decrypt (binds the ciphertext to its
            place, e.g. a storage key); not stored.

        Returns
        -------
        bytes
            The ciphertext (see the module docstring for its layout).
        """
        data_key = AESGCM.generate_key(bit_length=256)
        data_nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(data_key).encrypt(data_nonce, plaintext, aad)
        return self._wrap(self.current_id, data_key) + data_nonce + sealed

    def decrypt(self, blob: bytes, *, aad: bytes = b"") -> bytes:
        """Decrypt a ciphertext made by :meth:`encrypt` with any key in the ring.

        Raises
        ------
        CryptoError
            ``ciphertext_malformed``, ``key_unknown`` or ``decrypt_failed`` (wrong key, wrong ``aad``
            or tampered data).
        """
        kid, data_key, rest = self._unwrap(blob)
        data_nonce, sealed = rest[:_NONCE], rest[_NONCE:]
        try:
            return AESGCM(data_key).decrypt(data_nonce, sealed, aad)
        except InvalidTag:
            raise CryptoError("decrypt_failed", kid=kid) from None

    def rotate(self, blob: bytes) -> bytes:
        """Return ``blob`` with its data key re-wrapped under the current key (data untouched)."""
        kid, data_key, rest = self._unwrap(blob)
        if kid == self.current_id:
            return blob
        return self._wrap(self.current_id, data_key) + rest

    def key_id_of(self, blob: bytes) -> str:
        """Return the id of the key that wrapped ``blob`` (without decrypting anything)."""
        return self._parse_header(blob)[0]

    # --- text (for database columns) -------------------------------------------------------------
    def encrypt_text(self, text: str, *, aad: bytes = b"") -> str:
        """Encrypt a string; returns URL-safe base64 ASCII suitable for a text column."""
        return base64.urlsafe_b64encode(self.encrypt(text.encode("utf-8"), aad=aad)).decode("ascii")

    def decrypt_text(self, token: str, *, aad: bytes = b"") -> str:
        """Decrypt a token made by :meth:`encrypt_text`."""
        return self.decrypt(self._token_bytes(token), aad=aad).decode("utf-8")

    def rotate_text(self, token: str) -> str:
        """Re-wrap a text token under the current key."""
        return base64.urlsafe_b64encode(self.rotate(self._token_bytes(token))).decode("ascii")

    # --- internals --------------------------------------------------------------------------------
    @staticmethod
    def _token_bytes(token: str) -> bytes:
        try:
            return base64.urlsafe_b64decode(token.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise CryptoError("ciphertext_malformed", reason="not base64 text") from None

    @staticmethod
    def _header(kid: str) -> bytes:
        encoded = kid.encode("ascii")
        return _MAGIC + bytes([len(encoded)]) + encoded

    def _wrap(self, kid: str, data_key: bytes) -> bytes:
        header = self._header(kid)
        nonce = secrets.token_bytes(_NONCE)
        return header + nonce + self._keys[kid].encrypt(nonce, data_key, header)

    @staticmethod
    def _parse_header(blob: bytes) -> tuple[str, int]:
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise CryptoError("ciphertext_malformed", reason=f"expected bytes, got {type(blob).__name__}")
        blob = bytes(blob)
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 1:
            raise CryptoError("ciphertext_malformed", reason="not an evalplat ciphertext")
        kid_len = blob[len(_MAGIC)]
        end = len(_MAGIC) + 1 + kid_len
        if len(blob) < end + _NONCE + _WRAPPED + _NONCE + 16:
            raise CryptoError("ciphertext_malformed", reason="truncated")
        try:
            kid = blob[len(_MAGIC) + 1 : end].decode("ascii")
        except UnicodeDecodeError:
            raise CryptoError("ciphertext_malformed", reason="bad key id") from None
        return kid, end

    def _unwrap(self, blob: bytes) -> tuple[str, bytes, bytes]:
        kid, end = self._parse_header(blob)
        blob = bytes(blob)
        key = self._keys.get(kid)
        if key is None:
            raise CryptoError("key_unknown", kid=kid)
        nonce = blob[end : end + _NONCE]
        wrapped = blob[end + _NONCE : end + _NONCE + _WRAPPED]
        try:
            data_key = key.decrypt(nonce, wrapped, blob[:end])
        except InvalidTag:
            raise CryptoError("decrypt_failed", kid=kid) from None
        return kid, data_key, blob[end + _NONCE + _WRAPPED :]


def main(argv: Sequence[str] | None = None) -> int:
    """Print a new key-ring entry: ``python -m evalplat.files.crypto [key-id]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    kid = args[0] if args else "k" + secrets.token_hex(4)
    if not _KID_RE.match(kid):
        print("key id must be 1-64 of A-Z a-z 0-9 _ . -", file=sys.stderr)
        return 2
    print(f"{kid}:{generate_key()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
