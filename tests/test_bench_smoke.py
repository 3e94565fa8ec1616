"""A short smoke run of the benchmark script (the real runs are `make bench` / `make loadtest`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke


def test_bench_prints_ratios(capsys):
    path = Path(__file__).resolve().parents[1] / "bench" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--requests", "2"]) == 0
    out = capsys.readouterr().out
    for label in (
        "bare Flask hello (baseline)",
        "catalog /courses",
        "course page",
        "lesson page",
        "dashboard",
    ):
        assert label in out
    assert "× bare Flask" in out


def test_bulk_issue_bench_smoke(capsys):
    path = Path(__file__).resolve().parents[1] / "bench" / "certificates_bench.py"
    spec = importlib.util.spec_from_file_location("certificates_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--claims", "3"]) == 0
    assert "bulk issue: 3 of 3 claims" in capsys.readouterr().out
