"""The exam-day scenario (issue 13), for Locust: log in, start the exam, answer page by page, submit, review.

Each virtual examinee is one seeded account (``LMS_LOAD_EMAIL_PATTERN``, default
``examinee{n}@example.org``, password ``LMS_LOAD_PASSWORD``) with its own client address in
``X-Forwarded-For`` (the app must trust the load generator as a proxy: ``LMS_TRUSTED_PROXIES``). The exam is
``LMS_LOAD_COURSE`` / ``LMS_LOAD_QUIZ``, shown ``questions_per_page`` at a time; every page's answers are
autosaved before moving on. Think time between pages is ``LMS_LOAD_THINK_MIN``..``LMS_LOAD_THINK_MAX``
seconds (30–90 on exam day, under 1 s in the smoke test). Each examinee sits the exam once, then stops.

    locust -f bench/locustfile.py --headless -u 1000 -r 2 --host http://127.0.0.1:8000
"""

from __future__ import annotations

import itertools
import os
import random
import re
import threading

from locust import HttpUser, task
from locust.exception import StopUser

COURSE = os.environ.get("LMS_LOAD_COURSE", "exam-day")
QUIZ = os.environ.get("LMS_LOAD_QUIZ", "exam")
PASSWORD = os.environ.get("LMS_LOAD_PASSWORD", "examinee password 2026")
PATTERN = os.environ.get("LMS_LOAD_EMAIL_PATTERN", "examinee{n}@example.org")
THINK = (float(os.environ.get("LMS_LOAD_THINK_MIN", "30")), float(os.environ.get("LMS_LOAD_THINK_MAX", "90")))
_numbers = itertools.count()
_lock = threading.Lock()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not found:
        raise StopUser()
    return found.group(1)


class Examinee(HttpUser):
    # Think time is spent inside the task, between pages, so the one exam runs start to finish.
    wait_time = staticmethod(lambda: 0)  # type: ignore[assignment]

    def on_start(self) -> None:
        with _lock:
            self.n = next(_numbers)
        self.ip = f"10.{self.n // 65536 % 256}.{self.n // 256 % 256}.{self.n % 256}"
        self.client.headers["X-Forwarded-For"] = self.ip

    def go(self, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        """One request, redirects not followed. Production cookies are Secure (browsers reach the app over
        HTTPS through the proxy); the load generator talks plain HTTP to gunicorn, so it sends them anyway."""
        response = self.client.request(method, path, allow_redirects=False, **kwargs)
        for cookie in self.client.cookies:
            cookie.secure = False
        return response

    def think(self) -> None:
        self._sleep(random.uniform(*THINK))

    def _sleep(self, seconds: float) -> None:
        import gevent

        gevent.sleep(seconds)

    @task
    def sit_the_exam(self) -> None:
        html = self.go("GET", "/login", name="login page").text
        r = self.go(
            "POST",
            "/login",
            data={"email": PATTERN.format(n=self.n), "password": PASSWORD, "csrf_token": _csrf(html)},
            name="log in",
        )
        if r.status_code != 302:
            raise StopUser()
        html = self.go("GET", f"/courses/{COURSE}", name="course page").text
        token = _csrf(html)
        self.go(
            "POST", f"/courses/{COURSE}/enrol", data={"action": "enrol", "csrf_token": token}, name="enrol"
        )
        self.think()
        self.go("GET", f"/courses/{COURSE}/quizzes/{QUIZ}", name="quiz start page")
        r = self.go(
            "POST",
            f"/courses/{COURSE}/quizzes/{QUIZ}/start",
            data={"csrf_token": token},
            name="start attempt",
        )
        attempt = re.sub(r"^https?://[^/]+", "", r.headers.get("Location", ""))
        if not re.match(r"^/attempts/\d+$", attempt):
            raise StopUser()
        page, pages = 1, 1
        while True:
            html = self.go("GET", f"{attempt}?page={page}", name="attempt page").text
            found = re.search(r"Page (\d+) of (\d+)", html)
            pages = int(found.group(2)) if found else 1
            answers = {}
            for field in dict.fromkeys(re.findall(r'name="(q\d+)"', html)):
                values = re.findall(rf'name="{field}"[^>]*value="([^"]+)"', html)
                answers[field] = random.choice(values) if values else "an answer"
            self.think()
            r = self.go(
                "POST",
                f"{attempt}/save",
                data={**answers, "csrf_token": token},
                headers={"Accept": "application/json"},
                name="autosave",
            )
            if page >= pages:
                break
            page += 1
        self.go("POST", f"{attempt}/submit", data={**answers, "csrf_token": token}, name="submit")
        self.go("GET", f"{attempt}/review", name="review")
        raise StopUser()
