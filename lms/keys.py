"""Signing keys: a small store of RSA keys, each with a key id (``kid``), a purpose and a status.

Certificates sign their Open Badges credentials with it, and LTI will reuse it, so it sits at the bottom of
the import graph: it knows files and cryptography, no area of the app.

Two modes, chosen by :meth:`KeyStore.from_config`:

* **Folder** (development, tests): private keys are PEM files in a folder (``<instance>/keys/`` unless
  ``LMS_KEYS_DIR`` says otherwise), created on first use with an exclusive create and mode 0600, plus a small
  JSON index (kid, purpose, created, status) replaced atomically. ``rotate`` adds a key; older ones stay
  published in the JWKS so credentials they signed still verify; ``retire`` withdraws a compromised one.
* **Key file** (production, required there): the signing key is the PEM named by ``LMS_SIGNING_KEY_FILE``,
  provisioned by the operator like any other secret. Its kid is the RFC 7638 thumbprint of its public key, so
  every process and host derives the same kid without sharing state. Production never generates a private
  key. The folder then only holds *public* keys (``*.pub.pem``): the key file's, recorded the first time it
  signs, so replacing the file (the production rotation) keeps old credentials verifiable, and any an operator
  copies in (e.g. from another host, when ``LMS_KEYS_DIR`` is not shared storage). The store never copies a
  private key anywhere.

A key id is the RFC 7638 thumbprint in both modes: it names the key itself, not a file or a database row.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lms.config import ConfigError

try:  # POSIX only; without it index updates fall back to last-writer-wins (exclusive creates still hold).
    import fcntl
except ImportError:  # pragma: no cover - Windows development machines
    fcntl = None  # type: ignore[assignment]

#: The purpose certificates sign with. LTI will add its own (e.g. "lti-tool").
CREDENTIAL_SIGNING = "credential-signing"
ACTIVE = "active"
RETIRED = "retired"
#: JWS algorithm every Open Badges 3.0 verifier must support.
ALGORITHM = "RS256"
DEFAULT_KEY_SIZE = 3072
MIN_KEY_SIZE = 2048
INDEX_NAME = "index.json"
_PURPOSE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PEM_RE = re.compile(r"^(?P<purpose>[a-z0-9][a-z0-9-]*)-(?P<seq>\d{4,})\.pem$")
#: Public halves: recorded production keys, or earlier keys an operator copies in from another host.
_PUBLIC_SUFFIX = ".pub.pem"


class KeyStoreError(RuntimeError):
    """A key cannot be created, read or used as asked; the message says which file or kid and why."""


@dataclass(frozen=True)
class SigningKey:
    """A private signing key with its id and purpose. ``private_pem`` never appears in ``repr``."""

    kid: str
    purpose: str
    private_pem: bytes = field(repr=False)
    created: str = ""

    def private_key(self) -> rsa.RSAPrivateKey:
        return _load_private_pem(self.private_pem, source=f"key {self.kid}")

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK for a JWKS: kty, n, e, kid, alg, use; never ``d`` or the primes."""
        return public_jwk(self.private_key().public_key(), kid=self.kid)


@dataclass(frozen=True)
class KeyInfo:
    """One row of the index: what the CLI lists and what decides which keys are published."""

    kid: str
    purpose: str
    created: str
    status: str
    #: file name inside the folder: ``<purpose>-NNNN.pem`` (private) or ``<name>.pub.pem`` (public only)
    file: str = ""

    @property
    def has_private_key(self) -> bool:
        return bool(self.file) and not self.file.endswith(_PUBLIC_SUFFIX)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_to_int(text: str) -> int:
    padded = text + "=" * (-len(text) % 4)
    return int.from_bytes(base64.urlsafe_b64decode(padded), "big")


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the members e, kty, n in that order, no spaces."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(public_key: rsa.RSAPublicKey, *, kid: str) -> dict[str, str]:
    """A public RSA key as a JWK, built from the public numbers only so no private member can slip in."""
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    if jwk.get("kty") != "RSA" or not jwk.get("n") or not jwk.get("e"):
        raise KeyStoreError(f"JWK {jwk.get('kid', '?')} is not an RSA public key (kty, n and e needed).")
    return rsa.RSAPublicNumbers(_b64url_to_int(str(jwk["e"])), _b64url_to_int(str(jwk["n"]))).public_key()


def _load_private_pem(data: bytes, *, source: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyStoreError(
            f"{source}: not an unencrypted PEM private key ({exc}). Generate one with: "
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out signing-key.pem"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyStoreError(
            f"{source}: the key is not RSA; credentials are signed with RS256, which needs RSA."
        )
    if key.key_size < MIN_KEY_SIZE:
        raise KeyStoreError(
            f"{source}: an RSA key of {key.key_size} bits is too short (at least {MIN_KEY_SIZE})."
        )
    return key


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def _check_purpose(purpose: str) -> None:
    if not _PURPOSE_RE.match(purpose):
        raise KeyStoreError(f"Key purpose {purpose!r} must be lower-case letters, digits and hyphens.")


class KeyStore:
    """Keys by purpose. Build it with :meth:`from_config`; it holds no open files between calls.

    ``active_key`` gives the key to sign with (in folder mode, creating the first one on demand);
    ``jwks`` publishes every key that is not retired, so rotation never breaks an earlier signature.
    """

    def __init__(
        self,
        directory: Path,
        *,
        signing_key_file: Path | None = None,
        key_size: int = DEFAULT_KEY_SIZE,
        generate: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.signing_key_file = Path(signing_key_file) if signing_key_file else None
        self.key_size = key_size
        #: False in production: every private key there is provisioned by the operator, never made here.
        self.generate = generate
        self._file_key: SigningKey | None = None
        if self.signing_key_file is not None:
            self._file_key = self._read_key_file(self.signing_key_file)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: Path) -> KeyStore:
        """Folder ``KEYS_DIR`` (default ``<instance>/keys``); production must name ``SIGNING_KEY_FILE``.

        The key file is read and checked here, so a wrong path or a bad PEM stops start-up with a message
        naming the file instead of failing later, in a background job, when the first certificate is signed.
        """
        directory = Path(config.get("KEYS_DIR") or Path(instance_path) / "keys")
        key_file = config.get("SIGNING_KEY_FILE") or None
        if config.get("ENV_NAME") == "production" and not key_file:
            raise ConfigError(
                "LMS_SIGNING_KEY_FILE is not set. Production signs certificates (Open Badges credentials) "
                "with a key the operator provides and backs up; a key generated by one process would differ "
                "between hosts and vanish with the container. Generate one with: openssl genpkey -algorithm "
                "RSA -pkeyopt rsa_keygen_bits:3072 -out signing-key.pem (mode 0600), then point the variable "
                "at it."
            )
        try:
            return cls(
                directory,
                signing_key_file=Path(key_file) if key_file else None,
                generate=config.get("ENV_NAME") != "production",
            )
        except KeyStoreError as exc:
            raise ConfigError(f"LMS_SIGNING_KEY_FILE: {exc}") from None

    # -- reading ---------------------------------------------------------------------------------------

    def all_keys(self, purpose: str | None = None) -> list[KeyInfo]:
        """Every known key (oldest first), including retired ones, for listings and audits."""
        rows = self._read_state()
        if self._file_key is not None and not any(row.kid == self._file_key.kid for row in rows):
            rows.append(KeyInfo(self._file_key.kid, self._file_key.purpose, self._file_key.created, ACTIVE))
        return [row for row in rows if purpose is None or row.purpose == purpose]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys of every key that is not retired, as a JWKS. Never writes, never a private part."""
        published: list[dict[str, str]] = []
        seen: set[str] = set()
        for row in self.all_keys():
            if row.status != ACTIVE or row.kid in seen:
                continue
            seen.add(row.kid)
            published.append(public_jwk(self._public_key_for(row), kid=row.kid))
        return {"keys": published}

    def public_key(self, kid: str) -> rsa.RSAPublicKey:
        """The public key for ``kid`` if it is published; ``KeyError`` for an unknown or retired kid."""
        for row in self.all_keys():
            if row.kid == kid and row.status == ACTIVE:
                return self._public_key_for(row)
        raise KeyError(kid)

    # -- signing key -----------------------------------------------------------------------------------

    def active_key(self, purpose: str = CREDENTIAL_SIGNING, *, now: datetime | None = None) -> SigningKey:
        """The key to sign with now: the newest active key of ``purpose``.

        Folder mode creates one on first use. Two processes racing here both target the same next file name;
        the exclusive create lets exactly one win and the other re-reads the winner's key, so there is never
        a second "first" key. ``now`` is the creation time recorded for a key made here (default: the clock).
        """
        _check_purpose(purpose)
        if self._file_key is not None and purpose == self._file_key.purpose:
            return self._use_file_key(now or datetime.now(UTC))
        rows = self._signing_rows(purpose)
        if rows:
            return self._read_folder_key(rows[-1])
        return self._create(purpose, _iso(now or datetime.now(UTC)), first=True)

    def rotate(self, purpose: str, now: datetime) -> SigningKey:
        """Make a new key the active one for ``purpose``; earlier keys stay in the JWKS until retired."""
        _check_purpose(purpose)
        if self._file_key is not None and purpose == self._file_key.purpose:
            raise KeyStoreError(
                f"This installation signs with LMS_SIGNING_KEY_FILE ({self.signing_key_file}). To rotate, "
                "generate a new PEM, point LMS_SIGNING_KEY_FILE at it and restart: the current public key "
                f"(kid {self._file_key.kid}) is already recorded in {self.directory} and stays published."
            )
        return self._create(purpose, _iso(now), first=False)

    def retire(self, kid: str) -> None:
        """Withdraw a key (e.g. compromised) from the JWKS: credentials it signed no longer verify.

        Raises ``KeyError`` for an unknown kid. Retiring the key in ``LMS_SIGNING_KEY_FILE`` is refused:
        the operator must install its replacement first, or certificates could not be signed at all.
        """
        if self._file_key is not None and kid == self._file_key.kid:
            raise KeyStoreError(
                f"Key {kid} is the one in LMS_SIGNING_KEY_FILE ({self.signing_key_file}). Install a new key "
                "file and restart first, then retire this kid."
            )
        with self._locked():
            rows = self._read_state()
            if not any(row.kid == kid for row in rows):
                raise KeyError(kid)
            updated = [
                KeyInfo(row.kid, row.purpose, row.created, RETIRED, row.file) if row.kid == kid else row
                for row in rows
            ]
            self._write_index(updated)

    # -- internals: production key file ------------------------------------------------------------------

    def _read_key_file(self, path: Path) -> SigningKey:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        private = _load_private_pem(data, source=str(path))
        return SigningKey(thumbprint(private.public_key()), CREDENTIAL_SIGNING, data)

    def _use_file_key(self, now: datetime) -> SigningKey:
        """Remember the key file's public key in the folder, so it stays published after the file changes."""
        key = self._file_key
        assert key is not None
        rows = self._read_state()
        row = next((r for r in rows if r.kid == key.kid), None)
        if row is None:
            created = _iso(now)
            with self._locked():
                rows = self._read_state()
                if not any(r.kid == key.kid for r in rows):
                    name = self._write_public_pem(key)
                    rows = [r for r in rows if r.file != name]
                    rows.append(KeyInfo(key.kid, key.purpose, created, ACTIVE, name))
                    self._write_index(rows)
            row = next(r for r in self._read_state() if r.kid == key.kid)
        if row.status == RETIRED:
            raise KeyStoreError(
                f"The key in LMS_SIGNING_KEY_FILE ({self.signing_key_file}, kid {key.kid}) has been retired; "
                "install a new key file and restart."
            )
        return SigningKey(key.kid, key.purpose, key.private_pem, row.created)

    def _write_public_pem(self, key: SigningKey) -> str:
        public = key.private_key().public_key()
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        name = f"{key.kid}{_PUBLIC_SUFFIX}"
        if not (self.directory / name).exists():
            self._atomic_write(self.directory / name, pem, mode=0o644)
        return name

    def _public_files(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(e.name for e in self.directory.iterdir() if e.name.endswith(_PUBLIC_SUFFIX))

    def _load_public_file(self, name: str) -> rsa.RSAPublicKey:
        path = self.directory / name
        try:
            public = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"{path}: cannot be read as a PEM public key ({exc}).") from None
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyStoreError(f"{path}: not an RSA public key (credentials are verified with RS256).")
        return public

    # -- internals: folder ---------------------------------------------------------------------------

    def _pem_files(self) -> list[tuple[str, int, str]]:
        """(purpose, sequence, file name) of every private PEM in the folder, in creation order."""
        if not self.directory.is_dir():
            return []
        found = []
        for entry in self.directory.iterdir():
            match = _PEM_RE.match(entry.name)
            if match:
                found.append((match["purpose"], int(match["seq"]), entry.name))
        return sorted(found, key=lambda item: (item[0], item[1]))

    def _read_index(self) -> list[KeyInfo]:
        path = self.directory / INDEX_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"{path}: cannot be read as the key index ({exc}).") from None
        rows = []
        for number, item in enumerate(raw.get("keys", []) if isinstance(raw, dict) else [], start=1):
            try:
                rows.append(
                    KeyInfo(
                        str(item["kid"]),
                        str(item["purpose"]),
                        str(item["created"]),
                        str(item["status"]),
                        str(item.get("file", "")),
                    )
                )
            except (KeyError, TypeError):
                raise KeyStoreError(
                    f"{path}: entry {number} lacks kid, purpose, created or status."
                ) from None
        return rows

    def _read_state(self) -> list[KeyInfo]:
        """The index, plus any PEM the index does not know yet: a private key whose creator stopped before
        recording it (or a race loser reading before the winner wrote the index), or a public key an operator
        copied in so that credentials signed on another host or by an earlier key file keep verifying. Such
        public keys are published under the credential-signing purpose."""
        rows = self._read_index()
        known_files = {row.file for row in rows if row.file}
        for name in self._public_files():
            if name in known_files:
                continue
            kid = thumbprint(self._load_public_file(name))
            if any(row.kid == kid for row in rows):
                continue
            modified = datetime.fromtimestamp((self.directory / name).stat().st_mtime, UTC)
            rows.append(KeyInfo(kid, CREDENTIAL_SIGNING, _iso(modified), ACTIVE, name))
        for purpose, _seq, name in self._pem_files():
            if name in known_files:
                continue
            key = self._load_pem_file(name, purpose)
            stat = (self.directory / name).stat()
            rows.append(
                KeyInfo(key.kid, purpose, _iso(datetime.fromtimestamp(stat.st_mtime, UTC)), ACTIVE, name)
            )
        order = {name: position for position, (_p, _s, name) in enumerate(self._pem_files())}
        # Folder keys sort by file sequence (creation order, ties impossible); key-file rows keep index order.
        return sorted(rows, key=lambda row: order.get(row.file, -1) if row.file else -1)

    def _signing_rows(self, purpose: str) -> list[KeyInfo]:
        """Active folder keys of ``purpose`` that hold a private key, oldest first."""
        return [
            row
            for row in self._read_state()
            if row.purpose == purpose and row.status == ACTIVE and row.has_private_key
        ]

    def _load_pem_file(self, name: str, purpose: str) -> SigningKey:
        path = self.directory / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        private = _load_private_pem(data, source=str(path))
        return SigningKey(thumbprint(private.public_key()), purpose, data)

    def _read_folder_key(self, row: KeyInfo) -> SigningKey:
        key = self._load_pem_file(row.file, row.purpose)
        if key.kid != row.kid:
            raise KeyStoreError(
                f"{self.directory / row.file}: holds key {key.kid}, but the index records {row.kid} for it."
            )
        return SigningKey(key.kid, key.purpose, key.private_pem, row.created)

    def _public_key_for(self, row: KeyInfo) -> rsa.RSAPublicKey:
        if self._file_key is not None and row.kid == self._file_key.kid:
            return self._file_key.private_key().public_key()
        if row.has_private_key:
            return self._read_folder_key(row).private_key().public_key()
        if not row.file:
            raise KeyStoreError(f"{self.directory / INDEX_NAME}: key {row.kid} names no file.")
        public = self._load_public_file(row.file)
        if thumbprint(public) != row.kid:
            raise KeyStoreError(f"{self.directory / row.file}: does not hold the public key {row.kid}.")
        return public

    def _create(self, purpose: str, created: str, *, first: bool) -> SigningKey:
        """Write a new PEM under the next free sequence number with an exclusive create.

        ``first``: the caller found no active key; if another process creates the very file we aim at, its
        key is the first key and we adopt it. Otherwise (rotation) a lost race just moves to the next number.
        """
        if not self.generate:
            raise KeyStoreError(
                f"No {purpose!r} key is configured, and production never generates private keys: provide "
                "one through the setting its feature documents (certificates use LMS_SIGNING_KEY_FILE)."
            )
        self._ensure_directory()
        # The target name is fixed before the (slow) generation: a process that finds no key and one that
        # creates it meanwhile must aim at the same file, or the race would end with two "first" keys.
        existing = [seq for p, seq, _name in self._pem_files() if p == purpose]
        seq = max(existing, default=0) + 1
        if first:
            # A key that appeared between the caller's look and this listing is the first key: adopt it.
            rows = self._signing_rows(purpose)
            if rows:
                return self._read_folder_key(rows[-1])
        private = _generate_private_key(self.key_size)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        while True:
            name = f"{purpose}-{seq:04d}.pem"
            try:
                _exclusive_write(self.directory / name, pem)
            except FileExistsError:
                if first:
                    adopted = self._load_pem_file(name, purpose)
                    self._record(KeyInfo(adopted.kid, purpose, created, ACTIVE, name))
                    row = next(r for r in self._read_state() if r.file == name)
                    return self._read_folder_key(row)
                seq += 1
                continue
            break
        kid = thumbprint(private.public_key())
        self._record(KeyInfo(kid, purpose, created, ACTIVE, name))
        return SigningKey(kid, purpose, pem, created)

    def _record(self, info: KeyInfo) -> None:
        """Add a new key to the index, unless another process already recorded that file."""
        with self._locked():
            rows = self._read_index()
            if not any(row.file == info.file for row in rows):
                rows.append(info)
                self._write_index(rows)

    def _write_index(self, rows: list[KeyInfo]) -> None:
        payload = {"keys": [vars(row) for row in rows]}
        text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
        self._atomic_write(self.directory / INDEX_NAME, text.encode("utf-8"), mode=0o600)

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyStoreError(
                f"{self.directory}: cannot create the key folder ({exc.strerror or exc})."
            ) from None

    def _atomic_write(self, target: Path, data: bytes, *, mode: int) -> None:
        """Write beside the target, then rename over it: readers see the old file or the new, never half."""
        self._ensure_directory()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write of the index between processes (short; never held while generating)."""
        self._ensure_directory()
        if fcntl is None:  # pragma: no cover
            yield
            return
        fd = os.open(self.directory / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _generate_private_key(key_size: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def _exclusive_write(path: Path, data: bytes) -> None:
    """Create ``path`` only if it does not exist (mode 0600), publishing it complete.

    The bytes go to a temporary file opened with ``O_CREAT | O_EXCL`` and mode 0600, and are then hard-linked
    to ``path``: ``link`` fails with ``FileExistsError`` if another process got there first and never
    replaces its file, and a reader can never see a half-written key.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
