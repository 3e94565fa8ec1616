"""Role guards: one table of protected routes × roles."""

from __future__ import annotations

import pytest

# (path, the least role that may open it). Anonymous users are sent to log in; others get 403.
PROTECTED = [
    ("/dashboard", "learner"),
    ("/account", "learner"),
    ("/account/password", "learner"),
    ("/admin/users", "admin"),
    ("/admin/outbox", "admin"),
    ("/admin/users.csv", "admin"),
]

ALLOWED = {
    "learner": {"learner"},
    "educator": {"learner", "educator"},
    "admin": {"learner", "admin"},
}


@pytest.mark.parametrize(("path", "needed"), PROTECTED)
def test_anonymous_is_sent_to_login(client, path, needed):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["learner", "educator", "admin"])
@pytest.mark.parametrize(("path", "needed"), PROTECTED)
def test_role_table(client, auth, path, needed, role):
    auth.login(role)
    response = client.get(path)
    if needed in ALLOWED[role]:
        assert response.status_code == 200, (path, role)
    else:
        assert response.status_code == 403, (path, role)
        assert "You do not have access" in response.get_data(as_text=True)


def test_navigation_fits_roles(client, auth):
    auth.login("learner")
    assert "/admin/users" not in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout")
    auth.login("admin")
    assert "/admin/users" in client.get("/dashboard").get_data(as_text=True)


def test_admin_grants_and_revokes_roles_and_disables(app, client, auth):
    target = auth.user("learner")
    auth.login("admin")
    assert (
        client.post(
            f"/admin/users/{target.id}/roles", data={"role": "educator", "action": "grant"}
        ).status_code
        == 302
    )
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "grant role" in page
    # Disabling needs a reason.
    assert client.post(f"/admin/users/{target.id}/disable", data={"reason": ""}).status_code == 400
    assert client.post(f"/admin/users/{target.id}/disable", data={"reason": "Duplicate"}).status_code == 302
    client.post("/logout")
    response = client.post("/login", data={"email": target.email, "password": auth.password})
    assert response.status_code == 400


def test_admin_cannot_disable_self(client, auth):
    me = auth.login("admin")
    response = client.post(f"/admin/users/{me.id}/disable", data={"reason": "oops"})
    assert response.status_code == 400
    assert "cannot disable your own" in response.get_data(as_text=True)


def test_admin_user_404(client, auth):
    auth.login("admin")
    assert client.get("/admin/users/999999").status_code == 404


def test_admin_users_sort_and_csv_export(app, client, auth):
    from tests import factories

    factories.create_user(app, email="zed@example.org", full_name="=HYPERLINK(1)")
    factories.create_user(app, email="amy@example.org", full_name="Amy Adams")
    auth.login("admin")
    html = client.get("/admin/users?sort=name").get_data(as_text=True)
    assert html.index("Amy Adams") < html.index("Test admin")
    assert 'aria-sort="ascending"' in html
    response = client.get("/admin/users.csv?q=example.org&sort=email")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffemail,full_name,profession")  # UTF-8 with a byte-order mark
    lines = text.splitlines()
    assert lines[1].startswith("admin@example.org,")
    assert any(line.startswith("zed@example.org,'=HYPERLINK(1),") for line in lines)  # no formula injection
    client.post("/logout")
    auth.login("learner")
    assert client.get("/admin/users.csv").status_code == 403
