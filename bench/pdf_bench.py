"""Benchmark: mean time to render one certificate PDF, Latin and CJK, in this process.

The issue's target is one Latin certificate under 100 ms; a CJK one is measured separately (its 16 MB font
makes subsetting slower). The first render of each kind (parsing the fonts once per process) is reported
apart from the mean of the following runs. Run with `python bench/pdf_bench.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms.certificates import pdf as certificate_pdf
from lms.certificates.pdf import render_certificate_pdf


def snapshot(holder_name: str, course_title: str) -> dict:
    return {
        "serial": "ABCD-EFGH-JKMN-PQRS",
        "holder_name": holder_name,
        "profession": "Physician",
        "licence_number": "MD-104233",
        "course_title": course_title,
        "edition": "2026.1",
        "learning_format": "Enduring material (self-paced online)",
        "completion_date": "2026-11-30",
        "hours": 2.5,
        "accredited": True,
        "credit_type": "AMA PRA Category 1 Credits™",
        "designation_statement": (
            "Helix Medical Education designates this enduring material for a maximum of 3 AMA PRA Category 1"
            " Credits™. Physicians should claim only the credit commensurate with the extent of their"
            " participation in the activity."
        ),
        "accreditation_statement": (
            "Helix Medical Education is accredited by the Accreditation Council for Continuing Medical"
            " Education (ACCME) to provide continuing medical education for physicians."
        ),
        "provider_name": "Helix Medical Education",
        "signatory_name": "Dr. Amelia Hart",
        "signatory_title": "Director of Continuing Medical Education",
        "signature_image": "",
        "logo_image": "",
        "issued_on": "2026-12-01",
        "expires_on": "2028-11-30",
        "verify_url": "https://lms.example.org/verify/ABCDEFGHJKMNPQRS",
        "paper": "A4",
        "site_name": "Helix LMS",
        "status": "valid",
    }


CASES = {
    "Latin": snapshot("María José Núñez", "CAR-T cell therapy: patient selection and toxicity management"),
    "CJK": snapshot("王小明", "CAR-T 細胞療法：患者選択と毒性管理"),
}


def measure(snap: dict, runs: int) -> tuple[float, float]:
    """(first render, mean of `runs` further renders), in milliseconds."""
    start = time.perf_counter()
    render_certificate_pdf(snap)
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(runs):
        certificate_pdf._qr_modules.cache_clear()  # each real certificate has its own verification URL
        start = time.perf_counter()
        render_certificate_pdf(snap)
        times.append((time.perf_counter() - start) * 1000)
    return first, statistics.fmean(times) if times else first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="renders per case after the first (default 20)")
    args = parser.parse_args(argv)
    for label, snap in CASES.items():
        first, mean = measure(snap, args.runs)
        print(f"{label:6} certificate: mean {mean:7.1f} ms over {args.runs} runs (first {first:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
