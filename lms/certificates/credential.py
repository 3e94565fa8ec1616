"""Open Badges 3.0 credentials for issued certificates, signed as VC-JWT (RS256).

Pure functions over the snapshot copied onto a certificate at issue time, so a credential rebuilt later is
the one that was issued, whatever happened to settings or the course since. Every absolute URL comes from
``base_url`` (``LMS_BASE_URL``), never from a request: a forged Host header must not end up in a signed
credential. The holder appears as a salted SHA-256 hash of their email address, so the credential can be
shared without disclosing the address; the name is included in clear because the credential is about that
person and the public verification page shows it too.

Shape follows the 1EdTech Open Badges 3.0 specification (VC Data Model 2.0): an ``OpenBadgeCredential``
whose ``credentialSubject`` is an ``AchievementSubject`` and whose ``achievement`` is the course edition. The
VC-JWT payload is the credential itself plus the registered claims ``iss``, ``jti``, ``nbf``, ``sub`` (and
``exp`` when the certificate expires); the JOSE header carries only ``alg``, ``kid`` and ``typ: JWT``, as the
spec allows.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import jwt
from jwt.algorithms import RSAAlgorithm

from lms.keys import ALGORITHM, SigningKey

#: VC Data Model 2.0 first, then the Open Badges 3.0.3 context (order matters for JSON-LD processors).
CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
#: 1EdTech's extensions context defines 1EdTechRevocationList and 1EdTechJsonSchemaValidator2019, which the
#: credential uses for ``credentialStatus`` and ``credentialSchema``.
EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
#: 1EdTech's published JSON Schema for this credential type, for verifiers that validate against it.
CREDENTIAL_SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
#: OB 3.0 AchievementType vocabulary: "Credential that acknowledges completion of an assignment, training or
#: other activity" (CTDL CertificateOfCompletion). "Certificate" there means a credential designating the
#: knowledge and skills of an occupation, which a CME activity certificate does not claim.
ACHIEVEMENT_TYPE = "CertificateOfCompletion"
REVOCATION_LIST_TYPE = "1EdTechRevocationList"
#: Registered JWT claims added around the credential; stripped again by ``verify_credential``.
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp")
DEFAULT_CRITERIA = (
    "Complete every lesson of this edition, pass its final assessment and submit its evaluation, then attest "
    "participation and claim the hours spent."
)

_REQUIRED_TEXT = (
    "serial",
    "holder_name",
    "course_slug",
    "course_title",
    "edition",
    "issued_at",
    "completion_date",
)


class CredentialError(ValueError):
    """The snapshot or an argument cannot make a valid credential; the message names the field."""


class CredentialVerificationError(Exception):
    """A token is not a valid credential for the given JWKS: bad signature, unknown kid, claims that do not
    match the credential, or (when ``now`` is given) outside its validity period."""


# -- URLs -------------------------------------------------------------------------------------------------


def _base(base_url: str) -> str:
    base = (base_url or "").strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or len(base.split("/", 3)[2]) == 0:
        raise CredentialError(f"base_url must be an absolute http(s) URL (LMS_BASE_URL), got {base_url!r}.")
    return base


def issuer_url(base_url: str) -> str:
    """The issuer Profile's id, dereferenceable at ``/issuer``."""
    return _base(base_url) + "/issuer"


def revocations_url(base_url: str) -> str:
    return _base(base_url) + "/issuer/revocations"


def jwks_url(base_url: str) -> str:
    return _base(base_url) + "/.well-known/jwks.json"


def achievement_url(base_url: str, course_slug: str, edition: str) -> str:
    """One Achievement per course edition: a new edition is a different achievement to a verifier."""
    return f"{_base(base_url)}/courses/{quote(course_slug, safe='')}#edition-{quote(edition, safe='.')}"


# -- values ---------------------------------------------------------------------------------------------


def _datetime(value: Any, field: str) -> datetime:
    """An aware UTC datetime from an ISO 8601 string; a value without a zone is refused, not guessed."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise CredentialError(
                f"snapshot field {field!r}: {value!r} is not an ISO 8601 date-time."
            ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CredentialError(
            f"snapshot field {field!r}: {value!r} has no time zone (write e.g. ...T10:00:00Z)."
        )
    return moment.astimezone(UTC).replace(microsecond=0)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise CredentialError(
            f"snapshot field {field!r}: {value!r} is not an ISO date (YYYY-MM-DD)."
        ) from None


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise CredentialError(f"snapshot field {field!r}: a number of hours is required, got {value!r}.")
    try:
        number = float(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        raise CredentialError(f"snapshot field {field!r}: {value!r} is not a number.") from None
    if not math.isfinite(number) or number < 0:
        raise CredentialError(f"snapshot field {field!r}: {value!r} must be zero or more.")
    return int(number) if number.is_integer() else number


def _text(snapshot: Mapping[str, Any], field: str) -> str:
    value = snapshot.get(field)
    return "" if value is None else str(value).strip()


def hash_email(email: str, salt: str) -> str:
    """``sha256$<hex>`` of the lower-cased address followed by the salt (the OB IdentityHash form).

    A verifier who knows the holder's address recomputes it with the salt given beside it; nobody else can
    read the address back. Lower-cased because addresses are compared case-insensitively in practice.
    """
    address = (email or "").strip().lower()
    if not address or "@" not in address:
        raise CredentialError("email: the holder's email address is required to build their hashed identity.")
    if not salt:
        raise CredentialError("salt: a per-certificate salt is required; without it the hash is guessable.")
    return "sha256$" + hashlib.sha256((address + salt).encode("utf-8")).hexdigest()


# -- documents -----------------------------------------------------------------------------------------


def issuer_profile(*, base_url: str, issuer_name: str, email: str | None = None) -> dict[str, Any]:
    """The issuer Profile served at ``/issuer`` (its ``id`` is that URL, as every credential names it)."""
    if not (issuer_name or "").strip():
        raise CredentialError("issuer_name: the provider's name is required for the issuer Profile.")
    profile: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": issuer_url(base_url),
        "type": ["Profile"],
        "name": issuer_name.strip(),
        "url": _base(base_url) + "/",
    }
    if email:
        profile["email"] = email
    return profile


def revocation_list(*, base_url: str, revoked_ids: Iterable[str]) -> dict[str, Any]:
    """The public 1EdTech revocation list at ``/issuer/revocations``: credential ids only, nothing personal.

    Reasons and dates stay on the verification page, which is looked up by serial; this list answers just
    "is this credential id revoked?" for wallets and verifiers holding the credential.
    """
    ids = sorted({str(item) for item in revoked_ids if item})
    return {
        "id": revocations_url(base_url),
        "issuer": issuer_url(base_url),
        "revokedCredentials": [{"id": item} for item in ids],
    }


def build_credential(
    snapshot: Mapping[str, Any],
    *,
    base_url: str,
    issuer_name: str,
    email: str,
    salt: str,
    credential_id: str,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` for one issued certificate (the ``credential.json`` document).

    ``snapshot`` is the issue-time copy (see the module docstring); ``email`` and ``salt`` make the hashed
    identity and the address itself never enters the result. Raises ``CredentialError`` naming the field.
    """
    for field in _REQUIRED_TEXT:
        if not _text(snapshot, field):
            raise CredentialError(f"snapshot field {field!r} is required.")
    if ":" not in (credential_id or "") or any(ch.isspace() for ch in credential_id):
        raise CredentialError(f"credential_id must be a URI such as urn:uuid:..., got {credential_id!r}.")
    if not (issuer_name or "").strip():
        raise CredentialError("issuer_name: the provider's name is required.")
    base = _base(base_url)
    title = _text(snapshot, "course_title")
    edition = _text(snapshot, "edition")
    serial = _text(snapshot, "serial")
    accredited = snapshot.get("accredited") is True
    credit_type = _text(snapshot, "credit_type") if accredited else ""
    valid_from = _datetime(snapshot.get("issued_at"), "issued_at")
    expires_raw = snapshot.get("expires_at")
    valid_until = _datetime(expires_raw, "expires_at") if expires_raw else None
    if valid_until is not None and valid_until <= valid_from:
        raise CredentialError("snapshot field 'expires_at' must be later than 'issued_at'.")
    completed = _date(snapshot.get("completion_date"), "completion_date")

    achievement: dict[str, Any] = {
        "id": achievement_url(base, _text(snapshot, "course_slug"), edition),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": f"{title} ({edition})",
        "description": _text(snapshot, "description")
        or f"Continuing medical education activity {title}, edition {edition}.",
        "criteria": {"narrative": _text(snapshot, "criteria") or DEFAULT_CRITERIA},
        "creditsAvailable": _number(snapshot.get("hours_available"), "hours_available"),
    }
    if _text(snapshot, "field_of_study"):
        achievement["fieldOfStudy"] = _text(snapshot, "field_of_study")
    if credit_type:
        # OB 3.0 has no credit-type property; a tag keeps it machine-readable next to creditsAvailable.
        achievement["tag"] = [credit_type]

    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hash_email(email, salt),
                "salt": salt,
            },
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": _text(snapshot, "holder_name"),
            },
        ],
        "achievement": achievement,
        "creditsEarned": _number(snapshot.get("hours"), "hours"),
        "activityEndDate": f"{completed.isoformat()}T00:00:00Z",
    }
    if _text(snapshot, "licence_number"):
        subject["licenseNumber"] = _text(snapshot, "licence_number")

    kind = f"{credit_type} certificate" if credit_type else "Certificate of participation"
    credential: dict[str, Any] = {
        "@context": [*CONTEXT, EXTENSIONS_CONTEXT],
        "id": credential_id,
        "type": list(CREDENTIAL_TYPE),
        "issuer": {
            "id": issuer_url(base),
            "type": ["Profile"],
            "name": issuer_name.strip(),
            "url": base + "/",
        },
        "validFrom": _stamp(valid_from),
        "name": f"{kind}: {title} ({edition})",
        "credentialSubject": subject,
        "credentialStatus": {"id": f"{base}/issuer/revocations#{serial}", "type": REVOCATION_LIST_TYPE},
        "credentialSchema": [dict(CREDENTIAL_SCHEMA)],
    }
    if valid_until is not None:
        credential["validUntil"] = _stamp(valid_until)
    verify_url = _text(snapshot, "verify_url")
    if verify_url:
        if not verify_url.startswith(base + "/"):
            raise CredentialError(f"snapshot field 'verify_url' must start with base_url ({base}/).")
        # OB 3.0 Evidence.id: "the URL of a webpage presenting evidence of achievement".
        credential["evidence"] = [
            {
                "id": verify_url,
                "type": ["Evidence"],
                "name": "Public verification record",
                "description": f"Current status of certificate {serial}, published by the issuer.",
            }
        ]
    return credential


def subject_claim(credential: Mapping[str, Any]) -> str:
    """``sub``: the subject's ``id`` when it has one, else its hashed email identity (no DID is known)."""
    subject = credential.get("credentialSubject") or {}
    if subject.get("id"):
        return str(subject["id"])
    for identity in subject.get("identifier") or []:
        if identity.get("hashed") and identity.get("identityHash"):
            return str(identity["identityHash"])
    raise CredentialError("credentialSubject needs an id or a hashed identifier to name the JWT subject.")


def _claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": str(credential["issuer"]["id"]),
        "jti": str(credential["id"]),
        "nbf": int(_datetime(credential["validFrom"], "validFrom").timestamp()),
        "sub": subject_claim(credential),
    }
    if credential.get("validUntil"):
        claims["exp"] = int(_datetime(credential["validUntil"], "validUntil").timestamp())
    return claims


def sign_credential(credential: Mapping[str, Any], key: SigningKey) -> str:
    """The compact VC-JWT: header ``{alg: RS256, kid, typ: JWT}``, payload = credential + claims."""
    clash = [name for name in JWT_CLAIMS if name in credential]
    if clash:
        raise CredentialError(
            f"the credential already has JWT claim members {clash}; pass the bare credential."
        )
    payload = {**credential, **_claims(credential)}
    return jwt.encode(payload, key.private_pem, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})


def verify_credential(token: str, jwks: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Check a VC-JWT with the published JWKS alone and return the credential inside it.

    Raises ``CredentialVerificationError`` for a malformed token, an algorithm other than RS256, a kid that
    the JWKS does not publish (unknown or retired), a bad signature, or claims that disagree with the
    credential (``iss``/``issuer.id``, ``jti``/``id``, ``nbf``/``validFrom``, ``exp``/``validUntil``,
    ``sub``).
    With ``now``, a credential not yet valid or already expired is refused too; without it the validity
    period is left to the caller, which shows "expired" rather than "forged".
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise CredentialVerificationError(f"not a compact JWS: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise CredentialVerificationError(f"algorithm {header.get('alg')!r} is not accepted (RS256 only).")
    kid = str(header.get("kid") or "")
    # A kid may also be written as a URI ending in "#<kid>" (the spec's dereferenceable form).
    candidates = {kid, kid.rsplit("#", 1)[-1]} - {""}
    jwk = next((item for item in jwks.get("keys", []) if item.get("kid") in candidates), None)
    if jwk is None:
        raise CredentialVerificationError(
            f"key id {kid!r} is not published by the issuer (unknown or retired)."
        )
    try:
        public_key = RSAAlgorithm.from_jwk(dict(jwk))
        payload = jwt.decode(
            token,
            public_key,  # type: ignore[arg-type]
            algorithms=[ALGORITHM],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "require": ["iss", "jti", "nbf", "sub"],
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CredentialVerificationError(f"signature or claims invalid: {exc}") from None
    credential = {name: value for name, value in payload.items() if name not in JWT_CLAIMS}
    try:
        expected = _claims(credential)
    except (CredentialError, KeyError, TypeError) as exc:
        raise CredentialVerificationError(f"the payload is not a complete credential: {exc}") from None
    for name in JWT_CLAIMS:
        if payload.get(name) != expected.get(name):
            raise CredentialVerificationError(f"claim {name!r} does not match the credential.")
    if now is not None:
        moment = now if now.tzinfo else now.replace(tzinfo=UTC)
        stamp = moment.timestamp()
        if stamp < expected["nbf"]:
            raise CredentialVerificationError("the credential is not valid yet (validFrom is in the future).")
        if "exp" in expected and stamp >= expected["exp"]:
            raise CredentialVerificationError("the credential has expired (validUntil has passed).")
    return credential
