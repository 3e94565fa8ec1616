"""Certificate serials: 15 random Crockford base32 characters (75 bits) and a Luhn mod 32 check character.

Shown as four groups of four (``7KQ2-M9XD-4HTB-W0RC``). Read leniently, as people type them off paper: any
case, with or without hyphens or spaces, I and L as 1, O as 0. The check character catches every single
mistyped character and most swaps of neighbours, so a typo is told apart from an unknown serial.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 15
_N = len(ALPHABET)
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_character(body: str) -> str:
    """Luhn mod N over the Crockford alphabet."""
    factor, total = 2, 0
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


def new_serial() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def display(serial: str) -> str:
    return "-".join(serial[i : i + 4] for i in range(0, len(serial), 4))


@dataclass(frozen=True)
class ParsedSerial:
    canonical: str  # 16 characters, no hyphens ("" when the input is not a serial at all)
    valid: bool  # the check character matches

    @property
    def typo(self) -> bool:
        return bool(self.canonical) and not self.valid


def parse(text: str) -> ParsedSerial:
    """Normalise what someone typed; ``typo`` when it looks like a serial but its check fails."""
    cleaned = "".join(ch for ch in text.upper() if ch not in "- \t").translate(_READ_AS)
    if len(cleaned) != BODY_LENGTH + 1 or any(ch not in ALPHABET for ch in cleaned):
        return ParsedSerial("", False)
    return ParsedSerial(cleaned, check_character(cleaned[:-1]) == cleaned[-1])
