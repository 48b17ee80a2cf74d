from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from evalplat.files.crypto import KeyRing, generate_key, main
from evalplat.files.encrypted_type import EncryptedText, configure_keyring, current_keyring
from evalplat.files.errors import CryptoError


def test_encrypt_round_trips_and_never_contains_the_plaintext(keyring: KeyRing) -> None:
    plaintext = "当事人：张三，身份证 110101199003071234".encode()
    first = keyring.encrypt(plaintext)
    second = keyring.encrypt(plaintext)
    assert first != second  # fresh data key and nonces each time
    assert plaintext not in first
    assert "张三".encode() not in first
    assert keyring.decrypt(first) == plaintext
    assert keyring.decrypt(second) == plaintext
    assert keyring.key_id_of(first) == "new"


def test_text_round_trip_is_ascii_for_a_text_column(keyring: KeyRing) -> None:
    token = keyring.encrypt_text("李四")
    assert token.isascii()
    assert keyring.decrypt_text(token) == "李四"


def test_ciphertext_from_an_older_key_decrypts_and_rotates_to_the_current_key() -> None:
    old_key, new_key = generate_key(), generate_key()
    before = KeyRing.from_string(f"old:{old_key}")
    blob = before.encrypt(b"case file bytes", aad=b"doc-7")
    after = KeyRing.from_string(f"new:{new_key},old:{old_key}")
    assert after.decrypt(blob, aad=b"doc-7") == b"case file bytes"
    rotated = after.rotate(blob)
    assert after.key_id_of(rotated) == "new"
    # only the wrapped data key changed: the sealed data (the tail) is the same bytes
    assert rotated[-32:] == blob[-32:]
    only_new = KeyRing.from_string(f"new:{new_key}")
    assert only_new.decrypt(rotated, aad=b"doc-7") == b"case file bytes"
    with pytest.raises(CryptoError) as err:
        only_new.decrypt(blob, aad=b"doc-7")
    assert err.value.code == "key_unknown"
    assert err.value.params["kid"] == "old"
    assert after.rotate(rotated) == rotated  # already current: unchanged


def test_rotate_text_token() -> None:
    old_key = generate_key()
    token = KeyRing.from_string(f"old:{old_key}").encrypt_text("王五")
    ring = KeyRing.from_string(f"new:{generate_key()},old:{old_key}")
    rotated = ring.rotate_text(token)
    assert ring.key_id_of(base64.urlsafe_b64decode(rotated)) == "new"
    assert ring.decrypt_text(rotated) == "王五"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "decrypt_failed"),  # tampered data
        (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "decrypt_failed"),  # tampered wrapped key
        (lambda b: b"XXXX" + b[4:], "ciphertext_malformed"),
        (lambda b: b[:30], "ciphertext_malformed"),
    ],
)
def test_damaged_ciphertext_is_refused_with_a_named_error(keyring: KeyRing, mutate, code: str) -> None:
    blob = keyring.encrypt(b"secret")
    with pytest.raises(CryptoError) as err:
        keyring.decrypt(mutate(blob))
    assert err.value.code == code


def test_wrong_associated_data_fails(keyring: KeyRing) -> None:
    blob = keyring.encrypt(b"secret", aad=b"document-1")
    with pytest.raises(CryptoError) as err:
        keyring.decrypt(blob, aad=b"document-2")
    assert err.value.code == "decrypt_failed"


def test_malformed_text_token(keyring: KeyRing) -> None:
    with pytest.raises(CryptoError) as err:
        keyring.decrypt_text("不是密文")
    assert err.value.code == "ciphertext_malformed"


@pytest.mark.parametrize(
    ("spec", "code", "position"),
    [
        ("", "keyring_missing", None),
        (" , ", "keyring_missing", None),
        ("k1", "keyring_invalid", 1),
        ("k1:not*base64", "keyring_invalid", 1),
        ("k1:{good},k2:" + base64.b64encode(b"x" * 16).decode(), "keyring_invalid", 2),
        ("k1:{good},k1:{good}", "keyring_invalid", 2),
        ("bad id:{good}", "keyring_invalid", 1),
    ],
)
def test_bad_key_configuration_names_the_entry_and_never_the_key(
    spec: str, code: str, position: int | None
) -> None:
    good = generate_key()
    with pytest.raises(CryptoError) as err:
        KeyRing.from_string(spec.replace("{good}", good))
    assert err.value.code == code
    if position is not None:
        assert err.value.params["position"] == position
    assert good not in err.value.message("en")
    assert good not in err.value.message("zh")
    if code == "keyring_missing":
        assert "EVALPLAT_DATA_KEYS" in err.value.message("en")


def test_from_env_reads_the_variable_and_accepts_urlsafe_base64() -> None:
    raw = bytes(range(32))
    ring = KeyRing.from_env({"EVALPLAT_DATA_KEYS": "a:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")})
    assert ring.key_ids == ("a",)
    with pytest.raises(CryptoError) as err:
        KeyRing.from_env({})
    assert err.value.code == "keyring_missing"


def test_generated_key_is_32_random_bytes_and_repr_hides_keys(capsys: pytest.CaptureFixture[str]) -> None:
    key = generate_key()
    assert len(base64.b64decode(key)) == 32
    assert key != generate_key()
    assert main(["prod2025"]) == 0
    line = capsys.readouterr().out.strip()
    ring = KeyRing.from_string(line)
    assert ring.key_ids == ("prod2025",)
    assert line.split(":", 1)[1] not in repr(ring)


# --- EncryptedText column type -------------------------------------------------------------------
@pytest.fixture
def parties_table(keyring: KeyRing):
    # The key ring is process-wide: put back the one the session's app installed (other tests in this
    # worker process read encrypted columns through it).
    try:
        previous = current_keyring()
    except CryptoError:
        previous = None
    configure_keyring(keyring)
    metadata = sa.MetaData()
    table = sa.Table(
        "party",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", EncryptedText("party.name"), nullable=True),
    )
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()
    configure_keyring(previous)


def test_encrypted_text_column_stores_ciphertext_and_reads_plaintext(parties_table) -> None:
    engine, table = parties_table
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 1, "name": "张三"}, {"id": 2, "name": None}])
    with engine.connect() as conn:
        raw = conn.execute(sa.text("select name from party where id = 1")).scalar_one()
        assert "张三" not in raw
        assert current_keyring().decrypt_text(raw, aad=b"party.name") == "张三"
        rows = dict(conn.execute(sa.select(table.c.id, table.c.name)).all())
    assert rows == {1: "张三", 2: None}


def test_encrypted_text_without_a_configured_ring_says_so(parties_table) -> None:
    engine, table = parties_table
    configure_keyring(None)
    with pytest.raises(sa.exc.StatementError) as err, engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 3, "name": "赵六"}])
    assert isinstance(err.value.orig, CryptoError)
    assert err.value.orig.code == "keyring_not_configured"


def test_encrypted_text_refuses_non_strings(parties_table) -> None:
    engine, table = parties_table
    with pytest.raises(sa.exc.StatementError) as err, engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 4, "name": 42}])
    assert isinstance(err.value.orig, TypeError)
