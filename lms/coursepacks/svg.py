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
_CSS_DANGER = re.compile(r"@import|url\(\s*['\"]?\s*(?!#)|expression\(|javascript:", re.I)


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def svg_problems(data: bytes) -> list[str]:
    """Why an SVG file is refused (empty list when it is acceptable)."""
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.I):
        return ["SVG must not contain a DOCTYPE or entity declarations"]
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
            elif "javascript:" in lowered or (attr_name == "style" and _CSS_DANGER.search(value)):
                problems.append(f"SVG attribute {attr_name} holds a script or an external reference")
        if tag == "style" and element.text and _CSS_DANGER.search(element.text):
            problems.append("SVG <style> must not import or load anything")
    return sorted(set(problems))
