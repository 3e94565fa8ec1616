"""One time zone, 24-hour clock with the zone named; proper country collation and names; catalog status."""

from __future__ import annotations

from datetime import datetime

from lms.auth.forms import country_choices
from lms.i18n import collation_key, country_name
from lms.templating import format_datetime
from tests import factories
from tests.packages import sync, write_package


def test_datetimes_use_the_site_zone_24_hour_clock_and_name_the_zone():
    winter = datetime(2026, 12, 1, 13, 5)  # stored as naive UTC
    assert format_datetime(winter, zone="Europe/Berlin") == "01 Dec 2026 14:05 CET"
    assert format_datetime(datetime(2026, 7, 1, 21, 30), zone="Europe/Berlin") == "01 Jul 2026 23:30 CEST"
    assert format_datetime(winter, zone="UTC") == "01 Dec 2026 13:05 UTC"
    assert format_datetime(None) == "—"


def test_tests_fix_the_zone(app):
    assert app.config["TIMEZONE"] == "Europe/Berlin"


def test_admin_pages_show_local_times_and_country_names(app, client, auth):
    info = factories.create_user(app, email="ana@example.org")
    auth.login("admin")
    html = client.get(f"/admin/users/{info.id}").get_data(as_text=True)
    assert "United States" in html
    assert "<dd>US</dd>" not in html


def test_country_list_is_sorted_by_collation():
    names = [c.label for c in country_choices()][1:]
    assert names.index("Åland Islands") < names.index("Albania")
    assert names.index("Congo") < names.index("Côte d'Ivoire") < names.index("Croatia")
    assert names == sorted(names, key=collation_key)
    assert country_name("CI") == "Côte d'Ivoire"


def test_catalog_cards_show_enrolled_and_completed(app, client, auth, tmp_path):
    sync(app, write_package(tmp_path, lessons=1, quiz=False))
    sync(app, write_package(tmp_path, slug="other-course", title="Other course", lessons=1, quiz=False))
    auth.login("learner")
    assert "Enrolled" not in client.get("/courses").get_data(as_text=True)
    client.post("/courses/test-course/enrol")
    client.post("/courses/other-course/enrol")
    client.post("/courses/test-course/lessons/l1/complete")
    client.get("/dashboard")  # shows (and so clears) the flashed messages
    html = client.get("/courses").get_data(as_text=True)
    cards = html[html.index('class="course-grid"') :]
    other_card = cards[cards.index(">Other course<") : cards.index(">Test course<")]
    test_card = cards[cards.index(">Test course<") :]
    assert "Completed" in test_card
    assert "Enrolled" in other_card and "Completed" not in other_card


def test_specialties_map_to_one_controlled_list():
    from lms.specialties import SPECIALTIES, normalise_all, normalise_specialty

    assert normalise_specialty("Clinical Pharmacy") == normalise_specialty("pharmacy") == "Pharmacy"
    assert (
        normalise_specialty("Medical Genetics")
        == normalise_specialty(" medical  genetics ")
        == "Medical genetics"
    )
    assert normalise_specialty("Genetic Counselling") == "Genetic counselling"
    assert normalise_specialty("Ophthalmic Nursing") == "Nursing"
    assert normalise_specialty("Hematology") == "Haematology"
    assert normalise_specialty("tropical MEDICINE") == "Tropical medicine"  # unknown: kept, tidied
    assert normalise_all(["Pharmacy", "Clinical Pharmacy", "Oncology pharmacy"]) == ["Pharmacy"]
    assert "Pharmacy" in SPECIALTIES


def test_catalog_filter_and_profiles_use_the_controlled_names(app, client, auth, tmp_path):
    sync(app, write_package(tmp_path, specialties='["Clinical Pharmacy", "Medical Genetics"]', quiz=False))
    sync(app, write_package(tmp_path, slug="b", title="B course", specialties='["pharmacy"]', quiz=False))
    html = client.get("/courses").get_data(as_text=True)
    assert 'value="Pharmacy"' in html and "Clinical Pharmacy" not in html
    assert html.count('<option value="Pharmacy"') == 1
    assert "B course" in client.get("/courses?specialty=Clinical+pharmacy").get_data(as_text=True)
    auth.login("learner")
    form = {"full_name": "Ana", "profession": "pharmacist", "specialty": "Clinical Pharmacy", "country": "DE"}
    assert client.post("/account", data=form).status_code == 302
    assert '<option selected value="Pharmacy">' in client.get("/account").get_data(as_text=True)


def _package_with_references(tmp_path):
    folder = write_package(tmp_path, lessons=2, quiz=False)
    manifest_path = folder / "course.toml"
    text = manifest_path.read_text()
    extra = (
        '\n[[references]]\nkey = "unused2020"\ncitation = "Unused U. Never cited anywhere. 2020."\n'
        '\n[[references]]\nkey = "b2021"\ncitation = "Bee B. Cited second in the manifest. 2021."\n'
    )
    manifest_path.write_text(text.replace("\n[completion]", extra + "\n[completion]"))
    (folder / "lessons" / "l2.md").write_text(
        '+++\nid = "l2"\ntitle = "Lesson 2"\n+++\n\n## Learning objectives\n\n- Learn\n\n'
        "First B [@b2021], then Lee [@lee2019].\n"
    )
    return folder


def test_course_lists_only_cited_references_and_lessons_list_them_in_citation_order(
    app, client, auth, tmp_path
):
    sync(app, _package_with_references(tmp_path))
    course = client.get("/courses/test-course").get_data(as_text=True)
    assert "Never cited anywhere" not in course
    assert '<li id="ref-lee2019" value="1">' in course and '<li id="ref-b2021" value="3">' in course
    auth.login("learner")
    client.post("/courses/test-course/enrol")
    lesson = client.get("/courses/test-course/lessons/l2").get_data(as_text=True)
    refs = lesson[lesson.index('id="lesson-refs"') :]
    assert refs.index("Bee B.") < refs.index("Lee DW")


def test_outbox_shows_times_in_the_site_zone(app, client, auth):
    factories.create_user(app, email="ana@example.org")
    client.post("/forgot-password", data={"email": "ana@example.org"})
    auth.login("admin")
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert " CET</td>" in html or " CEST</td>" in html
