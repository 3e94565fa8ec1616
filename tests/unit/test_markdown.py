"""Markdown rendering and sanitising (done at sync time)."""

from __future__ import annotations

import pytest

from lms.coursepacks.markdown import render_markdown


def render(text: str, **kw):
    kw.setdefault("references", {"lee2019": 1, "ginn2018": 2})
    kw.setdefault("media_exists", lambda path: path == "media/fig.svg")
    kw.setdefault("media_url", lambda path: "/courses/c/" + path)
    return render_markdown(text, **kw)


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("[x](javascript:alert(1))", 'href="javascript'),
        ('<img src="../media/fig.svg" alt="a" onerror="alert(1)">', "onerror"),
        ('<p onclick="steal()">hi</p>', "onclick"),
        ('<p style="position:fixed">x</p>', "style="),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("<style>body{}</style>", "<style"),
        ('<form action="/logout"><button>x</button></form>', "<form"),
        ("<svg><script>alert(1)</script></svg>", "<script"),
    ],
)
def test_authored_html_is_sanitised(source, forbidden):
    assert forbidden not in render(source).html.lower()


def test_commonmark_tables_footnotes_and_strikethrough():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^n] ~~old~~\n\n[^n]: A note.").html
    assert '<div class="table-wrap" tabindex="0"><table>' in html
    assert "<td>1</td>" in html
    assert "<s>old</s>" in html
    assert "A note." in html


def test_figure_with_caption_and_citations():
    result = render('See [@ginn2018; @lee2019].\n\n![Alt text](../media/fig.svg "The caption")')
    assert '<figure><img src="/courses/c/media/fig.svg" loading="lazy" alt="Alt text">' in result.html
    assert "<figcaption>The caption</figcaption>" in result.html
    assert '<a href="#ref-ginn2018" aria-label="Reference 2">2</a>' in result.html
    assert result.citations == ["ginn2018", "lee2019"]
    assert result.media == ["media/fig.svg"]
    assert result.problems == []


def test_external_and_escaping_images_are_refused():
    result = render("![x](https://cdn.example/x.png)\n\n![y](../../etc/passwd)")
    assert any("external images are not allowed" in p for p in result.problems)
    assert any("must point into the package's media/ folder" in p for p in result.problems)
    assert "cdn.example" not in result.html


def test_callouts_get_classes_but_authors_cannot_set_classes():
    html = render('> **Clinical vignette** A 54-year-old man…\n\n<p class="evil">x</p>').html
    assert '<blockquote class="callout callout-vignette">' in html
    assert 'class="evil"' not in html


def test_external_links_get_rel():
    assert 'rel="noopener noreferrer"' in render("[FDA](https://www.fda.gov)").html


def test_image_checks_do_not_depend_on_attribute_order():
    result = render('<img alt="x" src="https://cdn.example/x.png">')
    assert any("external images are not allowed" in p for p in result.problems)
    assert "cdn.example" not in result.html


def test_citations_are_not_expanded_inside_attributes():
    html = render('<abbr title="[@lee2019]">CRS</abbr> [@lee2019]').html
    assert '<abbr title="[@lee2019]">CRS</abbr>' in html
    assert html.count('href="#ref-lee2019"') == 1
