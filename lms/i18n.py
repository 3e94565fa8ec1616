"""Names for people: sorting in any Latin script, country names instead of codes."""

from __future__ import annotations

import unicodedata


def collation_key(text: str) -> str:
    """Sort key for names in any Latin script: "Åland Islands" with A, "Côte d'Ivoire" with C."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def country_name(code: str | None) -> str:
    """A country's common name from its ISO code (the code itself if unknown)."""
    if not code:
        return "—"
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper())
    return getattr(country, "common_name", None) or getattr(country, "name", code) if country else code
