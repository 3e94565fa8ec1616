"""Caching, the Server header, formula-safe CSV for any separator, LIKE wildcards in admin search."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import date, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms.csvutil import BOM, csv_text, iso, safe_cell
from lms.serverheader import quiet_server_headers
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_signed_in_pages_account_pages_and_csv_are_not_stored(app, client, auth):
    assert "no-store" not in client.get("/courses").headers.get("Cache-Control", "")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    auth.login("admin")
    for path in ("/dashboard", "/courses", "/account", "/admin/users"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    export = client.get("/admin/users.csv")
    assert export.mimetype == "text/csv"
    assert export.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_cells_are_formula_safe_for_any_separator(separator):
    evil = ["=1+1", "a;=HYPERLINK(1)", "b\t=cmd", " @SUM(A1)", "-2+3", "+x", "ok;fine"]
    text = csv_text([evil])
    assert text.startswith(BOM)
    text = text.removeprefix(BOM)
    # A spreadsheet splitting on this separator (and honouring quotes) sees no cell starting a formula.
    cells = next(csv.reader(io.StringIO(text), delimiter=separator))
    assert all(cell.lstrip(' "')[:1] not in "=+-@" for cell in cells), cells
    # Read back with the right separator, nothing was lost but the apostrophe guards.
    assert [c.replace("'", "") for c in next(csv.reader(io.StringIO(text)))] == evil


def test_csv_dates_are_iso_8601_with_offset():
    assert iso(datetime(2026, 12, 1, 9, 5)) == "2026-12-01T09:05:00+00:00"
    assert safe_cell(datetime(2026, 12, 1, 9, 5)) == "2026-12-01T09:05:00+00:00"
    assert safe_cell(date(2026, 12, 1)) == "2026-12-01"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("-0.25", "-0.25"),  # a negative number stays a number
        ("-12", "-12"),
        ("-1+2", "'-1+2"),  # anything more is guarded
        ("-", "'-"),
        (";x", "';x"),
        (",x", "',x"),
        ("\tx", "'\tx"),
        (None, ""),
    ],
)
def test_negative_numbers_are_data_and_everything_else_is_guarded(value, cell):
    assert safe_cell(value) == cell


def test_admin_search_treats_like_wildcards_literally(app, client, auth):
    factories.create_user(app, email="ana@example.org", full_name="Ana Percent")
    factories.create_user(app, email="bo_b@example.org", full_name="Bob 100% Sure")
    auth.login("admin")
    assert "Ana Percent" not in client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "Bob 100% Sure" in client.get("/admin/users?q=100%25").get_data(as_text=True)
    found = client.get("/admin/users?q=o_b").get_data(as_text=True)
    assert "Bob 100% Sure" in found
    assert "Ana Percent" not in client.get("/admin/users?q=a_a").get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_werkzeug_server_sends_no_server_header(app):
    quiet_server_headers()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/login") as response:
            assert response.headers.get("Server") is None
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.smoke
def test_gunicorn_sends_no_server_header(migrated, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "LMS_CONFIG": "testing",
        "LMS_DATABASE_URL": migrated,
        "LMS_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # --preload imports the app before the socket listens; once a worker boots, a request waits for it.
        assert proc.stderr is not None
        log = []
        for line in proc.stderr:
            log.append(line)
            if "Booting worker" in line:
                break
        else:
            pytest.fail("gunicorn did not start:\n" + "".join(log))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as response:
            assert response.status == 200
            assert response.headers.get("Server") is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_deployment_doc_names_the_trusted_headers():
    text = (ROOT / "docs" / "deployment.md").read_text()
    assert "LMS_TRUSTED_PROXIES" in text
    assert "X-Forwarded-Host" in text and "never" in text
