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


# zxcvbn's score from 0 (guessable in a few tries) to 4; 3 means about 10^8 guesses and more.
MIN_SCORE = 3
# zxcvbn gets slow on long inputs; the first characters decide whether a password is weak.
_CHECKED_CHARACTERS = 100


def password_problem(password: str, username: str = "", *, known: tuple[str, ...] = ()) -> str | None:
    """A code naming what is wrong with a new password, or None.

    Strength is estimated by zxcvbn (Dropbox's estimator: dictionaries of common passwords, names and
    words, keyboard patterns, dates, sequences and repeats), with the username and ``known`` values (the
    person's name, the platform's name) as words a guesser would try first.
    """
    if len(password) < MIN_LENGTH:
        return "too_short"
    if username and username.lower() in password.lower():
        return "contains_username"
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:_CHECKED_CHARACTERS], user_inputs=[username, *known, "evalplat"])
    sequence = result.get("sequence") or []
    if len(sequence) == 1 and sequence[0].get("dictionary_name") == "passwords":
        return "common"
    if int(result["score"]) < MIN_SCORE:
        return "too_weak"
    return None
