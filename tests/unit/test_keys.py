"""The signing key store: first use, exclusive create, races, rotation, retirement, production key file."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lms import keys as keys_module
from lms.config import ConfigError
from lms.keys import (
    ACTIVE,
    CREDENTIAL_SIGNING,
    RETIRED,
    KeyStore,
    KeyStoreError,
    public_key_from_jwk,
    thumbprint,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LATER = datetime(2027, 6, 1, 9, 30, tzinfo=UTC)
PUBLIC_MEMBERS = {"kty", "n", "e", "kid", "alg", "use"}


def _pem(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, pem


def _store(directory: Path, **kwargs) -> KeyStore:
    return KeyStore(directory, key_size=2048, **kwargs)


def _index(directory: Path) -> list[dict]:
    return json.loads((directory / "index.json").read_text())["keys"]


def test_kid_is_the_rfc7638_thumbprint():
    # The example key of RFC 7638, section 3.1, and the thumbprint the RFC gives for it.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
            "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
            "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
            "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
    }
    assert thumbprint(public_key_from_jwk(jwk)) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_first_use_creates_one_key_with_mode_0600_and_an_index(tmp_path):
    folder = tmp_path / "keys"
    store = _store(folder)
    assert store.jwks() == {"keys": []}  # publishing never creates a key
    assert not folder.exists()

    key = store.active_key(now=NOW)

    pems = sorted(folder.glob("*.pem"))
    assert len(pems) == 1
    assert stat.S_IMODE(pems[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "index.json").stat().st_mode) == 0o600
    assert key.purpose == CREDENTIAL_SIGNING
    assert key.kid == thumbprint(key.private_key().public_key())
    assert _index(folder) == [
        {
            "kid": key.kid,
            "purpose": CREDENTIAL_SIGNING,
            "created": "2026-12-01T10:00:00Z",
            "status": ACTIVE,
            "file": pems[0].name,
        }
    ]
    assert store.active_key(now=LATER).kid == key.kid  # second use reads, does not create
    assert len(list(folder.glob("*.pem"))) == 1
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))


def test_two_stores_on_one_folder_see_the_same_key(tmp_path):
    first = _store(tmp_path).active_key(now=NOW)
    second = _store(tmp_path).active_key(now=LATER)
    assert second.kid == first.kid
    assert second.private_pem == first.private_pem
    assert second.created == "2026-12-01T10:00:00Z"


def test_race_loser_adopts_the_winners_key(tmp_path, monkeypatch):
    """Process B finishes creating the first key while process A is still generating its own."""
    real_generate = keys_module._generate_private_key
    winner: dict = {}

    def generate_while_other_process_wins(size: int):
        mine = real_generate(size)
        if "started" not in winner:
            winner["started"] = True
            winner["key"] = _store(tmp_path).active_key(now=NOW)  # the other process, start to end
        return mine

    monkeypatch.setattr(keys_module, "_generate_private_key", generate_while_other_process_wins)
    loser = _store(tmp_path).active_key(now=LATER)

    assert loser.kid == winner["key"].kid
    assert len(list(tmp_path.glob("*.pem"))) == 1
    assert [row["kid"] for row in _index(tmp_path)] == [loser.kid]
    assert [jwk["kid"] for jwk in _store(tmp_path).jwks()["keys"]] == [loser.kid]


def test_pre_existing_key_file_is_adopted_not_overwritten(tmp_path):
    """Another process created the first key file and stopped before recording it in the index."""
    other, pem = _pem()
    (tmp_path / f"{CREDENTIAL_SIGNING}-0001.pem").write_bytes(pem)
    os.chmod(tmp_path / f"{CREDENTIAL_SIGNING}-0001.pem", 0o600)

    key = _store(tmp_path).active_key(now=NOW)

    assert key.kid == thumbprint(other.public_key())
    assert (tmp_path / f"{CREDENTIAL_SIGNING}-0001.pem").read_bytes() == pem
    assert len(list(tmp_path.glob("*.pem"))) == 1


def test_exclusive_create_refuses_an_existing_file(tmp_path):
    target = tmp_path / "credential-signing-0001.pem"
    target.write_bytes(b"first")
    with pytest.raises(FileExistsError):
        keys_module._exclusive_write(target, b"second")
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # temporary file cleaned up


def test_rotate_adds_a_new_active_key_and_keeps_the_old_one_published(tmp_path):
    store = _store(tmp_path)
    old = store.active_key(now=NOW)

    new = store.rotate(CREDENTIAL_SIGNING, now=LATER)

    assert new.kid != old.kid
    assert store.active_key().kid == new.kid
    assert _store(tmp_path).active_key().kid == new.kid  # another process agrees
    assert [jwk["kid"] for jwk in store.jwks()["keys"]] == [old.kid, new.kid]
    rows = {row.kid: row for row in store.all_keys()}
    assert rows[new.kid].created == "2027-06-01T09:30:00Z"
    assert rows[old.kid].status == rows[new.kid].status == ACTIVE
    assert thumbprint(store.public_key(old.kid)) == old.kid


def test_retire_withdraws_a_key_from_the_jwks(tmp_path):
    store = _store(tmp_path)
    old = store.active_key(now=NOW)
    new = store.rotate(CREDENTIAL_SIGNING, now=LATER)

    store.retire(old.kid)

    assert [jwk["kid"] for jwk in store.jwks()["keys"]] == [new.kid]
    assert {row.kid: row.status for row in store.all_keys()} == {old.kid: RETIRED, new.kid: ACTIVE}
    with pytest.raises(KeyError):
        store.public_key(old.kid)
    with pytest.raises(KeyError):
        store.retire("no-such-kid")


def test_retiring_the_active_key_makes_the_next_signature_use_a_fresh_key(tmp_path):
    store = _store(tmp_path)
    compromised = store.active_key(now=NOW)
    store.retire(compromised.kid)

    replacement = store.active_key(now=LATER)

    assert replacement.kid != compromised.kid
    assert [jwk["kid"] for jwk in store.jwks()["keys"]] == [replacement.kid]


def test_jwks_never_contains_private_material(tmp_path):
    store = _store(tmp_path)
    signing = [store.active_key(now=NOW), store.rotate(CREDENTIAL_SIGNING, now=LATER)]
    published = json.dumps(store.jwks())

    for jwk in store.jwks()["keys"]:
        assert set(jwk) == PUBLIC_MEMBERS
        assert jwk["alg"] == "RS256" and jwk["use"] == "sig" and jwk["kty"] == "RSA"
    for key in signing:
        numbers = key.private_key().private_numbers()
        for secret in (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp):
            assert keys_module._b64url_uint(secret) not in published
        assert set(key.public_jwk()) == PUBLIC_MEMBERS
        assert "PRIVATE" not in repr(key)
    assert "PRIVATE KEY" not in published


def test_from_config_uses_keys_dir_or_the_instance_folder(tmp_path):
    default = KeyStore.from_config({"ENV_NAME": "development"}, tmp_path / "instance")
    assert default.directory == tmp_path / "instance" / "keys"
    chosen = KeyStore.from_config({"ENV_NAME": "development", "KEYS_DIR": str(tmp_path / "k")}, tmp_path)
    assert chosen.directory == tmp_path / "k"


def test_production_without_a_key_file_refuses(tmp_path):
    with pytest.raises(ConfigError, match="LMS_SIGNING_KEY_FILE is not set"):
        KeyStore.from_config({"ENV_NAME": "production"}, tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a key", "not an unencrypted PEM private key"), (None, "too short")],
)
def test_production_key_file_must_be_a_usable_rsa_pem(tmp_path, content, message):
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(content if content is not None else _pem(1024)[1])
    config = {"ENV_NAME": "production", "SIGNING_KEY_FILE": str(key_file)}
    with pytest.raises(ConfigError, match=message) as caught:
        KeyStore.from_config(config, tmp_path)
    assert str(key_file) in str(caught.value)


def test_production_signs_with_the_key_file_and_keeps_earlier_files_published(tmp_path):
    folder = tmp_path / "keys"
    first_key, first_pem = _pem()
    (tmp_path / "one.pem").write_bytes(first_pem)
    config = {
        "ENV_NAME": "production",
        "SIGNING_KEY_FILE": str(tmp_path / "one.pem"),
        "KEYS_DIR": str(folder),
    }
    store = KeyStore.from_config(config, tmp_path)

    signing = store.active_key(now=NOW)
    assert signing.kid == thumbprint(first_key.public_key())
    assert signing.private_pem == first_pem
    # No private key is ever copied into the folder (private keys are named <purpose>-NNNN.pem; a public
    # key's thumbprint name may itself contain "-0", so match the whole pattern).
    assert not [p for p in folder.glob("*.pem") if re.fullmatch(r"[a-z-]+-\d{4}\.pem", p.name)]
    assert all(b"PRIVATE KEY" not in p.read_bytes() for p in folder.glob("*.pem"))
    with pytest.raises(KeyStoreError, match="LMS_SIGNING_KEY_FILE"):
        store.rotate(CREDENTIAL_SIGNING, now=LATER)
    with pytest.raises(KeyStoreError, match="Install a new key file"):
        store.retire(signing.kid)

    # The operator's rotation: a new PEM, the variable pointed at it, a restart.
    second_key, second_pem = _pem()
    (tmp_path / "two.pem").write_bytes(second_pem)
    restarted = KeyStore.from_config({**config, "SIGNING_KEY_FILE": str(tmp_path / "two.pem")}, tmp_path)
    assert restarted.active_key(now=LATER).kid == thumbprint(second_key.public_key())
    assert [jwk["kid"] for jwk in restarted.jwks()["keys"]] == [
        signing.kid,
        thumbprint(second_key.public_key()),
    ]

    restarted.retire(signing.kid)
    assert [jwk["kid"] for jwk in restarted.jwks()["keys"]] == [thumbprint(second_key.public_key())]
    with pytest.raises(KeyStoreError, match="never generates"):
        restarted.active_key("lti-tool")  # another purpose gets no generated key in production
    assert not list(folder.glob("lti-tool-*.pem"))


def test_unknown_purpose_spelling_is_refused(tmp_path):
    with pytest.raises(KeyStoreError, match="purpose"):
        _store(tmp_path).active_key("../escape")


def test_public_keys_copied_into_the_folder_are_published(tmp_path):
    """A host that never signed with an earlier key still publishes it once the operator copies it in."""
    earlier, _ = _pem()
    folder = tmp_path / "keys"
    folder.mkdir()
    (folder / "2026-signing.pub.pem").write_bytes(
        earlier.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    current, current_pem = _pem()
    (tmp_path / "current.pem").write_bytes(current_pem)
    config = {
        "ENV_NAME": "production",
        "SIGNING_KEY_FILE": str(tmp_path / "current.pem"),
        "KEYS_DIR": str(folder),
    }
    store = KeyStore.from_config(config, tmp_path)

    assert store.active_key(now=NOW).kid == thumbprint(current.public_key())
    published = {jwk["kid"] for jwk in store.jwks()["keys"]}
    assert published == {thumbprint(earlier.public_key()), thumbprint(current.public_key())}
    assert thumbprint(store.public_key(thumbprint(earlier.public_key()))) == thumbprint(earlier.public_key())
    recorded = {row["kid"]: row["file"] for row in _index(folder)}
    assert recorded[thumbprint(current.public_key())].endswith(".pub.pem")


def test_concurrent_first_use_creates_a_single_key(tmp_path):
    """Four stores on one folder (as four processes would have) ask for the first key at the same moment."""
    from tests.concurrency import run_together

    def first_use(_arg, wait):
        store = _store(tmp_path)
        wait()
        return store.active_key(now=NOW).kid

    kids, errors = run_together(first_use, range(4))

    assert errors == []
    assert len(set(kids)) == 1
    assert len(list(tmp_path.glob("*.pem"))) == 1
    assert [row["kid"] for row in _index(tmp_path)] == kids[:1]
