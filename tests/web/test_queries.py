"""Pages run a constant number of SQL queries whatever the course size."""

from __future__ import annotations

import pytest

from tests.packages import sync, write_package


@pytest.fixture
def sized_courses(app, tmp_path, auth, client):
    sync(app, write_package(tmp_path / "small", slug="small", lessons=1))
    sync(app, write_package(tmp_path / "large", slug="large", lessons=200))
    auth.login()
    for slug in ("small", "large"):
        client.post(f"/courses/{slug}/enrol", data={"action": "enrol"})
        client.post(f"/courses/{slug}/lessons/l1/complete")
    return client


def _queries(count_queries, client, path: str) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert counter.count > 0, "the counter saw no query at all"
    return counter.count


@pytest.mark.parametrize(
    "template",
    ["/courses/{slug}", "/courses/{slug}/lessons/l1", "/courses/{slug}/resume"],
)
def test_course_pages_constant_queries(sized_courses, count_queries, template):
    client = sized_courses
    if template.endswith("resume"):
        # A redirect: count it too.
        with count_queries() as small:
            client.get(template.format(slug="small"))
        with count_queries() as large:
            client.get(template.format(slug="large"))
        assert small.count == large.count
        return
    small = _queries(count_queries, client, template.format(slug="small"))
    large = _queries(count_queries, client, template.format(slug="large"))
    assert small == large, f"{template}: {small} queries for 1 lesson, {large} for 200"


def test_catalog_and_dashboard_constant_in_number_of_courses(app, tmp_path, auth, client, count_queries):
    sync(app, write_package(tmp_path, slug="one", lessons=2))
    auth.login()
    client.post("/courses/one/enrol", data={"action": "enrol"})
    catalog_one = _queries(count_queries, client, "/courses")
    dashboard_one = _queries(count_queries, client, "/dashboard")
    for n in range(2, 7):
        sync(app, write_package(tmp_path, slug=f"course-{n}", lessons=n * 10))
        client.post(f"/courses/course-{n}/enrol", data={"action": "enrol"})
    assert _queries(count_queries, client, "/courses") == catalog_one
    assert _queries(count_queries, client, "/dashboard") == dashboard_one
