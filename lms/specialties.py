"""One controlled list of specialties, shared by learner profiles and course packages.

Free text gave near-duplicates ("Pharmacy", "Clinical Pharmacy", "Medical Genetics", "Medical genetics"),
which split the catalog filter and the reports. Every spelling is mapped to one of ``SPECIALTIES``; a value
the list does not know is kept, tidied to sentence case, so nothing an author wrote is lost.
"""

from __future__ import annotations

import re

SPECIALTIES: tuple[str, ...] = (
    "Cardiology",
    "Dermatology",
    "Genetic counselling",
    "Haematology",
    "Immunology",
    "Medical genetics",
    "Neurology",
    "Nursing",
    "Oncology",
    "Ophthalmology",
    "Paediatrics",
    "Pharmacy",
    "Research",
    "Urology",
    "Other",
)

#: other spellings and narrower names → the controlled name (keys are folded: lower case, single spaces)
SYNONYMS: dict[str, str] = {
    "hematology": "Haematology",
    "haematology/oncology": "Haematology",
    "pediatrics": "Paediatrics",
    "paediatric": "Paediatrics",
    "genetic counseling": "Genetic counselling",
    "genetics": "Medical genetics",
    "clinical genetics": "Medical genetics",
    "clinical pharmacy": "Pharmacy",
    "oncology pharmacy": "Pharmacy",
    "hospital pharmacy": "Pharmacy",
    "pharmacist": "Pharmacy",
    "retina": "Ophthalmology",
    "neuro-oncology": "Oncology",
    "medical oncology": "Oncology",
    "neuromuscular medicine": "Neurology",
}


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def normalise_specialty(text: str) -> str:
    """The controlled name for ``text`` (case and near-duplicates folded); unknown values in sentence case."""
    folded = _fold(text)
    if not folded:
        return ""
    for name in SPECIALTIES:
        if folded == name.casefold():
            return name
    if folded in SYNONYMS:
        return SYNONYMS[folded]
    if folded.endswith("nursing") or folded in ("nurse", "nurses"):
        return "Nursing"
    cleaned = re.sub(r"\s+", " ", text).strip()
    return cleaned[:1].upper() + cleaned[1:].lower()


def normalise_all(values: list[str] | tuple[str, ...]) -> list[str]:
    """Normalised, without duplicates, in first-seen order."""
    out: list[str] = []
    for value in values:
        name = normalise_specialty(value)
        if name and name not in out:
            out.append(name)
    return out
