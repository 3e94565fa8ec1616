"""Where course packages come from: bundled folders, installed distributions, zip uploads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path

from lms.coursepacks.reader import PackageFiles, read_folder, read_zip

BUNDLED = "bundled"
UPLOAD = "upload"


@dataclass(frozen=True)
class FoundPackage:
    source: str  # "bundled", "entry-point:<distribution>", "upload"
    label: str  # what to show in messages (a path or an entry point)
    files: PackageFiles


def read_path(path: Path, source: str = BUNDLED) -> FoundPackage:
    """A folder or a .zip given on the command line."""
    if path.is_file() and path.suffix.lower() == ".zip":
        return FoundPackage(UPLOAD if source == BUNDLED else source, str(path), read_zip(path, path.name))
    return FoundPackage(source, str(path), read_folder(path))


def bundled_packages(root: Path) -> list[FoundPackage]:
    """Every folder directly under ``courses/``."""
    if not root.is_dir():
        return []
    return [
        read_path(child)
        for child in sorted(root.iterdir())
        if child.is_dir() and not child.name.startswith(".")
    ]


def entry_point_packages(entry_points: Iterable[EntryPoint]) -> list[FoundPackage]:
    """Packages exposed by installed distributions in the ``lms.courses`` entry point group.

    An entry point names a callable returning the package folder (or a path attribute).
    """
    found = []
    for ep in entry_points:
        dist = ep.dist.name if ep.dist else "unknown"
        source = f"entry-point:{dist}"
        label = f"entry point {ep.name} ({dist})"
        try:
            target = ep.load()
            path = Path(target() if callable(target) else target)
        except Exception as exc:  # a broken plugin is reported, never crashes the sync
            files = PackageFiles(label=label)
            files.problems.append((label, f"cannot load the entry point: {exc}"))
            found.append(FoundPackage(source, label, files))
            continue
        found.append(FoundPackage(source, label, read_folder(path)))
    return found


def upload_package(data: bytes, filename: str) -> FoundPackage:
    return FoundPackage(UPLOAD, filename, read_zip(data, filename))
