"""Text normalisation for search, shared by catalog search and (later) admin user search.

Stored text and queries go through the same ``normalise_search``, so a plain LIKE on the stored column finds
"CAR-T" from "car t", "Lymphozyten" from "lymphozyten" and "Müller" from "muller" on SQLite and PostgreSQL
alike, with no database-specific collation or extension.
"""

from __future__ import annotations

import re
import unicodedata

_DASHES = re.compile(r"[-\u2010-\u2015\u2212_/]+")
_SPACE = re.compile(r"\s+")


def normalise_search(text: str) -> str:
    """NFKD, accents stripped, case folded, hyphens (and dashes, slashes) as spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold()
    return _SPACE.sub(" ", _DASHES.sub(" ", folded)).strip()
