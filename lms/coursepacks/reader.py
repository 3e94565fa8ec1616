"""Reading package files from a folder or a zip, refusing unsafe paths and oversized content."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_FILES = 500
MEDIA_SUFFIXES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
IGNORED = re.compile(r"(^|/)(\.[^/]*|__pycache__|__MACOSX|Thumbs\.db)(/|$)")


@dataclass
class PackageFiles:
    """The safe files of a package (posix path → bytes) and the problems met while reading it."""

    label: str
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, message)

    def add(self, path: str, data: bytes) -> None:
        if len(data) > MAX_FILE_BYTES:
            self.problems.append((path, f"file is too large ({len(data) // 1024} KiB; the limit is 2 MiB)"))
            return
        self.files[path] = data


def unsafe_path_reason(name: str) -> str | None:
    """Why an archive member name is unsafe, or None."""
    if not name or "\x00" in name:
        return "empty or invalid file name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path is not allowed"
    if "\\" in name:
        return "backslash in path is not allowed"
    if ".." in PurePosixPath(name).parts:
        return '".." in path is not allowed'
    return None


def read_folder(root: Path) -> PackageFiles:
    result = PackageFiles(label=str(root))
    if not root.is_dir():
        result.problems.append((str(root), "is not a folder"))
        return result
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if IGNORED.search(rel):
            continue
        if path.is_symlink():
            result.problems.append((rel, "symbolic links are not allowed in a course package"))
            continue
        if path.is_dir():
            continue
        if len(result.files) >= MAX_FILES:
            result.problems.append((rel, f"package has more than {MAX_FILES} files"))
            break
        size = path.stat().st_size
        total += size
        if total > MAX_TOTAL_BYTES:
            result.problems.append((rel, "package is larger than 20 MiB"))
            break
        if size > MAX_FILE_BYTES:
            result.problems.append((rel, f"file is too large ({size // 1024} KiB; the limit is 2 MiB)"))
            continue
        result.add(rel, path.read_bytes())
    return result


def read_zip(data: bytes | Path, label: str = "upload.zip") -> PackageFiles:
    """Read a zip; a single top-level folder holding ``course.toml`` is treated as the package root."""
    result = PackageFiles(label=label)
    raw = data.read_bytes() if isinstance(data, Path) else data
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        result.problems.append((label, "is not a valid zip file"))
        return result
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        bad = False
        for member in members:
            reason = unsafe_path_reason(member.filename)
            if reason:
                result.problems.append((member.filename, reason))
                bad = True
            elif (member.external_attr >> 16) & 0o170000 == 0o120000:
                result.problems.append(
                    (member.filename, "symbolic links are not allowed in a course package")
                )
                bad = True
        if bad:
            return result  # nothing from an archive with unsafe paths is imported
        members = [m for m in members if not IGNORED.search(m.filename)]
        if len(members) > MAX_FILES:
            result.problems.append((label, f"package has more than {MAX_FILES} files"))
            return result
        if sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
            result.problems.append((label, "package is larger than 20 MiB when unpacked"))
            return result
        prefix = _common_root(m.filename for m in members)
        for member in members:
            rel = member.filename[len(prefix) :]
            if member.file_size > MAX_FILE_BYTES:
                result.problems.append(
                    (rel, f"file is too large ({member.file_size // 1024} KiB; the limit is 2 MiB)")
                )
                continue
            try:
                with archive.open(member) as handle:
                    content = handle.read(MAX_FILE_BYTES + 1)  # never trust the header's size alone
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                # A corrupt or lying archive (bad CRC, truncated data, encryption): refuse it as a whole.
                result.problems.append((rel or label, f"cannot be read from the zip ({exc})"))
                continue
            result.add(rel, content)
    return result


def _common_root(names: object) -> str:
    names = list(names)  # type: ignore[call-overload]
    if "course.toml" in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/course.toml" in names:
            return top + "/"
    return ""
