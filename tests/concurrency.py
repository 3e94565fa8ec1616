"""Run the same work in several threads at once, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def run_together(worker: Callable[[Any, Callable[[], None]], Any], args: Sequence[Any]) -> tuple[list, list]:
    """Call ``worker(arg, wait)`` in one thread per arg; each calls ``wait()`` when its set-up is done.

    Returns the workers' results and the reprs of any exceptions (a test asserts the latter is empty).
    """
    barrier = threading.Barrier(len(args))
    results: list = [None] * len(args)
    errors: list[str] = []

    def run(i: int, arg: Any) -> None:
        try:
            results[i] = worker(arg, barrier.wait)
        except Exception as exc:  # reported to the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors
