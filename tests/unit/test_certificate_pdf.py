"""The certificate renderer (lms/certificates/pdf.py): pure functions over a snapshot, checked by reading
the PDF back (pypdf for text, PDFium for the picture, zxing-cpp for the QR code)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tomllib
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from fpdf.fonts import SubsetMap
from PIL import Image, PngImagePlugin
from pypdf import PdfReader
from pypdf.generic import ArrayObject, ContentStream

from lms.certificates import pdf as certpdf
from lms.certificates.pdf import (
    PAPER_SIZES,
    name_problems,
    render_certificate_pdf,
    render_preview_png,
    render_transcript_pdf,
    sanitise_image,
)

ROOT = Path(__file__).resolve().parents[2]
VERIFY_URL = "https://lms.example.org/verify/ABCDEFGHJKMNPQRS"
DESIGNATION = (
    "Helix Medical Education designates this enduring material for a maximum of 3 AMA PRA Category 1"
    " Credits™. Physicians should claim only the credit commensurate with the extent of their"
    " participation in the activity."
)
ACCREDITATION = (
    "Helix Medical Education is accredited by the Accreditation Council for Continuing Medical Education"
    " (ACCME) to provide continuing medical education for physicians."
)


def png_bytes(size=(300, 80), mode="RGBA", color=(20, 30, 80, 255), **save) -> bytes:
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def snapshot(**changes) -> dict:
    snap = {
        "serial": "ABCD-EFGH-JKMN-PQRS",
        "holder_name": "María José Núñez",
        "profession": "Physician",
        "licence_number": "MD-104233",
        "course_title": "CAR-T cell therapy: patient selection and toxicity management",
        "edition": "2026.1",
        "learning_format": "Enduring material (self-paced online)",
        "completion_date": "2026-11-30",
        "hours": 2.5,
        "accredited": False,
        "credit_type": "AMA PRA Category 1 Credits™",
        "designation_statement": DESIGNATION,
        "accreditation_statement": ACCREDITATION,
        "provider_name": "Helix Medical Education",
        "signatory_name": "Dr. Amelia Hart",
        "signatory_title": "Director of Continuing Medical Education",
        "signature_image": "",
        "logo_image": "",
        "issued_on": "2026-12-01",
        "expires_on": "2028-11-30",
        "verify_url": VERIFY_URL,
        "paper": "A4",
        "site_name": "Helix LMS",
        "status": "valid",
    }
    snap.update(changes)
    return snap


def reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def page_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(data).pages)


def squash(text: str) -> str:
    """NFKC (Arabic presentation forms back to letters) without any whitespace: pypdf puts spaces between
    CJK glyphs and may split lines anywhere. It also reads the CFF (CJK) font's embedded CMap one byte at a
    time and returns a NUL before each CJK character; that is dropped too (a real .notdef is caught by
    `used_codes`, which reads the two-byte codes themselves)."""
    return re.sub(r"[\s\x00]+", "", unicodedata.normalize("NFKC", text))


def letters(text: str) -> Counter:
    return Counter(ch for ch in squash(text) if unicodedata.category(ch).startswith("L"))


def assert_printed(expected: str, extracted: str) -> None:
    """Left-to-right text must come back as written; right-to-left text (pypdf returns shaped Arabic and
    Hebrew in visual order, word by word) must come back with every letter, as often as written."""
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in expected):
        missing = letters(expected) - letters(extracted)
        assert not missing, f"letters of {expected!r} missing from the PDF text: {dict(missing)}"
    else:
        assert squash(expected) in squash(extracted), f"{expected!r} not found in {extracted!r}"


def used_codes(data: bytes) -> list[int]:
    """Every two-byte glyph code shown on the pages (fpdf2 writes Identity-H fonts, code 0 is .notdef)."""
    pdf = reader(data)
    codes: list[int] = []
    for page in pdf.pages:
        content = ContentStream(page.get_contents(), pdf)
        for operands, operator in content.operations:
            if operator == b"Tj":
                strings = [operands[0]]
            elif operator == b"TJ":
                strings = [item for item in operands[0] if not isinstance(item, int | float)]
                assert isinstance(operands[0], ArrayObject)
            else:
                continue
            for string in strings:
                raw = getattr(string, "original_bytes", None) or bytes(string)
                codes.extend(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2))
    return codes


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in reader(data).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


# --------------------------------------------------------------------------------------- text


def test_latin_certificate_prints_every_value():
    data = render_certificate_pdf(snapshot(accredited=True))
    assert data.startswith(b"%PDF-")
    text = page_text(data)
    for value in (
        "María José Núñez",
        "Physician",
        "Licence no. MD-104233",
        "CAR-T cell therapy: patient selection and toxicity management",
        "Edition 2026.1",
        "Enduring material (self-paced online)",
        "Completed 30 November 2026",
        "2.5 AMA PRA Category 1 Credits™ claimed",
        "Helix Medical Education",
        "Dr. Amelia Hart",
        "Director of Continuing Medical Education",
        "Issued",
        "1 December 2026",
        "Valid until",
        "30 November 2028",
        "ABCD-EFGH-JKMN-PQRS",
        VERIFY_URL,
    ):
        assert_printed(value, text)
    assert 0 not in used_codes(data)


SCRIPTS = {
    "latin": ("María José Núñez", "Terapia génica: selección de pacientes"),
    "greek": ("Αλέξανδρος Παπαδόπουλος", "Γονιδιακή θεραπεία για κλινικούς ιατρούς"),
    "cyrillic": ("Екатерина Смирнова", "Генная терапия: отбор пациентов"),
    "chinese": ("王小明", "基因治疗：患者选择与毒性管理"),
    "japanese": ("山田 花子", "遺伝子治療入門：やさしい解説"),
    "korean": ("김민준", "유전자 치료의 기초"),
    "arabic": ("محمد عبد الله", "العلاج الجيني للأطباء"),
    "hebrew": ("דוד כהן", "ריפוי גנטי לרופאים"),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_names_and_titles_in_every_script_are_extractable_without_boxes(script):
    name, course = SCRIPTS[script]
    assert name_problems(name) == []
    data = render_certificate_pdf(snapshot(holder_name=name, course_title=course, hours=1.75))
    text = page_text(data)
    assert_printed(name, text)
    assert_printed(course, text)
    assert_printed("ABCD-EFGH-JKMN-PQRS", text)
    assert_printed("Certificate of participation: 1.75 hours", text)
    codes = used_codes(data)
    assert codes, "no text drawn"
    assert 0 not in codes, ".notdef glyph printed"


def test_assert_printed_fails_when_a_name_is_missing():
    """The extraction check is not vacuous: a different Arabic or CJK name does not pass for the right one."""
    text = page_text(render_certificate_pdf(snapshot(holder_name="محمد عبد الله")))
    with pytest.raises(AssertionError):
        assert_printed("دוד כהן", text)
    with pytest.raises(AssertionError):
        assert_printed("王小明", text)


def test_mixed_direction_name_keeps_both_scripts():
    data = render_certificate_pdf(snapshot(holder_name="Dr. محمد Smith"))
    text = page_text(data)
    assert "Dr." in text and "Smith" in text
    assert_printed("محمد", text)


def test_a_latin_certificate_embeds_only_the_faces_it_uses():
    names = font_names(render_certificate_pdf(snapshot()))
    assert names == {"/MPDFAA+NotoSerif", "/MPDFAA+NotoSerifBold", "/MPDFAA+NotoSans"}
    cjk = font_names(render_certificate_pdf(snapshot(holder_name="王小明")))
    assert any("CJK" in name for name in cjk)


def test_long_name_shrinks_and_stays_whole():
    name = "Maximiliana Alejandra Concepción de la Santísima Trinidad Fernández-Villaverde y Ortega"
    text = page_text(render_certificate_pdf(snapshot(holder_name=name)))
    assert_printed(name, text)


def test_long_cjk_title_without_spaces_breaks_between_characters():
    title = "遺伝子治療における患者選択と毒性管理および長期追跡調査の実践的な指針と症例検討" * 3
    data = render_certificate_pdf(snapshot(course_title=title))
    assert_printed(title, page_text(data))
    assert 0 not in used_codes(data)


def test_unprintable_characters_in_other_fields_never_print_as_boxes():
    data = render_certificate_pdf(
        snapshot(course_title="Gene therapy \U0001f9ec basics\u202e", signatory_title="Lead\x07 educator")
    )
    text = page_text(data)
    assert "Gene therapy basics" in text
    assert "Lead educator" in text
    assert 0 not in used_codes(data)


# ---------------------------------------------------------------------------------- wording


def test_accredited_certificate_prints_credit_type_and_both_statements():
    text = page_text(render_certificate_pdf(snapshot(accredited=True)))
    assert_printed("2.5 AMA PRA Category 1 Credits™ claimed", text)
    assert_printed(DESIGNATION, text)
    assert_printed(ACCREDITATION, text)
    assert "Certificate of participation" not in text


def test_participation_certificate_has_no_credit_type_or_statements():
    text = page_text(render_certificate_pdf(snapshot(accredited=False, hours=1)))
    assert_printed("Certificate of participation: 1 hour", text)
    assert "AMA PRA" not in text
    assert "designates" not in text
    assert "accredited" not in text.lower()


def test_no_expiry_says_so():
    text = page_text(render_certificate_pdf(snapshot(expires_on="")))
    assert "Does not expire" in text
    assert "Valid until" not in text


@pytest.mark.parametrize(("status", "word"), [("revoked", "REVOKED"), ("superseded", "SUPERSEDED")])
def test_revoked_and_superseded_certificates_carry_a_banner(status, word):
    text = page_text(render_certificate_pdf(snapshot(status=status)))
    assert f"{word}: this certificate has been" in text
    valid = page_text(render_certificate_pdf(snapshot()))
    assert word not in valid


# ------------------------------------------------------------------------- paper and bytes


@pytest.mark.parametrize(("paper", "size"), [("A4", (841.89, 595.28)), ("Letter", (792.0, 612.0))])
def test_paper_sizes_are_landscape(paper, size):
    assert paper in PAPER_SIZES
    box = reader(render_certificate_pdf(snapshot(paper=paper))).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.05)


def test_same_snapshot_gives_identical_bytes_dated_from_issue():
    snap = snapshot(accredited=True, signature_image=base64.b64encode(png_bytes()).decode())
    first = render_certificate_pdf(snap)
    assert render_certificate_pdf(dict(snap)) == first
    info = reader(first).metadata
    assert info.creation_date == datetime(2026, 12, 1, tzinfo=UTC)
    later = render_certificate_pdf(dict(snap, issued_on="2026-12-02"))
    assert later != first
    assert reader(later).metadata.creation_date == datetime(2026, 12, 2, tzinfo=UTC)


def test_a_new_process_renders_the_same_bytes():
    """A re-render after a restart (other hash seed, fonts parsed afresh) is identical to the first."""
    snap = snapshot(holder_name="محمد 王小明 דוד", accredited=True)
    script = (
        "import hashlib, json, sys\n"
        "from lms.certificates.pdf import render_certificate_pdf\n"
        "print(hashlib.sha256(render_certificate_pdf(json.loads(sys.argv[1]))).hexdigest())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(snap)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=ROOT,
    )
    assert result.stdout.strip() == hashlib.sha256(render_certificate_pdf(snap)).hexdigest()


def test_cjk_certificate_is_deterministic_too():
    snap = snapshot(holder_name="김민준", course_title="遺伝子治療入門")
    assert render_certificate_pdf(snap) == render_certificate_pdf(snap)


def test_fonts_are_parsed_once_per_process():
    render_certificate_pdf(snapshot())
    before = certpdf._template_font.cache_info()
    render_certificate_pdf(snapshot(holder_name="Someone Else"))
    after = certpdf._template_font.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits


def test_documents_rendered_in_parallel_threads_match_sequential_ones():
    """The parsed fonts are shared between documents: rendering from a request thread and the job worker
    at the same time must not mix their subsets."""
    snaps = [snapshot(), snapshot(holder_name="王小明"), snapshot(holder_name="Αλέξανδρος"), snapshot()]
    expected = [render_certificate_pdf(snap) for snap in snaps]
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(render_certificate_pdf, snaps)) == expected


def test_rendering_does_not_keep_documents_alive():
    """fpdf2 memoises glyph look-ups per document on the class; the renderer empties that memo."""
    render_certificate_pdf(snapshot(holder_name="김민준"))
    assert SubsetMap.pick.cache_info().currsize == 0
    assert SubsetMap.get_glyph.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"paper": "A3"}, "paper must be one of A4, Letter"),
        ({"status": "lost"}, "status must be one of"),
        ({"completion_date": "30/11/2026"}, "completion_date must be an ISO date"),
        ({"verify_url": "/verify/X"}, "verify_url must be an absolute URL"),
        ({"hours": "lots"}, "hours must be a number"),
    ],
)
def test_malformed_snapshot_is_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        render_certificate_pdf(snapshot(**changes))


def test_missing_snapshot_key_is_named():
    snap = snapshot()
    del snap["serial"]
    with pytest.raises(ValueError, match="missing serial"):
        render_certificate_pdf(snap)


# ------------------------------------------------------------------------------ QR, preview


def test_qr_code_decodes_to_the_verify_url():
    png = render_preview_png(render_certificate_pdf(snapshot(accredited=True)), width_px=1600)
    image = Image.open(io.BytesIO(png))
    assert image.width == 1600
    found = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    assert found == [VERIFY_URL]


def test_qr_code_decodes_on_letter_paper_and_revoked():
    data = render_certificate_pdf(snapshot(paper="Letter", status="revoked"))
    image = Image.open(io.BytesIO(render_preview_png(data, width_px=1600)))
    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [VERIFY_URL]


def test_preview_is_a_png_of_the_first_page():
    png = render_preview_png(render_certificate_pdf(snapshot()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.width == 1200
    assert image.height == pytest.approx(1200 * 210 / 297, abs=1)
    # Not blank: the frame and the text are drawn.
    assert image.convert("L").getextrema()[0] < 80


def test_preview_refuses_what_is_not_a_pdf():
    with pytest.raises(ValueError, match="not a readable PDF"):
        render_preview_png(b"hello")
    with pytest.raises(ValueError, match="width_px"):
        render_preview_png(render_certificate_pdf(snapshot()), width_px=10)


# ----------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name",
    [
        "Zoë O'Brien-Łukasiewicz",
        "Nguyễn Thị Minh Khai",
        "Ødegård, Åsa",
        "Ἀλέξανδρος",
        "Ірина Шевченко",
        "陳大文",
        "佐藤 健",
        "이서연",
        "مهدی\u200cزاده",  # Persian, with a zero-width non-joiner
        "שרה לוי",
        "Jose\u0301 Nu\u0303n\u0303ez",  # decomposed accents print as their NFC form
    ],
)
def test_printable_names_have_no_problems(name):
    assert name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ana \U0001f600", 'the character "\U0001f600" (U+1F600) cannot be printed'),
        ("สมชาย ใจดี", 'the character "ส" (U+0E2A) cannot be printed'),
        (
            "Ana\u202eanA",
            "the invisible text-direction character U+202E RIGHT-TO-LEFT OVERRIDE is not allowed",
        ),
        (
            "Ana\u2067Ben",
            "the invisible text-direction character U+2067 RIGHT-TO-LEFT ISOLATE is not allowed",
        ),
        ("Ana\u200fBen", "the invisible text-direction character U+200F RIGHT-TO-LEFT MARK is not allowed"),
        ("Ana\u200bBen", "the invisible formatting character U+200B ZERO WIDTH SPACE is not allowed"),
        ("Ana\tBen", "the control character U+0009 cannot be printed"),
        ("Ana\x00Ben", "the control character U+0000 cannot be printed"),
        ("Ana\ue000", "the character U+E000 is unassigned or private-use"),
        ("<b>Ana</b>", 'the character "<" looks like markup'),
        ("Ana &amp; Ben", '"&amp;" looks like an HTML entity'),
        ("Ana &#x41; Ben", '"&#x41;" looks like an HTML entity'),
        ("   ", "the name is empty"),
        ("A" * 200, "the name is longer than 128 characters"),
    ],
)
def test_unprintable_names_are_explained(name, expected):
    problems = name_problems(name)
    assert any(expected in problem for problem in problems), problems


def test_each_problem_is_reported_once():
    assert name_problems("\U0001f600\U0001f600 Ana \U0001f600") == [
        'the character "\U0001f600" (U+1F600) cannot be printed'
    ]


def test_an_ampersand_alone_is_fine():
    assert name_problems("Smith & Jones") == []


# ---------------------------------------------------------------------------------- images


def test_sanitise_image_reencodes_png_without_metadata():
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "<script>alert(1)</script>")
    source = png_bytes(pnginfo=meta)
    assert b"alert" in source
    clean = sanitise_image(source)
    assert clean.startswith(b"\x89PNG")
    assert b"alert" not in clean and b"tEXt" not in clean
    image = Image.open(io.BytesIO(clean))
    assert image.size == (300, 80) and image.mode == "RGBA"


def test_sanitise_image_accepts_jpeg_downscales_and_applies_orientation():
    image = Image.new("RGB", (3000, 1000), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: shown upright it is 1000 wide and 3000 high
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    clean = Image.open(io.BytesIO(sanitise_image(out.getvalue(), max_px=600)))
    assert clean.format == "PNG"
    assert clean.size == (200, 600)
    assert not clean.getexif()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the image is empty"),
        (b"GIF89a" + b"\x00" * 20, "must be a PNG or JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "must be a PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "the PNG image could not be read"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 30, "the JPEG image could not be read"),
    ],
)
def test_sanitise_image_refuses_other_files(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sanitise_image(data)


def test_sanitise_image_refuses_a_decompression_bomb_before_decoding():
    bomb = png_bytes(size=(8000, 6000), mode="L", color=0, optimize=True)
    with pytest.raises(ValueError, match="the limit is 40 megapixels"):
        sanitise_image(bomb)


def test_signature_and_logo_are_embedded_as_images():
    signature = base64.b64encode(png_bytes()).decode()
    logo = base64.b64encode(png_bytes(size=(200, 200), mode="RGB", color=(11, 95, 122))).decode()
    data = render_certificate_pdf(snapshot(signature_image=signature, logo_image=logo))
    page = reader(data).pages[0]
    assert len(page.images) >= 2
    plain = render_certificate_pdf(snapshot())
    assert len(reader(plain).pages[0].images) == 0


def test_a_broken_image_in_a_snapshot_is_left_out_not_fatal():
    data = render_certificate_pdf(snapshot(signature_image="not base64!", logo_image="R0lGODlhAQABAAAAACw="))
    assert len(reader(data).pages[0].images) == 0
    assert_printed("Dr. Amelia Hart", page_text(data))


# ------------------------------------------------------------------------------- transcript


def transcript(**changes) -> dict:
    data = {
        "holder_name": "Екатерина Смирнова",
        "generated_on": "2026-12-01",
        "rows": [
            {
                "serial": "ABCD-EFGH-JKMN-PQRS",
                "course_title": "CAR-T cell therapy: patient selection",
                "edition": "2026.1",
                "completion_date": "2026-11-30",
                "hours": 2.5,
                "credit_type": "AMA PRA Category 1 Credit™",
                "state": "valid",
            },
            {
                "serial": "WXYZ-0123-4567-89AB",
                "course_title": "遺伝子治療入門",
                "edition": "2025.2",
                "completion_date": "2025-03-14",
                "hours": 1.25,
                "credit_type": "",
                "state": "revoked",
            },
        ],
        "totals_by_type": {"AMA PRA Category 1 Credit™": 2.5, "": 1.25},
        "totals_by_year": {"2025": 1.25, "2026": 2.5},
        "range": {"from": "2026-01-01", "to": "2026-12-31", "hours": 2.5},
        "paper": "A4",
    }
    data.update(changes)
    return data


def test_transcript_lists_certificates_and_totals():
    data = render_transcript_pdf(transcript())
    text = page_text(data)
    for value in (
        "Transcript of certificates",
        "Екатерина Смирнова",
        "Generated on 1 December 2026",
        "ABCD-EFGH-JKMN-PQRS",
        "WXYZ-0123-4567-89AB",
        "遺伝子治療入門",
        "30 Nov 2026",
        "Participation",
        "Revoked",
        "Hours by credit type",
        "Hours by year",
        "From 1 January 2026 to 31 December 2026",
    ):
        assert_printed(value, text)
    assert re.search(r"2026\s+2\.5", text)
    assert re.search(r"Participation\s+1\.25", text)
    assert 0 not in used_codes(data)
    box = reader(data).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.28, 841.89), abs=0.05)


def test_transcript_is_deterministic_and_paginates():
    many = [dict(transcript()["rows"][0], serial=f"ABCD-EFGH-JKMN-{i:04d}") for i in range(60)]
    data = render_transcript_pdf(transcript(rows=many, paper="Letter"))
    assert data == render_transcript_pdf(transcript(rows=many, paper="Letter"))
    pages = reader(data).pages
    assert len(pages) > 1
    assert float(pages[0].mediabox.width) == pytest.approx(612.0)
    assert "page 2" in pages[1].extract_text()
    assert "ABCD-EFGH-JKMN-0059" in page_text(data)


def test_empty_transcript_says_so():
    text = page_text(
        render_transcript_pdf(transcript(rows=[], totals_by_type={}, totals_by_year={}, range={}))
    )
    assert "No certificates yet." in text


def test_transcript_row_missing_a_field_is_named():
    with pytest.raises(ValueError, match="transcript row 1 is missing serial"):
        render_transcript_pdf(transcript(rows=[{"course_title": "x", "completion_date": "2026-01-01"}]))


# ------------------------------------------------------------------------------ packaging


def test_fonts_and_licences_ship_as_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "certificates/fonts/*" in pyproject["tool"]["setuptools"]["package-data"]["lms"]
    readme = (certpdf.FONT_DIR / "README.md").read_text()
    for faces in certpdf._FAMILIES.values():
        for filename in faces.values():
            assert (certpdf.FONT_DIR / filename).is_file()
            assert filename in readme
    for licence in ("OFL-Noto.txt", "OFL-NotoSansCJK.txt"):
        assert "SIL OPEN FONT LICENSE Version 1.1" in (certpdf.FONT_DIR / licence).read_text()
    total = sum(path.stat().st_size for path in certpdf.FONT_DIR.iterdir())
    assert total < 25 * 1024 * 1024


def test_bench_renders_once(capsys):
    path = ROOT / "bench" / "pdf_bench.py"
    spec = importlib.util.spec_from_file_location("pdf_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--runs", "0"]) == 0
    out = capsys.readouterr().out
    assert "Latin  certificate: mean" in out
    assert "CJK    certificate: mean" in out


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_widest_serial_stays_on_one_line_in_the_transcript(paper):
    # W and M are the widest Crockford characters; a serial wrapped at a hyphen cannot be copied or searched
    rows = [
        dict(transcript()["rows"][0], serial=serial)
        for serial in ("WWWW-WWWW-WWWW-WWWW", "MMMM-MMMM-MMMM-MMMM")
    ]
    text = page_text(render_transcript_pdf(transcript(rows=rows, paper=paper)))
    assert "WWWW-WWWW-WWWW-WWWW" in text and "MMMM-MMMM-MMMM-MMMM" in text
