"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Hashing a throw-away password lets an unknown username cost as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("evalplat-timing-equaliser")

MIN_LENGTH = 10


def configure(fast: bool) -> None:
    """Cheaper parameters for the test-suite only; production keeps argon2-cffi's recommended defaults."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
    _DUMMY_HASH = _hasher.hash("evalplat-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, username: str = "") -> str | None:
    """A code naming what is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if username and username.lower() in password.lower():
        return "contains_username"
    if len(set(password)) < 4:
        return "too_simple"
    return None
