"""Bad input never gives a 500: typed JSON, NUL bytes, bad Host headers, overlong values, damaged packages."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from lms.coursepacks import reader
from lms.coursepacks.reader import read_folder, read_zip
from lms.coursepacks.svg import svg_problems
from tests.packages import write_package, zip_folder


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"email": 5, "password": 7}, {"email": ["a", 3]}, {"email": {"x": 1}}, "text", None],
)
def test_wrongly_typed_json_bodies_get_a_json_400(client, body):
    import json

    response = client.post("/login", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["detail"]


def test_unreadable_json_gets_a_400(client):
    response = client.post("/forgot-password", data="{broken", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/courses?q=a%00b", None),
        ("get", "/courses/abc%00def", None),
        ("post", "/login", {"email": "ana\x00@example.org", "password": "x" * 12}),
        ("post", "/forgot-password", {"email": "ana@example.org\x00"}),
        ("get", "/reset-password/abc%00", None),
    ],
)
def test_nul_bytes_in_any_parameter_get_a_readable_400(client, method, path, data):
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_nul_bytes_in_signed_in_forms(client, auth):
    auth.login("admin")
    assert client.get("/admin/users?q=%00").status_code == 400
    profile = client.post("/account", data={"full_name": "A\x00B", "profession": "nurse"})
    assert profile.status_code == 400


@pytest.mark.parametrize("host", ["exa mple.org", "a" * 300, "évil.example", "<script>", "host:port"])
def test_invalid_host_header_gets_a_400_page(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert "<h1>" in response.get_data(as_text=True)


def test_overlong_values_get_a_400(client):
    assert client.get("/courses?q=" + "a" * 5000).status_code == 400
    assert client.get("/courses/" + "a" * 5000).status_code == 400
    assert client.post("/login", data={"email": "a@b.org", "password": "x" * 200_000}).status_code in (
        400,
        413,
    )


# -- packages --------------------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_corrupt_member_names_the_file(tmp_path):
    noise = bytes(range(256)) * 16  # barely compressible: the member's data is long
    data = bytearray(_zip({"course.toml": b"slug = 'x'\n", "lessons/a.md": noise}, zipfile.ZIP_STORED))
    # Damage the stored bytes of the second member (just after its local header and name).
    start = data.index(b"lessons/a.md") + len("lessons/a.md") + 100
    for i in range(start, start + 30):
        data[i] ^= 0xFF
    result = read_zip(bytes(data), "bad.zip")
    assert [name for name, _ in result.problems] == ["lessons/a.md"]
    assert "damaged" in result.problems[0][1]


def test_lying_sizes_are_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_TOTAL_BYTES", 5000)
    big = _zip({"course.toml": b"a" * 4000, "lessons/a.md": b"b" * 4000})
    # Rewrite the central directory's uncompressed sizes so the archive claims to be tiny.
    patched = bytearray(big)
    index = 0
    while (index := patched.find(b"PK\x01\x02", index)) != -1:
        patched[index + 24 : index + 28] = (10).to_bytes(4, "little")
        index += 4
    result = read_zip(bytes(patched), "liar.zip")
    assert ("liar.zip", "package is larger than 20 MiB when unpacked") in result.problems or any(
        "damaged" in message for _, message in result.problems
    ), result.problems


def test_not_a_zip_and_truncated_zip(tmp_path):
    assert read_zip(b"PK\x03\x04 not really", "x.zip").problems == [("x.zip", "is not a valid zip file")]
    truncated = _zip({"course.toml": b"x" * 1000})[:-30]
    assert read_zip(truncated, "t.zip").problems


def test_fifo_in_a_package_folder_is_refused_without_hanging(tmp_path):
    folder = write_package(tmp_path)
    os.mkfifo(folder / "lessons" / "pipe.md")
    result = read_folder(folder)
    assert (
        "lessons/pipe.md",
        "is not a regular file (a pipe, socket or device is not allowed)",
    ) in result.problems


def test_unreadable_file_names_the_file(tmp_path, monkeypatch):
    folder = write_package(tmp_path)
    original = Path.read_bytes

    def read_bytes(self):
        if self.name == "l2.md":
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = read_folder(folder)
    assert ("lessons/l2.md", "cannot be read (Permission denied)") in result.problems


def test_validating_a_damaged_zip_is_a_validation_error(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "bad.zip"
    data = bytearray(zip_folder(write_package(tmp_path)))
    data[len(data) // 3 : len(data) // 3 + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    result = runner.invoke(args=["courses", "validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


# -- SVG -------------------------------------------------------------------------------------------------

SVG_HEAD = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'


@pytest.mark.parametrize(
    "inner",
    [
        b'<rect width="5" height="5" fill="url(https://evil.example/x.svg#p)"/>',
        b'<rect width="5" height="5" filter="url(//evil.example/f.svg#f)"/>',
        b'<rect width="5" height="5" style="fill: url(https://evil.example/x)"/>',
        b'<rect width="5" height="5" style="fill: \\75 rl(https://evil.example/x)"/>',
        b"<style>@import 'https://evil.example/x.css';</style>",
        b"<style>@im/**/port 'https://evil.example/x.css';</style>",
        b"<style>rect { fill: u\\72l(https://evil.example/x) }</style>",
        b"<style>@font-face { font-family: x; src: local(x) }</style>",
        b'<rect width="5" height="5" mask="url( \'https://evil.example/m\' )"/>',
    ],
)
def test_svg_refuses_every_external_reference_form(inner):
    assert svg_problems(SVG_HEAD + inner + b"</svg>")


def test_svg_refuses_processing_instructions():
    data = b'<?xml version="1.0"?><?xml-stylesheet href="https://evil.example/x.css"?>' + SVG_HEAD + b"</svg>"
    assert svg_problems(data) == ["SVG must not contain processing instructions such as <?xml-stylesheet?>"]


def test_svg_keeps_internal_references():
    ok = (
        b'<?xml version="1.0" encoding="UTF-8"?>' + SVG_HEAD + b'<defs><linearGradient id="g"/></defs>'
        b'<rect width="5" height="5" fill="url(#g)" style="stroke: url(#g)"/></svg>'
    )
    assert svg_problems(ok) == []
