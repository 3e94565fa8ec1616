"""The exam-day scenario (issue 13) for Locust: log in, wait for the start, answer page by page, submit.

Driven by bench/loadtest.py (`make loadtest`) and the smoke tests through bench/examday.py, which set:

- ``LMS_LOAD_HOSTS``: comma-separated app processes (separate gunicorn masters). Each examinee changes
  process on every page, so its session is used on all of them; a process that stops answering
  (connection refused or reset, 502/503/504) is left for the next one ("failover").
- ``LMS_LOAD_FIRST`` / ``LMS_LOAD_USERS``: examinees ``examinee{n}@load.example.org``, password
  ``LMS_LOAD_PASSWORD``, each with its own client address in ``X-Forwarded-For`` (the app trusts the load
  generator as a proxy: ``LMS_TRUSTED_PROXIES``). Locust quits once every examinee has read the review.
- ``LMS_LOAD_START_AT`` (epoch seconds) and ``LMS_LOAD_SPIKE_SECONDS``: examinees log in during the ramp,
  then each presses Start at a random moment of the spike window, all within it.
- ``LMS_LOAD_THINK_MIN`` / ``LMS_LOAD_THINK_MAX``: think time between pages (30–90 s on exam day).
- ``LMS_LOAD_RETRY_SECONDS``: how long an examinee keeps retrying one step through an outage.
- ``LMS_LOAD_RESULT_FILE``: written at the end: response times by request name, every failure with its
  time, the answer ids and attempt ids the app acknowledged (autosave JSON 200, submit redirect to the
  review), so the harness can check each one is in the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
from html.parser import HTMLParser
from typing import Any

import gevent
from locust import HttpUser, events, task
from locust.exception import StopUser

HOSTS = [h for h in os.environ.get("LMS_LOAD_HOSTS", "").split(",") if h]
COURSE = os.environ.get("LMS_LOAD_COURSE", "exam-day")
QUIZ = os.environ.get("LMS_LOAD_QUIZ", "final")
PASSWORD = os.environ.get("LMS_LOAD_PASSWORD", "examinee password 2026")
FIRST = int(os.environ.get("LMS_LOAD_FIRST", "0"))
USERS = int(os.environ.get("LMS_LOAD_USERS", "0"))
THINK = (float(os.environ.get("LMS_LOAD_THINK_MIN", "30")), float(os.environ.get("LMS_LOAD_THINK_MAX", "90")))
START_AT = float(os.environ.get("LMS_LOAD_START_AT", "0"))
SPIKE = float(os.environ.get("LMS_LOAD_SPIKE_SECONDS", "60"))
RETRY_SECONDS = float(os.environ.get("LMS_LOAD_RETRY_SECONDS", "180"))
RESULT_FILE = os.environ.get("LMS_LOAD_RESULT_FILE", "")
#: statuses that mean "this process or its database is not answering now": try again, elsewhere
UNAVAILABLE = {0, 500, 502, 503, 504}

#: processes that refused a connection recently, skipped until then (what a proxy's health check does)
DOWN_SECONDS = 5.0
_down: dict[str, float] = {}
_numbers = itertools.count(FIRST)
_lock = threading.Lock()
_record: dict[str, Any] = {
    "samples": {},
    "failures": [],
    "acked_answers": [],
    "acked_submissions": [],
    "finished": 0,
    "ended": 0,
    "switched": 0,
    "failovers": 0,
}


class Fields(HTMLParser):
    """The answer fields of an attempt page (``q<id>`` or ``q<id>-<part>``) with the values one may pick."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self.csrf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name == "csrf_token":
            self.csrf = a.get("value") or ""
        elif tag == "input" and re.match(r"^q\d+(-|$)", name):
            values = self.fields.setdefault(name, [])
            if a.get("type") in {"radio", "checkbox"} and a.get("value"):
                values.append(a["value"] or "")
        elif tag == "select" and re.match(r"^q\d+-", name):
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select and a.get("value"):
            self.fields[self._select].append(a["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else ""


@events.request.add_listener
def _sample(name: str, response_time: float, exception: Any, **_kw: Any) -> None:
    if exception is None:
        _record["samples"].setdefault(name, []).append(round(response_time, 2))
    else:
        _record["failures"].append({"name": name, "t": time.time(), "error": str(exception)[:200]})


@events.quitting.add_listener
def _write(**_kw: Any) -> None:
    if RESULT_FILE:
        with open(RESULT_FILE, "w") as out:
            json.dump(_record, out)


class Examinee(HttpUser):
    # Think time is spent inside the task, between pages, so the one exam runs start to finish.
    wait_time = staticmethod(lambda: 0)  # type: ignore[assignment]

    def on_start(self) -> None:
        with _lock:
            self.n = next(_numbers)
        self.ip = f"10.{self.n // 65536 % 256}.{self.n // 256 % 256}.{self.n % 256}"
        self.client.headers["X-Forwarded-For"] = self.ip
        self.hosts = HOSTS or [self.host]
        self.turn = self.n
        self.seen: set[str] = set()

    def go(self, method: str, path: str, name: str, ok: tuple[int, ...], **kwargs: Any) -> Any:
        """One step on the current process; through an outage it is retried, on the next process, until it
        succeeds or ``RETRY_SECONDS`` pass. Every try that fails counts as an error in the results.

        Redirects are not followed. Production cookies are Secure (browsers reach the app over HTTPS
        through the proxy); the load generator talks plain HTTP to gunicorn, so it sends them anyway.
        """
        deadline = time.time() + RETRY_SECONDS
        while True:
            host = self.hosts[self.turn % len(self.hosts)]
            if _down.get(host, 0) > time.time() and any(_down.get(h, 0) <= time.time() for h in self.hosts):
                self.turn += 1
                continue
            with self.client.request(
                method, host + path, name=name, allow_redirects=False, catch_response=True, **kwargs
            ) as response:
                for cookie in self.client.cookies:
                    cookie.secure = False
                if response.status_code in ok:
                    response.success()
                    self.seen.add(host)
                    return response
                response.failure(f"{response.status_code} from {host}")
                if response.status_code == 0:
                    _down[host] = time.time() + DOWN_SECONDS
                if response.status_code not in UNAVAILABLE or time.time() > deadline:
                    raise StopUser()
            self.turn += 1  # fail over to the next process
            _record["failovers"] += 1
            gevent.sleep(0.5)

    def think(self) -> None:
        gevent.sleep(random.uniform(*THINK))

    @task
    def sit_the_exam(self) -> None:
        try:
            self._exam()
        finally:
            with _lock:
                _record["ended"] += 1
                done = USERS and _record["ended"] >= USERS
            if done:  # everyone has finished (or given up): the run is over
                gevent.spawn_later(0.1, self.environment.runner.quit)
        raise StopUser()

    def _exam(self) -> None:
        html = self.go("GET", "/login", "login page", (200,)).text
        self.go(
            "POST",
            "/login",
            "log in",
            (302,),
            data={
                "email": f"examinee{self.n}@load.example.org",
                "password": PASSWORD,
                "csrf_token": _csrf(html),
            },
        )
        html = self.go("GET", f"/courses/{COURSE}", "course page", (200,)).text
        token = _csrf(html)
        self.go(
            "POST", f"/courses/{COURSE}/enrol", "enrol", (302,), data={"action": "enrol", "csrf_token": token}
        )
        # Everyone presses Start within the spike window that follows the login ramp.
        gevent.sleep(max(0.0, START_AT + random.uniform(0, SPIKE) - time.time()))
        self.turn += 1
        self.go("GET", f"/courses/{COURSE}/quizzes/{QUIZ}", "quiz start page", (200,))
        r = self.go(
            "POST",
            f"/courses/{COURSE}/quizzes/{QUIZ}/start",
            "start attempt",
            (302,),
            data={"csrf_token": token},
        )
        attempt = re.sub(r"^https?://[^/]+", "", r.headers.get("Location", ""))
        found = re.match(r"^/attempts/(\d+)$", attempt)
        if not found:
            raise StopUser()
        attempt_id = int(found.group(1))
        page, pages = 1, 1
        while True:
            self.turn += 1  # every page on the next process: the session must be valid on all of them
            name = "first attempt page" if page == 1 else "attempt page"
            html = self.go("GET", f"{attempt}?page={page}", name, (200,)).text
            found = re.search(r"Page (\d+) of (\d+)", html)
            pages = int(found.group(2)) if found else 1
            parser = Fields()
            parser.feed(html)
            answers = {
                field: random.choice(values) if values else "CD19" for field, values in parser.fields.items()
            }
            self.think()
            r = self.go(
                "POST",
                f"{attempt}/save",
                "autosave",
                (200,),
                data={**answers, "csrf_token": parser.csrf or token},
                headers={"Accept": "application/json"},
            )
            if r.json().get("saved") == len({f.split("-", 1)[0] for f in answers}):
                _record["acked_answers"].extend({int(f.split("-", 1)[0][1:]) for f in answers})
            if page >= pages:
                break
            page += 1
        self.turn += 1
        r = self.go("POST", f"{attempt}/submit", "submit", (302,), data={"csrf_token": token})
        if r.headers.get("Location", "").endswith(f"/attempts/{attempt_id}/review"):
            _record["acked_submissions"].append(attempt_id)
        self.turn += 1
        self.go("GET", f"{attempt}/review", "review", (200,))
        with _lock:
            _record["finished"] += 1
            _record["switched"] += len(self.seen) > 1
