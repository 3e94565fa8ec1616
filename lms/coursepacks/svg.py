"""SVG figures are checked against an allowlist before a package is accepted.

An SVG opened directly is a document of our origin, so anything that can run script, embed HTML (forms!) or
load something from elsewhere is refused, whatever its spelling (namespace prefixes, entities, case).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ALLOWED_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "metadata",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "textPath",
        "marker",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
        "symbol",
        "use",
        "style",
        "filter",
        "feGaussianBlur",
        "feOffset",
        "feBlend",
        "feFlood",
        "feComposite",
        "feMerge",
        "feMergeNode",
        "feDropShadow",
        "feColorMatrix",
    ]
)
_CSS_DANGER = re.compile(
    r"@import|url\(\s*['\"]?\s*(?!#)|expression\(|javascript:|@font-face|image-set\(", re.I
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_XML_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml\s[^?>]*\?>")


def _has_processing_instruction(data: bytes) -> bool:
    """Any <?…?> but the leading XML declaration (e.g. <?xml-stylesheet href="//evil"?>)."""
    declaration = _XML_DECLARATION.match(data)
    return b"<?" in (data[declaration.end() :] if declaration else data)


def css_problem(text: str) -> str | None:
    """Why a piece of CSS (a style attribute or element, a presentation attribute) is refused, or None.

    CSS escapes ("\\75 rl(") and comments ("@im/**/port") could spell a reference the checks would miss, so
    escapes are refused outright and comments are removed before looking.
    """
    if "\\" in text:
        return "uses CSS escapes (a backslash), which could hide an external reference"
    if _CSS_DANGER.search(_CSS_COMMENT.sub("", text)):
        return "holds a script or an external reference (url(), @import)"
    return None


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def svg_problems(data: bytes) -> list[str]:
    """Why an SVG file is refused (empty list when it is acceptable)."""
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.I):
        return ["SVG must not contain a DOCTYPE or entity declarations"]
    if _has_processing_instruction(data):
        return ["SVG must not contain processing instructions such as <?xml-stylesheet?>"]
    try:
        root = ET.fromstring(data)  # noqa: S314  (no DTD can reach the parser, see above)
    except ET.ParseError as exc:
        return [f"SVG is not well-formed XML ({exc})"]
    if _local(root.tag) != (SVG_NS, "svg"):
        return ['the root element must be <svg xmlns="http://www.w3.org/2000/svg">']
    problems: list[str] = []
    for element in root.iter():
        ns, tag = _local(element.tag)
        if ns != SVG_NS or tag not in ALLOWED_ELEMENTS:
            problems.append(
                f"SVG element <{tag}> is not allowed (scripts, foreignObject, images and HTML are refused)"
            )
            continue
        for attr, value in element.attrib.items():
            attr_ns, attr_name = _local(attr)
            lowered = re.sub(r"\s", "", value).lower()
            if attr_name.lower().startswith("on"):
                problems.append(f"SVG event handler attribute {attr_name} is not allowed")
            elif attr_name == "href" and attr_ns in ("", XLINK_NS) and not value.strip().startswith("#"):
                problems.append(f'SVG link "{value[:60]}" must point inside the figure (#id)')
            elif "javascript:" in lowered:
                problems.append(f"SVG attribute {attr_name} holds a script or an external reference")
            elif (reason := css_problem(value)) is not None:
                # Presentation attributes (fill="url(…)") are CSS as much as style="…" is.
                problems.append(f"SVG attribute {attr_name} {reason}")
        if tag == "style" and element.text and (reason := css_problem(element.text)) is not None:
            problems.append(f"SVG <style> must not import or load anything: it {reason}")
    return sorted(set(problems))
