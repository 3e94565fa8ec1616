"""Open Badges 3.0 credential: shape (JSON Schema of the 3.0 requirements), VC-JWT signature and verification.

The official 1EdTech schema cannot be downloaded here, so ``OB3_SCHEMA`` below restates its requirements
(../shared/standards/open-badges-3.md): required members, types, and date-times that carry a time zone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime

import jsonschema
import jwt
import pytest

from lms.certificates.credential import (
    ACHIEVEMENT_TYPE,
    CONTEXT,
    EXTENSIONS_CONTEXT,
    CredentialError,
    CredentialVerificationError,
    build_credential,
    issuer_profile,
    revocation_list,
    sign_credential,
    verify_credential,
)
from lms.keys import CREDENTIAL_SIGNING, KeyStore

BASE = "https://lms.example.org"
EMAIL = "Jane.Doe@Example.org"
SALT = "f3c1a9e2b7d04c5a"
CREDENTIAL_ID = "urn:uuid:6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
ISSUED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
URI = r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"
_date_time = {"type": "string", "format": "date-time", "pattern": DATE_TIME}
_uri = {"type": "string", "pattern": URI}


def _types_including(name: str) -> dict:
    return {"type": "array", "items": {"type": "string"}, "contains": {"const": name}}


OB3_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "OpenBadgeCredential (Open Badges 3.0 requirements, as restated for these tests)",
    "type": "object",
    "required": ["@context", "id", "type", "issuer", "validFrom", "name", "credentialSubject"],
    "properties": {
        "@context": {
            "type": "array",
            "prefixItems": [
                {"const": "https://www.w3.org/ns/credentials/v2"},
                {"const": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"},
            ],
            "minItems": 2,
        },
        "id": _uri,
        "type": {
            "allOf": [_types_including("VerifiableCredential"), _types_including("OpenBadgeCredential")],
        },
        "name": {"type": "string", "minLength": 1},
        "issuer": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {
                "id": _uri,
                "type": _types_including("Profile"),
                "name": {"type": "string", "minLength": 1},
            },
        },
        "validFrom": _date_time,
        "validUntil": _date_time,
        "credentialSubject": {
            "type": "object",
            "required": ["type", "achievement"],
            "anyOf": [{"required": ["id"]}, {"required": ["identifier"]}],
            "properties": {
                "type": _types_including("AchievementSubject"),
                "id": _uri,
                "identifier": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "identityHash", "identityType", "hashed"],
                        "properties": {
                            "type": {"const": "IdentityObject"},
                            "hashed": {"type": "boolean"},
                            "identityHash": {"type": "string", "minLength": 1},
                            "identityType": {"type": "string"},
                            "salt": {"type": "string"},
                        },
                    },
                },
                "achievement": {
                    "type": "object",
                    "required": ["id", "type", "criteria", "description", "name"],
                    "properties": {
                        "id": _uri,
                        "type": _types_including("Achievement"),
                        "name": {"type": "string", "minLength": 1},
                        "description": {"type": "string", "minLength": 1},
                        "criteria": {
                            "type": "object",
                            "anyOf": [{"required": ["id"]}, {"required": ["narrative"]}],
                            "properties": {"narrative": {"type": "string", "minLength": 1}, "id": _uri},
                        },
                        "creditsAvailable": {"type": "number", "minimum": 0},
                        "achievementType": {"type": "string"},
                        "fieldOfStudy": {"type": "string"},
                    },
                },
                "creditsEarned": {"type": "number", "minimum": 0},
                "licenseNumber": {"type": "string", "minLength": 1},
                "activityEndDate": _date_time,
            },
        },
        "credentialStatus": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {"id": _uri, "type": {"const": "1EdTechRevocationList"}},
        },
        "evidence": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": _types_including("Evidence")},
            },
        },
    },
}


def _validate(document: dict) -> None:
    jsonschema.validate(document, OB3_SCHEMA, format_checker=jsonschema.FormatChecker())


def _snapshot(**changes) -> dict:
    snapshot = {
        "serial": "7K3M-Q9TX-2B8C-D4FR",
        "holder_name": "Jane Doe",
        "profession": "Haematologist",
        "licence_number": "",
        "course_slug": "car-t-cell-therapy",
        "course_title": "CAR-T cell therapy in practice",
        "edition": "2026.1",
        "completion_date": "2026-11-28",
        "hours": 2.5,
        "hours_available": 3,
        "accredited": False,
        "credit_type": "",
        "criteria": "Read every lesson, pass the final quiz (80 %) and submit the evaluation.",
        "description": "Selecting patients for CAR-T, managing CRS and ICANS, and long-term follow-up.",
        "issued_at": "2026-12-01T10:00:00Z",
        "expires_at": "2028-12-01T10:00:00Z",
        "verify_url": f"{BASE}/verify/7K3M-Q9TX-2B8C-D4FR",
    }
    snapshot.update(changes)
    return snapshot


def _build(snapshot: dict | None = None, **kwargs) -> dict:
    arguments = {
        "base_url": BASE,
        "issuer_name": "Helix Medical Education",
        "email": EMAIL,
        "salt": SALT,
        "credential_id": CREDENTIAL_ID,
    }
    arguments.update(kwargs)
    return build_credential(snapshot or _snapshot(), **arguments)


@pytest.fixture
def store(tmp_path) -> KeyStore:
    return KeyStore(tmp_path / "keys", key_size=2048)


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- shape ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"expires_at": "", "licence_number": "MD-0042-NL"},
        {
            "accredited": True,
            "credit_type": "AMA PRA Category 1 Credit™",
            "issued_at": "2026-12-01T11:00:00+01:00",
        },
        {"verify_url": "", "criteria": "", "description": ""},
    ],
)
def test_credential_satisfies_the_ob3_schema(changes):
    credential = _build(_snapshot(**changes))
    _validate(credential)
    assert credential["@context"][:2] == CONTEXT
    assert credential["@context"][2] == EXTENSIONS_CONTEXT  # defines 1EdTechRevocationList
    assert credential["issuer"]["id"] == f"{BASE}/issuer"
    assert credential["validFrom"] == "2026-12-01T10:00:00Z"  # normalised to UTC


def test_schema_is_not_vacuous():
    """The schema in these tests refuses what the 3.0 requirements refuse."""
    good = _build()
    broken = [
        {k: v for k, v in good.items() if k != "validFrom"},
        {**good, "validFrom": "2026-12-01T10:00:00"},  # no time zone
        {**good, "type": ["VerifiableCredential"]},
        {**good, "credentialSubject": {**good["credentialSubject"], "identifier": None}},
        {
            **good,
            "credentialSubject": {
                **good["credentialSubject"],
                "achievement": {
                    k: v for k, v in good["credentialSubject"]["achievement"].items() if k != "criteria"
                },
            },
        },
    ]
    for document in broken:
        with pytest.raises(jsonschema.ValidationError):
            _validate(document)


def test_credential_carries_the_achievement_hours_licence_and_validity():
    credential = _build(_snapshot(licence_number="MD-0042-NL"))
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]

    assert credential["id"] == CREDENTIAL_ID
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["name"] == "Certificate of participation: CAR-T cell therapy in practice (2026.1)"
    assert credential["validUntil"] == "2028-12-01T10:00:00Z"
    assert achievement == {
        "id": f"{BASE}/courses/car-t-cell-therapy#edition-2026.1",
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": "CAR-T cell therapy in practice (2026.1)",
        "description": "Selecting patients for CAR-T, managing CRS and ICANS, and long-term follow-up.",
        "criteria": {"narrative": "Read every lesson, pass the final quiz (80 %) and submit the evaluation."},
        "creditsAvailable": 3,
    }
    assert subject["creditsEarned"] == 2.5
    assert subject["licenseNumber"] == "MD-0042-NL"
    assert subject["activityEndDate"] == "2026-11-28T00:00:00Z"
    assert credential["credentialStatus"] == {
        "id": f"{BASE}/issuer/revocations#7K3M-Q9TX-2B8C-D4FR",
        "type": "1EdTechRevocationList",
    }
    assert credential["evidence"][0]["id"] == f"{BASE}/verify/7K3M-Q9TX-2B8C-D4FR"


def test_participation_certificate_shows_no_credit_type_and_accredited_one_does():
    participation = _build(_snapshot(credit_type="AMA PRA Category 1 Credit™"))  # accredited false wins
    assert "AMA" not in json.dumps(participation, ensure_ascii=False)
    assert "licenseNumber" not in participation["credentialSubject"]
    assert "validUntil" not in _build(_snapshot(expires_at=""))

    accredited = _build(_snapshot(accredited=True, credit_type="AMA PRA Category 1 Credit™"))
    assert accredited["credentialSubject"]["achievement"]["tag"] == ["AMA PRA Category 1 Credit™"]
    assert accredited["name"].startswith("AMA PRA Category 1 Credit™ certificate: ")


def test_email_never_appears_in_clear_and_the_hash_is_salted():
    credential = _build()
    text = json.dumps(credential, ensure_ascii=False).lower()
    assert EMAIL.lower() not in text
    assert "example.org" not in text.replace(BASE.lower(), "")
    email_identity = credential["credentialSubject"]["identifier"][0]
    expected = "sha256$" + hashlib.sha256((EMAIL.lower() + SALT).encode()).hexdigest()
    assert email_identity == {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": expected,
        "salt": SALT,
    }
    other_salt = _build(salt="another-salt")["credentialSubject"]["identifier"][0]["identityHash"]
    assert other_salt != expected


def test_every_url_comes_from_base_url():
    snapshot = _snapshot(verify_url="https://certs.example.net/lms/verify/7K3M-Q9TX-2B8C-D4FR")
    credential = _build(snapshot, base_url="https://certs.example.net/lms/")
    urls = re.findall(r"https?://[^\"\s]+", json.dumps(credential))
    spec_hosts = ("https://www.w3.org/", "https://purl.imsglobal.org/")
    own = [url for url in urls if not url.startswith(spec_hosts)]
    assert own and all(url.startswith("https://certs.example.net/lms/") for url in own)
    assert credential["issuer"]["id"] == "https://certs.example.net/lms/issuer"


def test_building_is_pure():
    snapshot = _snapshot()
    frozen = json.dumps(snapshot, sort_keys=True)
    assert _build(snapshot) == _build(snapshot)
    assert json.dumps(snapshot, sort_keys=True) == frozen


@pytest.mark.parametrize(
    ("changes", "kwargs", "field"),
    [
        ({"holder_name": ""}, {}, "holder_name"),
        ({"issued_at": "2026-12-01T10:00:00"}, {}, "issued_at"),
        ({"issued_at": "1 December"}, {}, "issued_at"),
        ({"completion_date": "28/11/2026"}, {}, "completion_date"),
        ({"hours": "lots"}, {}, "hours"),
        ({"hours_available": -1}, {}, "hours_available"),
        ({"expires_at": "2026-11-01T10:00:00Z"}, {}, "expires_at"),
        ({"verify_url": "https://evil.example/verify/x"}, {}, "verify_url"),
        ({}, {"base_url": "/relative"}, "base_url"),
        ({}, {"email": ""}, "email"),
        ({}, {"salt": ""}, "salt"),
        ({}, {"credential_id": "not a uri"}, "credential_id"),
    ],
)
def test_bad_input_names_the_field(changes, kwargs, field):
    with pytest.raises(CredentialError, match=field):
        _build(_snapshot(**changes), **kwargs)


def test_issuer_profile_and_revocation_list():
    profile = issuer_profile(
        base_url=BASE + "/", issuer_name="Helix Medical Education", email="cme@example.org"
    )
    assert profile["id"] == _build()["issuer"]["id"] == f"{BASE}/issuer"
    assert profile["type"] == ["Profile"]
    assert profile["email"] == "cme@example.org"
    assert "email" not in issuer_profile(base_url=BASE, issuer_name="Helix")

    revoked = revocation_list(base_url=BASE, revoked_ids=["urn:uuid:b", "urn:uuid:a", "urn:uuid:b"])
    assert revoked == {
        "id": f"{BASE}/issuer/revocations",
        "issuer": f"{BASE}/issuer",
        "revokedCredentials": [{"id": "urn:uuid:a"}, {"id": "urn:uuid:b"}],
    }
    assert _build()["credentialStatus"]["id"].startswith(revoked["id"] + "#")


# -- signing and verification ------------------------------------------------------------------------------


def test_token_verifies_with_the_jwks_alone(store):
    credential = _build()
    key = store.active_key(now=ISSUED)
    token = sign_credential(credential, key)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    # An outside verifier: nothing but the published JWKS document and PyJWT.
    published = json.loads(json.dumps(store.jwks()))
    jwk = jwt.PyJWKSet.from_dict(published)[header["kid"]]
    payload = jwt.decode(
        token, jwk.key, algorithms=["RS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert payload["iss"] == credential["issuer"]["id"]
    assert payload["jti"] == CREDENTIAL_ID
    assert payload["nbf"] == int(ISSUED.timestamp())
    assert payload["exp"] == int(datetime(2028, 12, 1, 10, 0, tzinfo=UTC).timestamp())
    assert payload["sub"] == credential["credentialSubject"]["identifier"][0]["identityHash"]
    assert {k: v for k, v in payload.items() if k not in {"iss", "jti", "nbf", "sub", "exp"}} == credential
    assert EMAIL.lower() not in json.dumps(payload).lower()

    assert verify_credential(token, published) == credential


def test_no_exp_claim_without_validity_end(store):
    token = sign_credential(_build(_snapshot(expires_at="")), store.active_key(now=ISSUED))
    assert "exp" not in jwt.decode(token, options={"verify_signature": False})


def test_tampered_payload_fails(store):
    token = sign_credential(_build(), store.active_key(now=ISSUED))
    header, payload, signature = _segments(token)
    claims = json.loads(_unb64(payload))
    claims["credentialSubject"]["creditsEarned"] = 30
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])

    with pytest.raises(CredentialVerificationError, match="signature"):
        verify_credential(forged, store.jwks())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, store.public_key(store.active_key().kid), algorithms=["RS256"])


def test_tampered_signature_fails(store):
    token = sign_credential(_build(), store.active_key(now=ISSUED))
    header, payload, signature = _segments(token)
    raw = bytearray(_unb64(signature))
    raw[10] ^= 0x01
    with pytest.raises(CredentialVerificationError):
        verify_credential(".".join([header, payload, _b64(bytes(raw))]), store.jwks())
    with pytest.raises(CredentialVerificationError):
        verify_credential("not.a-token", store.jwks())


def test_unknown_kid_fails(store, tmp_path):
    stranger = KeyStore(tmp_path / "elsewhere", key_size=2048).active_key(now=ISSUED)
    store.active_key(now=ISSUED)
    token = sign_credential(_build(), stranger)
    with pytest.raises(CredentialVerificationError, match="not published"):
        verify_credential(token, store.jwks())


def test_other_algorithms_and_mismatched_claims_fail(store):
    key = store.active_key(now=ISSUED)
    credential = _build()
    hmac = jwt.encode(
        {**credential, "iss": f"{BASE}/issuer"}, "s" * 32, algorithm="HS256", headers={"kid": key.kid}
    )
    with pytest.raises(CredentialVerificationError, match="RS256"):
        verify_credential(hmac, store.jwks())

    # Correctly signed, but the claims do not say what the credential says.
    good = jwt.decode(sign_credential(credential, key), options={"verify_signature": False})
    for claim, value in [("iss", "https://evil.example/issuer"), ("nbf", 0), ("sub", "sha256$00")]:
        token = jwt.encode(
            {**good, claim: value}, key.private_pem, algorithm="RS256", headers={"kid": key.kid}
        )
        with pytest.raises(CredentialVerificationError, match=claim):
            verify_credential(token, store.jwks())


def test_validity_period_is_checked_against_now_when_given(store):
    token = sign_credential(_build(), store.active_key(now=ISSUED))
    assert verify_credential(token, store.jwks(), now=datetime(2027, 1, 1, tzinfo=UTC))["id"] == CREDENTIAL_ID
    with pytest.raises(CredentialVerificationError, match="expired"):
        verify_credential(token, store.jwks(), now=datetime(2028, 12, 1, 10, 0, tzinfo=UTC))
    with pytest.raises(CredentialVerificationError, match="not valid yet"):
        verify_credential(token, store.jwks(), now=datetime(2026, 12, 1, 9, 59, tzinfo=UTC))


def test_rotation_signs_with_the_new_key_and_old_tokens_still_verify(store):
    old_key = store.active_key(now=ISSUED)
    old_token = sign_credential(_build(), old_key)

    new_key = store.rotate(CREDENTIAL_SIGNING, now=datetime(2027, 3, 1, tzinfo=UTC))
    new_token = sign_credential(
        _build(credential_id="urn:uuid:00000000-0000-4000-8000-000000000002"), new_key
    )

    assert store.active_key().kid == new_key.kid
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    jwks = store.jwks()
    assert {jwk["kid"] for jwk in jwks["keys"]} == {old_key.kid, new_key.kid}
    assert verify_credential(old_token, jwks)["id"] == CREDENTIAL_ID
    assert verify_credential(new_token, jwks)["id"].endswith("0002")


def test_retired_key_tokens_no_longer_verify(store):
    compromised = store.active_key(now=ISSUED)
    token = sign_credential(_build(), compromised)
    store.rotate(CREDENTIAL_SIGNING, now=datetime(2027, 3, 1, tzinfo=UTC))

    store.retire(compromised.kid)

    with pytest.raises(CredentialVerificationError, match="not published"):
        verify_credential(token, store.jwks())
    assert compromised.kid not in json.dumps(store.jwks())


def test_signing_refuses_a_credential_that_already_has_claims(store):
    with pytest.raises(CredentialError, match="JWT claim"):
        sign_credential({**_build(), "exp": 1}, store.active_key(now=ISSUED))


def test_kid_written_as_a_jwks_uri_is_found(store):
    """The spec describes kid as a dereferenceable URI; ``<jwks url>#<kid>`` resolves to the same key."""
    key = store.active_key(now=ISSUED)
    payload = jwt.decode(sign_credential(_build(), key), options={"verify_signature": False})
    token = jwt.encode(
        payload,
        key.private_pem,
        algorithm="RS256",
        headers={"kid": f"{BASE}/.well-known/jwks.json#{key.kid}"},
    )
    assert verify_credential(token, store.jwks())["id"] == CREDENTIAL_ID
