"""Markdown → sanitised HTML, done once at sync time (never per request).

CommonMark plus tables, strikethrough and footnotes; ``[@key]`` citations; an image alone in its paragraph
becomes a figure with a caption. Authored HTML goes through nh3, so scripts, event handlers, ``style`` and
``javascript:`` links never reach a browser. The small structural classes the stylesheet needs (callouts,
table wrappers, citation links) are added after sanitising, so authors cannot inject classes of their own.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

CITATION = re.compile(r"\[@([A-Za-z0-9_.:-]+(?:\s*;\s*@[A-Za-z0-9_.:-]+)*)\]")
_FIGURE = re.compile(r'<p><img src="([^"]*)" alt="([^"]*)"(?: title="([^"]*)")? /></p>')
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_SRC_ATTR = re.compile(r'\bsrc="([^"]*)"')
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_CALLOUT = re.compile(r"<blockquote>\s*<p><strong>(Clinical vignette|Key points|Caution)</strong>")
CALLOUT_CLASSES = {"Clinical vignette": "vignette", "Key points": "key-points", "Caution": "caution"}

TAGS = (nh3.ALLOWED_TAGS - {"map", "area", "center"}) | {"section", "figure", "figcaption", "sup", "sub"}
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "li": {"id"},
    "sup": set(),
    "abbr": {"title"},
    "blockquote": {"cite"},
    "time": {"datetime"},
}


@cache
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
        .enable("table")
        .enable("strikethrough")
        .use(footnote_plugin)
    )


@dataclass
class Rendered:
    html: str
    citations: list[str] = field(default_factory=list)  # reference keys in order of first use
    media: list[str] = field(default_factory=list)  # package paths of images used
    problems: list[str] = field(default_factory=list)


def resolve_media(src: str, base_dir: str) -> str | None:
    """Package path of a relative image URL, or None if it leaves the package or is absolute."""
    if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith(("/", "\\")):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, src.split("#")[0].split("?")[0]))
    if joined.startswith("..") or joined.startswith("/"):
        return None
    return joined


def render_markdown(
    text: str,
    *,
    references: Mapping[str, int],
    base_dir: str = "lessons",
    media_exists: Callable[[str], bool] = lambda path: True,
    media_url: Callable[[str], str] = lambda path: path,
    inline: bool = False,
) -> Rendered:
    """Render authored Markdown to safe HTML, checking citations and images.

    ``references`` maps a reference key to its number in the course's list. ``media_url`` turns a package
    path (``media/x.svg``) into the URL the browser will load.
    """
    result = Rendered(html="")
    raw = _parser().renderInline(text) if inline else _parser().render(text)

    def figure(match: re.Match[str]) -> str:
        src, alt, title = match.group(1), match.group(2), match.group(3)
        caption = f"<figcaption>{title}</figcaption>" if title else ""
        return f'<figure><img src="{src}" alt="{alt}">{caption}</figure>'

    raw = _FIGURE.sub(figure, raw)
    clean = nh3.clean(
        raw,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )

    def new_src(src: str) -> str:
        path = resolve_media(src, base_dir)
        if re.match(r"^https?://", src):
            result.problems.append(f'image "{src}" is not in the package (external images are not allowed)')
            return ""
        if path is None or not path.startswith("media/"):
            result.problems.append(f'image "{src}" must point into the package\'s media/ folder')
            return ""
        if not media_exists(path):
            result.problems.append(f'image "{src}" links to missing media file {path}')
        elif path not in result.media:
            result.media.append(path)
        return media_url(path)

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        found = _SRC_ATTR.search(tag)
        src = new_src(html.unescape(found.group(1))) if found else ""
        rest = _SRC_ATTR.sub("", tag[len("<img") :], count=1).strip()
        return re.sub(r"\s+>$", ">", f'<img src="{html.escape(src)}" loading="lazy" {rest}')

    clean = _IMG_TAG.sub(image, clean)
    for tag in re.findall(r"<img\b[^>]*>", clean):
        alt = re.search(r'\balt="([^"]*)"', tag)
        if not alt or not alt.group(1).strip():
            result.problems.append("an image has no alt text: describe it for readers who cannot see it")

    def cite(match: re.Match[str]) -> str:
        links = []
        for key in (k.strip().lstrip("@") for k in match.group(1).split(";")):
            if key not in references:
                result.problems.append(f"citation [@{key}] is not a reference in course.toml")
                continue
            if key not in result.citations:
                result.citations.append(key)
            links.append(
                f'<a href="#ref-{key}" aria-label="Reference {references[key]}">{references[key]}</a>'
            )
        return f'<sup class="cite">[{", ".join(links)}]</sup>' if links else ""

    # Citations are replaced in text only, never inside a tag's attributes.
    clean = "".join(
        part if part.startswith("<") else CITATION.sub(cite, part) for part in _TAG_OR_TEXT.split(clean)
    )

    def callout(match: re.Match[str]) -> str:
        label = match.group(1)
        return f'<blockquote class="callout callout-{CALLOUT_CLASSES[label]}"><p><strong>{label}</strong>'

    clean = _CALLOUT.sub(callout, clean)
    clean = clean.replace("<table>", '<div class="table-wrap" tabindex="0"><table>').replace(
        "</table>", "</table></div>"
    )
    result.html = clean
    return result
