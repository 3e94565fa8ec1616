"""A course package distributed as a Python package, found through the ``lms.courses`` entry point."""

from pathlib import Path


def package_path() -> Path:
    return Path(__file__).parent / "course"
