"""Certificate and transcript PDFs, the certificate's preview image, and the checks that keep them printable.

Everything here is a pure function of plain data: no database, no request, no clock. A certificate is
rendered from the snapshot copied at issue time, so the same snapshot always gives the same bytes (the
creation date comes from `issued_on`, the file identifier is a hash of the content, font subsets carry
fpdf2's fixed tag), and a later change of settings or course never alters an issued certificate.

Text is set with fpdf2 and HarfBuzz (uharfbuzz), so Arabic and Hebrew are shaped and laid out right to
left and CJK, Greek and Cyrillic come from the shipped Noto fonts (SIL OFL, see fonts/README.md), embedded
as subsets. Fonts are parsed once per process: the coverage sets and a template of each parsed face are
cached at module level, and each document gets a cheap copy with a fresh glyph table for fpdf2 to subset.
Only the fallback faces a document needs are attached, so a Latin certificate never touches the CJK font.

Names are checked before issue with `name_problems`: every character must be covered by the fonts, and
control characters, bidi overrides and markup are refused, so a certificate never prints empty boxes or
text that reads differently from what was registered. Images (signature, logo) are accepted only as PNG or
JPEG and are re-encoded through Pillow (`sanitise_image`), so nothing but pixels reaches the PDF.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import io
import logging
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pypdfium2
import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

PAPER_SIZES = ("A4", "Letter")
STATUSES = ("valid", "revoked", "superseded")

FONT_DIR = Path(__file__).with_name("fonts")

# Each family is a set of faces (fpdf2 style letters); family names are lower case without "b"/"i" capitals
# because fpdf2 derives a family from a font key by stripping "B" and "I".
_FAMILIES: dict[str, dict[str, str]] = {
    "serif": {"": "NotoSerif-Regular.ttf", "B": "NotoSerif-Bold.ttf"},
    "sans": {"": "NotoSans-Regular.ttf"},
    "naskh": {"": "NotoNaskhArabic-Regular.ttf", "B": "NotoNaskhArabic-Bold.ttf"},
    "arabic": {"": "NotoSansArabic-Regular.ttf"},
    "hebrewserif": {"": "NotoSerifHebrew-Regular.ttf", "B": "NotoSerifHebrew-Bold.ttf"},
    "hebrew": {"": "NotoSansHebrew-Regular.ttf"},
    "cjk": {"": "NotoSansCJKjp-Regular.otf"},
}
# Fallbacks in the order they are tried, per primary family: a serif line falls back to serif-like faces.
_FALLBACKS: dict[str, tuple[str, ...]] = {
    "serif": ("naskh", "hebrewserif", "cjk"),
    "sans": ("arabic", "hebrew", "cjk"),
}
# The holder's name is set in this family; `name_problems` checks against it and its fallbacks.
NAME_FAMILY = "serif"

NAME_MAX_LENGTH = 128

# Colours (RGB), from the app's tokens (lms/static/css/app.css).
_TEXT = (27, 36, 48)
_MUTED = (79, 91, 105)
_PRIMARY = (11, 95, 122)
_RULE = (207, 215, 224)
_DANGER = (164, 38, 44)
_WATERMARK = (246, 214, 216)

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Characters that change the direction of text without being visible. The overrides, embeddings and
# isolates (U+202A-U+202E, U+2066-U+2069) can make a printed name read differently from the stored one,
# so they are refused; the marks (LRM U+200E, RLM U+200F, ALM U+061C) are refused too, because a
# registered name never needs them and they are invisible on paper: the person re-types the name without.
_BIDI_CONTROLS = frozenset(
    [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
)
# Joiners shape Persian, Arabic and Indic names correctly and are kept when the fonts carry them.
_JOINERS = frozenset([0x200C, 0x200D])
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
# Refuse images whose header claims more pixels than this before decoding them (decompression bombs).
_MAX_SOURCE_PIXELS = 40_000_000
_MAX_IMAGE_BYTES = 10 * 1024 * 1024

# PDFium is not thread-safe; previews may be rendered from request threads and the job worker at once.
_PDFIUM_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------- fonts


@functools.cache
def _font_bytes(filename: str) -> bytes:
    return (FONT_DIR / filename).read_bytes()


@functools.cache
def _coverage(filename: str) -> frozenset[int]:
    """The code points a face maps to a glyph (its best Unicode cmap)."""
    font = TTFont(io.BytesIO(_font_bytes(filename)), lazy=True, recalcTimestamp=False)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@functools.cache
def _family_coverage(family: str) -> frozenset[int]:
    """What every face of a family covers: a character in it prints in any style of that family."""
    sets = [_coverage(name) for name in _FAMILIES[family].values()]
    return frozenset.intersection(*sets)


@functools.cache
def _any_face_coverage(family: str) -> frozenset[int]:
    return frozenset().union(*(_coverage(name) for name in _FAMILIES[family].values()))


@functools.cache
def printable_characters(primary: str = NAME_FAMILY) -> frozenset[int]:
    """Every code point that prints with `primary` and its fallbacks (a fallback may use any of its faces)."""
    covered = set(_family_coverage(primary))
    for family in _FALLBACKS[primary]:
        covered |= _any_face_coverage(family)
    return frozenset(covered)


# Tables that fpdf2 drops from the embedded subset anyway. Shaping reads the font file through HarfBuzz, so
# removing them from each document's (lazily loaded) copy spares the subsetter from decompiling them.
_NOT_EMBEDDED = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "FFTM", "hdmx", "meta", "DSIG")


class _TemplateHost(FPDF):
    """A throwaway document that fpdf2's font parser needs as its owner."""


_TEMPLATE_LOCK = threading.Lock()


@functools.cache
def _template_font(family: str, style: str) -> TTFFont:
    """Parse a face once per process (cmap, widths, metrics); documents get copies of it."""
    with _TEMPLATE_LOCK:
        host = _TemplateHost()
        host.add_font(family, style, str(FONT_DIR / _FAMILIES[family][style]))
        font = host.fonts[f"{family}{style}"]
        font.hbfont  # noqa: B018 - load the HarfBuzz face now, so that every copy shares it
        return font


def _attach_font(doc: FPDF, family: str, style: str) -> None:
    """Give `doc` a face without re-parsing it.

    fpdf2 subsets a face by editing its fontTools object in place when the document is written, so each
    document gets a fresh, lazily loaded fontTools object over the cached file bytes, and its own width
    table and subset map; the parsed cmap, glyph ids, metrics and HarfBuzz face are shared (read-only;
    HarfBuzz fonts may shape from several threads at once).
    """
    template = _template_font(family, style)
    font = copy.copy(template)
    font.i = len(doc.fonts) + 1
    font.ttfont = TTFont(io.BytesIO(_font_bytes(_FAMILIES[family][style])), recalcTimestamp=False, lazy=True)
    for tag in _NOT_EMBEDDED:
        if tag in font.ttfont:
            del font.ttfont[tag]
    font.cw = defaultdict(template.cw.default_factory, template.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    doc.fonts[font.fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        doc._set_min_pdf_version("1.6")


def _release_font_caches() -> None:
    """fpdf2 memoises glyph look-ups on SubsetMap methods with functools.cache, which keeps every document's
    fonts alive; clearing it after each document keeps a long-running worker's memory flat."""
    for method in (SubsetMap.pick, SubsetMap.get_glyph):
        method.cache_clear()


# ------------------------------------------------------------------------------------------- names


def _describe(char: str) -> str:
    cp = ord(char)
    name = unicodedata.name(char, "")
    return f"U+{cp:04X} {name}".rstrip()


def name_problems(name: str) -> list[str]:
    """Why `name` cannot be printed as is on a certificate; an empty list means it can.

    Checked against the fonts the name is set in (Noto Serif, with Noto Naskh Arabic, Noto Serif Hebrew and
    Noto Sans CJK as fallbacks), after Unicode NFC normalisation (the form that is printed). Refused:
    characters no font covers (they would print as empty boxes), control characters and line separators,
    invisible formatting characters including every bidi override, embedding, isolate and direction mark
    (they can make the printed name read differently from the registered one; zero-width joiners are
    allowed where the fonts carry them), unassigned and private-use code points, and markup (`<`, `>`,
    HTML entities such as `&amp;`). Each message names the character so the person can fix it.
    """
    if not isinstance(name, str) or not name.strip():
        return ["the name is empty"]
    text = unicodedata.normalize("NFC", name)
    problems: list[str] = []
    if len(text) > NAME_MAX_LENGTH:
        problems.append(f"the name is longer than {NAME_MAX_LENGTH} characters")
    covered = printable_characters(NAME_FAMILY)
    seen: set[str] = set()
    for char in text:
        if char in seen:
            continue
        seen.add(char)
        cp = ord(char)
        category = unicodedata.category(char)
        if category == "Cc" or category in ("Zl", "Zp"):
            problems.append(f"the control character {_describe(char)} cannot be printed")
        elif cp in _BIDI_CONTROLS:
            problems.append(
                f"the invisible text-direction character {_describe(char)} is not allowed in a printed name"
            )
        elif category == "Cf" and cp not in _JOINERS:
            problems.append(
                f"the invisible formatting character {_describe(char)} is not allowed in a printed name"
            )
        elif category in ("Cs", "Co", "Cn"):
            problems.append(f"the character U+{cp:04X} is unassigned or private-use and cannot be printed")
        elif char in "<>":
            problems.append(f'the character "{char}" looks like markup and is not allowed in a name')
        elif cp not in covered:
            problems.append(f'the character "{char}" (U+{cp:04X}) cannot be printed')
    for match in _ENTITY.finditer(text):
        problems.append(f'"{match.group(0)}" looks like an HTML entity; type the character itself')
    return problems


def _printable(value: Any, primary: str, *, field: str) -> str:
    """A field's text as it is printed: NFC, one line, invisible controls removed, uncovered characters
    dropped (symbols, emoji) or shown as "?" (letters), so no box is ever printed. Names are checked with
    `name_problems` before issue; this is the last guard for every field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    covered = printable_characters(primary)
    out: list[str] = []
    for char in unicodedata.normalize("NFC", value):
        cp = ord(char)
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f" or category in ("Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and cp not in _JOINERS):
            continue
        elif cp in covered:
            out.append(char)
        elif category.startswith("S") or category.startswith("M") or cp in _JOINERS:
            log.warning("certificate field %s: dropped unprintable U+%04X", field, cp)
        else:
            log.warning("certificate field %s: printed U+%04X as ?", field, cp)
            out.append("?")
    return re.sub(r" {2,}", " ", "".join(out)).strip()


# ------------------------------------------------------------------------------------------ images


def sanitise_image(data: bytes, max_px: int = 1200) -> bytes:
    """Re-encode an uploaded signature or logo as a plain PNG of at most `max_px` on its longer side.

    Only PNG and JPEG are accepted (checked by their magic bytes, then by Pillow's decoder); the image is
    decoded to pixels, turned upright by its EXIF orientation and saved again without any metadata, so no
    text chunk, ICC profile, EXIF data or anything but pixels reaches a PDF. Transparency is kept (a
    signature on a transparent background prints cleanly). Raises ValueError with a message for the admin.
    """
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValueError("the image is empty")
    if len(data) > _MAX_IMAGE_BYTES:
        raise ValueError(f"the image is larger than {_MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if data.startswith(_PNG_MAGIC):
        expected = "PNG"
    elif data.startswith(_JPEG_MAGIC):
        expected = "JPEG"
    else:
        raise ValueError("the image must be a PNG or JPEG file")
    if max_px < 16:
        raise ValueError("max_px must be at least 16")
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=[expected]) as img:
            width, height = img.size
            if width < 1 or height < 1 or width * height > _MAX_SOURCE_PIXELS:
                raise ValueError(f"the image is {width}×{height} pixels; the limit is 40 megapixels")
            img.load()
            upright = ImageOps.exif_transpose(img)
    except ValueError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"the {expected} image could not be read ({exc})") from None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    pixels.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _decode_image(value: Any, field: str) -> bytes | None:
    """A snapshot's base64 image as sanitised PNG bytes, or None (absent or unreadable: the certificate
    is still rendered, without the picture, and the problem is logged)."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
        return sanitise_image(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        log.warning("certificate %s image skipped: %s", field, exc)
        return None


# ------------------------------------------------------------------------------------------ values


def _iso_date(value: Any, field: str, *, optional: bool = False) -> date | None:
    if value in (None, "") and optional:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{field} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def format_date(day: date) -> str:
    """30 November 2026: unambiguous in every country (never 11/30 or 30/11)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_hours(hours: Any) -> str:
    """2.5 -> "2.5", 2.0 -> "2", 0.25 -> "0.25" (claims are in steps of 0.25)."""
    value = round(float(hours), 2)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _hours_words(hours: Any) -> str:
    text = format_hours(hours)
    return f"{text} hour" if text == "1" else f"{text} hours"


_REQUIRED = (
    "serial",
    "holder_name",
    "course_title",
    "completion_date",
    "hours",
    "accredited",
    "provider_name",
    "issued_on",
    "verify_url",
    "paper",
    "status",
)


def _check_snapshot(snapshot: Mapping[str, Any]) -> None:
    missing = [key for key in _REQUIRED if key not in snapshot]
    if missing:
        raise ValueError(f"certificate snapshot is missing {', '.join(missing)}")
    if snapshot["paper"] not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES)}, got {snapshot['paper']!r}")
    if snapshot["status"] not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {snapshot['status']!r}")
    url = str(snapshot["verify_url"])
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"verify_url must be an absolute URL, got {url!r}")
    try:
        float(snapshot["hours"])
    except (TypeError, ValueError):
        raise ValueError(f"hours must be a number, got {snapshot['hours']!r}") from None


# ---------------------------------------------------------------------------------------- document


class _Document(FPDF):
    """An fpdf2 document with the shipped fonts, text shaping and a fixed creation date.

    Faces are attached on first use (`set_font`, or a fallback for a character the current face lacks),
    so a document embeds only what it prints and a Latin certificate never loads the CJK font.
    """

    def __init__(self, *, paper: str, orientation: str, created: date) -> None:
        super().__init__(orientation=orientation, unit="mm", format=paper)
        self.set_creation_date(datetime.combine(created, time(0, 0), tzinfo=UTC))
        self.set_lang("en")
        self.set_margins(0, 0, 0)
        self.set_auto_page_break(False)
        self.c_margin = 0
        self.set_text_shaping(use_shaping_engine=True)

    def set_font(self, family: str | None = None, style: Any = "", size: float = 0) -> None:
        name = (family or self.font_family or "").lower()
        emphasis = "".join(letter for letter in "BI" if letter in str(style).upper())
        if name in _FAMILIES and emphasis in _FAMILIES[name] and f"{name}{emphasis}" not in self.fonts:
            _attach_font(self, name, emphasis)
        super().set_font(family, style, size)

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        """Fall back within the current family's own list (serif to Naskh, sans to Noto Sans Arabic),
        preferring the same weight and else any face that has the character."""
        code = ord(char)
        weight = "B" if "B" in style.upper() else ""
        for family in _FALLBACKS.get(self.font_family, ()):
            faces = _FAMILIES[family]
            for face in dict.fromkeys((weight, "")):
                if face in faces and code in _coverage(faces[face]):
                    key = f"{family}{face}"
                    if key not in self.fonts:
                        _attach_font(self, family, face)
                        # fpdf2 keeps fallback keys here to set the page's font before a fallback run.
                        self._fallback_font_ids.append(key)
                    return key
        return None

    def use(
        self, family: str, style: str = "", size: float = 11, color: tuple[int, int, int] = _TEXT
    ) -> None:
        self.set_font(family, style, size)
        self.set_text_color(*color)

    def text_line(
        self, text: str, y: float, height: float, *, x: float, width: float, align: str = "C"
    ) -> float:
        """One line of text in a box; returns the y below it."""
        self.set_xy(x, y)
        self.cell(width, height, text, align=Align.coerce(align))
        return y + height

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy line breaking at spaces, in logical order (each line is then laid out, bidi included, by
        fpdf2); a word wider than the line, as in CJK text without spaces, is broken between characters.
        Each word is measured once, which keeps this far cheaper than multi_cell (it shapes every prefix).
        """
        if not text or self.get_string_width(text) <= width:
            return [text] if text else []
        space = self.get_string_width(" ")
        lines: list[str] = []
        current, current_w = "", 0.0
        for word in text.split(" "):
            word_w = self.get_string_width(word)
            if current and current_w + space + word_w <= width:
                current, current_w = f"{current} {word}", current_w + space + word_w
                continue
            if current:
                lines.append(current)
            while word_w > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and self.get_string_width(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                word_w = self.get_string_width(word)
            current, current_w = word, word_w
        if current:
            lines.append(current)
        return lines

    def block(
        self,
        text: str,
        y: float,
        height: float,
        *,
        x: float,
        width: float,
        align: str = "C",
        max_lines: int = 0,
    ) -> float:
        """Wrapped text, one cell per line; returns the y below it. Text that needs more than `max_lines`
        is set smaller (down to 60%) before the last line is allowed to run long."""
        lines = self.wrap(text, width)
        size, smallest = self.font_size_pt, self.font_size_pt * 0.6
        while max_lines and len(lines) > max_lines and size - 1 >= smallest:
            size -= 1
            height *= size / (size + 1)
            self.set_font_size(size)
            lines = self.wrap(text, width)
        if max_lines and len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
        for line in lines:
            y = self.text_line(line, y, height, x=x, width=width, align=align)
        return y

    def fitted_size(
        self, text: str, family: str, style: str, size: float, minimum: float, width: float
    ) -> float:
        """The largest size from `size` down to `minimum` at which `text` fits on one line of `width`."""
        while size > minimum:
            self.set_font(family, style, size)
            if self.get_string_width(text) <= width:
                return size
            size -= 1
        return minimum

    def output_bytes(self) -> bytes:
        try:
            return bytes(self.output())
        finally:
            _release_font_caches()


@functools.lru_cache(maxsize=512)
def _qr_modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's dark modules (error correction M), without quiet zone; a zip of certificates for a
    course encodes different URLs, a re-render the same one."""
    qr = segno.make(url, error="m", micro=False)
    return tuple(tuple(bool(cell) for cell in row) for row in qr.matrix_iter(scale=1, border=0))


def _draw_qr(doc: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares (crisp at any zoom, no image), with the quiet zone kept white."""
    rows = _qr_modules(url)
    count = len(rows)
    module = size / count
    doc.set_fill_color(255, 255, 255)
    doc.rect(x - 4 * module, y - 4 * module, size + 8 * module, size + 8 * module, style="F")
    doc.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < count:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < count and row[c]:
                c += 1
            # A hair of overlap so anti-aliased rendering leaves no seam between rows.
            doc.rect(x + start * module, y + r * module, (c - start) * module, module * 1.04, style="F")


def _place_image(
    doc: FPDF, png: bytes, x: float, y: float, max_w: float, max_h: float, *, align: str
) -> None:
    with Image.open(io.BytesIO(png)) as img:
        width, height = img.size
    scale = min(max_w / width, max_h / height)
    w, h = width * scale, height * scale
    left = x + (max_w - w) / 2 if align == "C" else x
    doc.image(io.BytesIO(png), x=left, y=y + (max_h - h), w=w, h=h)


def render_certificate_pdf(snapshot: Mapping[str, Any]) -> bytes:
    """The certificate as PDF bytes, landscape A4 or Letter, from the snapshot copied at issue time.

    Deterministic: the same snapshot gives byte-identical output. The credit type and the designation and
    accreditation statements are printed only when `accredited` is true; otherwise the certificate says
    "Certificate of participation: N hours". A revoked or superseded certificate carries a banner and a
    watermark. Raises ValueError when the snapshot is malformed (naming the key).
    """
    _check_snapshot(snapshot)
    completed = _iso_date(snapshot["completion_date"], "completion_date")
    issued = _iso_date(snapshot["issued_on"], "issued_on")
    expires = _iso_date(snapshot.get("expires_on", ""), "expires_on", optional=True)
    accredited = bool(snapshot["accredited"])
    status = snapshot["status"]

    def text(key: str, family: str = "sans") -> str:
        return _printable(snapshot.get(key, ""), family, field=key)

    serial = text("serial")
    holder = _printable(snapshot["holder_name"], NAME_FAMILY, field="holder_name")
    course = text("course_title", "serif")
    edition = text("edition")
    profession = text("profession")
    licence = text("licence_number")
    learning_format = text("learning_format")
    provider = text("provider_name")
    signatory = text("signatory_name", "serif")
    signatory_title = text("signatory_title")
    site_name = text("site_name")
    credit_type = text("credit_type") if accredited else ""
    designation = text("designation_statement") if accredited else ""
    accreditation = text("accreditation_statement") if accredited else ""
    verify_url = str(snapshot["verify_url"])
    hours = format_hours(snapshot["hours"])

    logo = _decode_image(snapshot.get("logo_image"), "logo_image")
    signature = _decode_image(snapshot.get("signature_image"), "signature_image")

    title = "Certificate of Completion"
    credit_line = (
        f"{hours} {credit_type}".strip() + " claimed"
        if accredited
        else f"Certificate of participation: {_hours_words(snapshot['hours'])}"
    )
    holder_line = " · ".join(
        part for part in (profession, f"Licence no. {licence}" if licence else "") if part
    )
    course_line = " · ".join(
        part
        for part in (
            f"Edition {edition}" if edition else "",
            learning_format,
            f"Completed {format_date(completed)}",
        )
        if part
    )
    banner = {
        "revoked": "REVOKED: this certificate has been revoked and is no longer valid.",
        "superseded": "SUPERSEDED: this certificate has been replaced by a newer one.",
    }.get(status, "")

    doc = _Document(paper=snapshot["paper"], orientation="L", created=issued)
    doc.set_title(f"{title} {serial}")
    doc.set_author(provider)
    doc.set_subject(course)
    doc.set_creator(site_name or provider)
    doc.set_keywords(f"certificate {serial}")
    doc.add_page()
    page_w, page_h = doc.w, doc.h
    left, right = 24.0, page_w - 24.0
    width = right - left

    # Frame: a fine double rule in the primary colour.
    doc.set_draw_color(*_PRIMARY)
    doc.set_line_width(0.8)
    doc.rect(8, 8, page_w - 16, page_h - 16)
    doc.set_line_width(0.25)
    doc.rect(10.5, 10.5, page_w - 21, page_h - 21)

    y = 17.0
    if banner:
        size = doc.fitted_size(status.upper(), "serif", "", 120, 40, page_w * 0.78)
        doc.use("serif", "", size, _WATERMARK)
        with doc.rotation(22, page_w / 2, page_h / 2):
            doc.text_line(status.upper(), page_h / 2 - 22, 44, x=0, width=page_w)
        doc.set_fill_color(*_DANGER)
        doc.rect(10.5, 10.5, page_w - 21, 10, style="F")
        doc.use("sans", "", 11, (255, 255, 255))
        doc.text_line(banner, 10.5, 10, x=left, width=width)
        y = 24.0

    if logo:
        _place_image(doc, logo, left, y, width, 15, align="C")
        y += 18
    else:
        y += 3

    doc.use("serif", "B", 10, _PRIMARY)
    y = doc.text_line(provider, y, 5, x=left, width=width)

    doc.use("serif", "", 30, _TEXT)
    y = doc.text_line(title, y + 3, 13, x=left, width=width)
    doc.set_draw_color(*_PRIMARY)
    doc.set_line_width(0.4)
    doc.line(page_w / 2 - 18, y + 2.5, page_w / 2 + 18, y + 2.5)

    doc.use("sans", "", 10.5, _MUTED)
    y = doc.text_line("This is to certify that", y + 7, 6, x=left, width=width)

    name_width = width - 20
    size = doc.fitted_size(holder, NAME_FAMILY, "", 32, 18, name_width)
    doc.use(NAME_FAMILY, "", size, _TEXT)
    if doc.get_string_width(holder) <= name_width:
        y = doc.text_line(holder, y + 1.5, 15, x=left, width=width)
    else:
        y = doc.block(holder, y + 1.5, 9, x=left + 10, width=name_width, max_lines=2)
    if holder_line:
        doc.use("sans", "", 10.5, _MUTED)
        y = doc.text_line(holder_line, y, 6, x=left, width=width)

    doc.use("sans", "", 10.5, _MUTED)
    completed_words = "has successfully completed" if accredited else "has participated in and completed"
    y = doc.text_line(completed_words, y + 3, 6, x=left, width=width)
    doc.use("serif", "B", 17, _TEXT)
    y = doc.block(course, y + 1, 8, x=left + 15, width=width - 30, max_lines=3)
    doc.use("sans", "", 10, _MUTED)
    y = doc.block(course_line, y + 0.5, 5.5, x=left + 15, width=width - 30)

    doc.use("serif", "B", 13, _PRIMARY)
    y = doc.text_line(credit_line, y + 4, 7, x=left, width=width)

    if designation:
        doc.use("sans", "", 8.5, _TEXT)
        y = doc.block(designation, y + 2, 4.2, x=left + 30, width=width - 60)
    if accreditation:
        doc.use("sans", "", 8, _MUTED)
        y = doc.block(accreditation, y + 2.5, 4, x=left + 30, width=width - 60)

    # Footer: signatory on the left, dates and serial in the middle, QR code on the right.
    line_y = page_h - 38.0
    sig_w = 74.0
    sig_x = left + 2
    if signature:
        _place_image(doc, signature, sig_x, line_y - 15, sig_w, 14, align="C")
    doc.set_draw_color(*_MUTED)
    doc.set_line_width(0.3)
    doc.line(sig_x, line_y, sig_x + sig_w, line_y)
    doc.use("serif", "B", 10.5, _TEXT)
    below = doc.text_line(signatory or provider, line_y + 1.2, 5, x=sig_x, width=sig_w)
    doc.use("sans", "", 8.5, _MUTED)
    if signatory_title:
        below = doc.text_line(signatory_title, below, 4.2, x=sig_x, width=sig_w)
    if signatory:
        doc.text_line(provider, below, 4.2, x=sig_x, width=sig_w)

    details = [("Issued", format_date(issued))]
    details.append(("Valid until", format_date(expires)) if expires else ("Validity", "Does not expire"))
    details.append(("Certificate no.", serial))
    mid_w = 80.0
    mid_x = page_w / 2 - mid_w / 2
    row_y = line_y - 14
    for label, value in details:
        doc.use("sans", "", 8, _MUTED)
        doc.text_line(label, row_y, 4, x=mid_x, width=mid_w)
        doc.use("serif", "B", 10.5, _TEXT)
        doc.text_line(value, row_y + 4, 5, x=mid_x, width=mid_w)
        row_y += 10

    qr_size = 26.0
    qr_x = right - qr_size
    qr_y = page_h - 52.0
    _draw_qr(doc, verify_url, qr_x, qr_y, qr_size)
    doc.link(qr_x, qr_y, qr_size, qr_size, verify_url)
    doc.use("sans", "", 7, _MUTED)
    caption_w = 64.0
    caption_y = doc.text_line(
        "Verify at", qr_y + qr_size + 1.5, 3.2, x=right - caption_w, width=caption_w, align="R"
    )
    doc.block(verify_url, caption_y, 3.2, x=right - caption_w, width=caption_w, align="R")

    return doc.output_bytes()


# -------------------------------------------------------------------------------------- transcript


def render_transcript_pdf(transcript: Mapping[str, Any]) -> bytes:
    """A learner's transcript: every certificate, totals per credit type, per year and for a date range.

    Portrait, on the paper given (A4 or Letter), dated by `generated_on` (so it is deterministic too).
    """
    for key in ("holder_name", "generated_on", "rows"):
        if key not in transcript:
            raise ValueError(f"transcript is missing {key}")
    paper = transcript.get("paper", "A4")
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES)}, got {paper!r}")
    generated = _iso_date(transcript["generated_on"], "generated_on")
    holder = _printable(transcript["holder_name"], NAME_FAMILY, field="holder_name")

    def cell_text(value: Any, field: str) -> str:
        return _printable(value, "sans", field=field)

    rows = []
    for index, row in enumerate(transcript["rows"], start=1):
        try:
            completed_on = _iso_date(row["completion_date"], f"rows[{index}].completion_date")
            completion = f"{completed_on.day} {_MONTHS[completed_on.month - 1][:3]} {completed_on.year}"
            rows.append(
                (
                    cell_text(row["serial"], "serial"),
                    cell_text(row["course_title"], "course_title"),
                    cell_text(row.get("edition", ""), "edition"),
                    completion,
                    format_hours(row["hours"]),
                    cell_text(row.get("credit_type", ""), "credit_type") or "Participation",
                    cell_text(row.get("state", ""), "state").capitalize(),
                )
            )
        except KeyError as exc:
            raise ValueError(f"transcript row {index} is missing {exc.args[0]}") from None
    by_type = [
        (cell_text(kind, "credit_type") or "Participation", format_hours(hours))
        for kind, hours in transcript.get("totals_by_type", {}).items()
    ]
    by_year = [
        (str(year), format_hours(hours)) for year, hours in transcript.get("totals_by_year", {}).items()
    ]
    span = transcript.get("range") or {}
    start = _iso_date(span.get("from", ""), "range.from", optional=True)
    end = _iso_date(span.get("to", ""), "range.to", optional=True)

    doc = _Document(paper=paper, orientation="P", created=generated)
    doc.set_title(f"Transcript for {holder}")
    doc.set_author(holder)
    doc.set_creator("Helix LMS")
    doc.set_margins(14, 18, 14)
    doc.set_auto_page_break(True, margin=18)
    doc.c_margin = 1.2
    width = doc.w - 28

    def footer() -> None:
        doc.use("sans", "", 7.5, _MUTED)
        doc.set_xy(14, doc.h - 12)
        doc.cell(
            width, 4, f"Transcript for {holder} · generated {format_date(generated)} · page {doc.page_no()}"
        )

    doc.footer = footer  # type: ignore[method-assign]
    doc.add_page()
    doc.use("serif", "", 22, _TEXT)
    doc.set_xy(14, 18)
    doc.cell(width, 10, "Transcript of certificates", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.use("serif", "", 14, _TEXT)
    doc.cell(width, 8, holder, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.use("sans", "", 9, _MUTED)
    doc.cell(width, 6, f"Generated on {format_date(generated)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(4)

    headings = FontFace(family="serif", emphasis="BOLD", size_pt=8, color=_TEXT, fill_color=(227, 241, 246))
    doc.use("serif", "B", 8, _TEXT)  # attaches the headings' face before fpdf2's table checks for it
    doc.use("sans", "", 8, _TEXT)
    doc.set_draw_color(*_RULE)
    if rows:
        with doc.table(
            # the serial column fits the widest serial (WWWW-WWWW-WWWW-WWWW, 44.7 mm at 8 pt) on one line
            col_widths=(48, 47, 14, 20, 11, 25, 17),
            width=width,
            headings_style=headings,
            line_height=4.4,
            padding=(1.2, 1),
            text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"),
            borders_layout="HORIZONTAL_LINES",
            first_row_as_headings=True,
            repeat_headings=1,
        ) as table:
            table.row(("Serial", "Course", "Edition", "Completed", "Hours", "Credit", "State"))
            for row in rows:
                table.row(row)
    else:
        doc.cell(width, 6, "No certificates yet.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def totals(heading: str, pairs: list[tuple[str, str]]) -> None:
        doc.ln(5)
        doc.use("serif", "B", 11.5, _TEXT)
        doc.cell(width, 7, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.use("sans", "", 9, _TEXT)
        if not pairs:
            doc.cell(width, 5, "None.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        with doc.table(
            col_widths=(70, 20),
            width=90,
            align="LEFT",
            line_height=5,
            text_align=("LEFT", "RIGHT"),
            borders_layout="HORIZONTAL_LINES",
            first_row_as_headings=False,
        ) as table:
            for label, value in pairs:
                table.row((label, value))

    totals("Hours by credit type", by_type)
    totals("Hours by year", by_year)
    if start or end:
        label = f"From {format_date(start) if start else 'the first certificate'} to " + (
            format_date(end) if end else "today"
        )
        totals("Hours in the chosen period", [(label, format_hours(span.get("hours", 0)))])
    return doc.output_bytes()


# ----------------------------------------------------------------------------------------- preview


def render_preview_png(pdf: bytes, width_px: int = 1200) -> bytes:
    """The first page of a PDF as a PNG `width_px` wide, with PDFium (Apache/BSD; never an AGPL library)."""
    if not 64 <= width_px <= 4000:
        raise ValueError("width_px must be between 64 and 4000")
    with _PDFIUM_LOCK:
        try:
            document = pypdfium2.PdfDocument(bytes(pdf))
        except pypdfium2.PdfiumError as exc:
            raise ValueError(f"not a readable PDF ({exc})") from None
        try:
            if len(document) < 1:
                raise ValueError("the PDF has no pages")
            page = document[0]
            try:
                scale = width_px / page.get_width()
                bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
                image = bitmap.to_pil().convert("RGB")
            finally:
                page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
