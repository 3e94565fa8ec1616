"""The memoised url_for (lms/urlcache.py): the same URLs as Flask builds, built once where that is safe."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from lms import urlcache
from lms.urlcache import memoised_url_for


class Builder:
    """Stands in for ``app.url_for``: records every build, returns a path naming its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, endpoint: str, **values) -> str:
        self.calls.append((endpoint, values))
        return f"/{endpoint}?" + "&".join(f"{k}={v!r}" for k, v in values.items())


@pytest.fixture
def ctx_app() -> Flask:
    return Flask("urlcache-test")


def test_same_endpoint_and_values_are_built_once(ctx_app):
    build = Builder()
    cached = memoised_url_for(build, static_changes=False)
    with ctx_app.test_request_context("/"):
        first = cached("catalog.detail", slug="car-t", _anchor=None, _external=None)
        again = cached("catalog.detail", slug="car-t", _anchor=None, _external=None)
        other = cached("catalog.detail", slug="retina")
    assert first == again and first != other
    assert [c[1].get("slug") for c in build.calls] == ["car-t", "retina"]


@pytest.mark.parametrize(
    "endpoint, values",
    [
        ("catalog.index", {"_external": True}),  # absolute: depends on the host
        ("catalog.index", {"_anchor": "top"}),
        ("catalog.index", {"_method": "POST"}),
        (".index", {}),  # blueprint-relative: depends on the request's blueprint
        ("catalog.index", {"q": True}),  # bool: equal to 1 as a key, "True" in a URL
        ("catalog.index", {"q": 1.5}),
        ("catalog.index", {"tags": ["a", "b"]}),  # unhashable
    ],
)
def test_what_may_differ_is_built_every_time(ctx_app, endpoint, values):
    build = Builder()
    cached = memoised_url_for(build, static_changes=False)
    with ctx_app.test_request_context("/"):
        cached(endpoint, **values)
        cached(endpoint, **values)
    assert len(build.calls) == 2


def test_bool_and_int_values_do_not_share_an_entry(ctx_app):
    build = Builder()
    cached = memoised_url_for(build, static_changes=False)
    with ctx_app.test_request_context("/"):
        assert cached("catalog.index", page=1) == "/catalog.index?page=1"
        assert cached("catalog.index", page=True) == "/catalog.index?page=True"
        assert cached("catalog.index", page="1") == "/catalog.index?page='1'"


def test_script_root_is_part_of_the_key(ctx_app):
    build = Builder()
    calls = []

    def rooted(endpoint: str, **values) -> str:
        from flask import request

        calls.append(request.script_root)
        return request.script_root + build(endpoint, **values)

    cached = memoised_url_for(rooted, static_changes=False)
    with ctx_app.test_request_context("/", base_url="http://localhost/"):
        plain = cached("catalog.index")
    with ctx_app.test_request_context("/", base_url="http://localhost/lms"):
        mounted = cached("catalog.index")
    assert plain == "/catalog.index?" and mounted == "/lms/catalog.index?"
    assert calls == ["", "/lms"]


def test_static_urls_are_rebuilt_while_files_may_change(ctx_app):
    build = Builder()
    dev = memoised_url_for(build, static_changes=True)
    with ctx_app.test_request_context("/"):
        dev("static", filename="css/app.css")
        dev("static", filename="css/app.css")
    assert len(build.calls) == 2
    prod = memoised_url_for(build, static_changes=False)
    with ctx_app.test_request_context("/"):
        prod("static", filename="css/app.css")
        prod("static", filename="css/app.css")
    assert len(build.calls) == 3


def test_outside_a_request_nothing_is_kept(ctx_app):
    build = Builder()
    cached = memoised_url_for(build, static_changes=False)
    with ctx_app.app_context():
        cached("catalog.index")
        cached("catalog.index")
    assert len(build.calls) == 2 and not cached.cache


def test_a_full_cache_starts_afresh(ctx_app, monkeypatch):
    monkeypatch.setattr(urlcache, "MAX_ENTRIES", 3)
    build = Builder()
    cached = memoised_url_for(build, static_changes=False)
    with ctx_app.test_request_context("/"):
        for n in range(10):
            assert cached("quizzes.attempt", attempt_id=n) == f"/quizzes.attempt?attempt_id={n}"
    assert len(cached.cache) <= 3


def test_a_failed_build_raises_and_is_not_kept(ctx_app):
    def failing(endpoint: str, **values) -> str:
        raise LookupError(endpoint)

    cached = memoised_url_for(failing, static_changes=False)
    with ctx_app.test_request_context("/"), pytest.raises(LookupError):
        cached("nowhere")
    assert not cached.cache


def test_the_app_builds_what_flask_builds(app):
    """Through the real app: every URL the memo returns is the one Werkzeug builds, static hashes included,
    behind a mount point too."""
    cases = [
        ("catalog.index", {}),
        ("catalog.detail", {"slug": "car-t-cell-therapy"}),
        ("catalog.index", {"q": "AAV vectors & more", "specialty": "Ophthalmology"}),
        ("learning.dashboard", {}),
        ("quizzes.attempt", {"attempt_id": 42}),
        ("static", {"filename": "css/app.css"}),
        ("static", {"filename": "js/app.js"}),
    ]
    for root in ("", "/lms"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in cases:
                expected = Flask.url_for(app, endpoint, **values)
                assert url_for(endpoint, **values) == expected
                assert url_for(endpoint, **values) == expected  # second time from the memo
                assert app.jinja_env.globals["url_for"](endpoint, **values) == expected
            assert url_for("static", filename="css/app.css").startswith(f"{root}/static/css/app.css?v=")
    assert app.url_for.cache, "nothing was memoised"
