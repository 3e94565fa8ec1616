"""HTTP benchmark: Helix LMS under gunicorn with the production configuration, beside a bare Flask app.

Both run under the same gunicorn settings in the same run and are driven by wrk (Debian's ``wrk``), so the
ratio to bare Flask means something on any machine. The app uses PostgreSQL when LMS_BENCH_DATABASE_URL is
set (else a throwaway SQLite file), rate limits on Redis (LMS_BENCH_REDIS_URL, default database 7) with
LMS_TRUSTED_PROXIES set and a distinct X-Forwarded-For on every request, so limits stay on and any 429 is an
error. Virtual learners are signed in over HTTP (production argon2id hashing), each with an open attempt.

Prints a table and returns it as Markdown (bench/run_all.py writes bench/RESULTS.md; tests never do).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BARE = """from flask import Flask
app = Flask("bare")
@app.get("/")
def hello():
    return "<!doctype html><title>hello</title><p>Hello</p>"
"""

WRK_LUA = """
local paths, cookies, bodies, tokens = {}, {}, {}, {}
local n = 0
local threads = 1
local counter = 0
setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
end
init = function(args)
  threads = tonumber(args[2] or "1")
  local f = io.open(args[1])
  for line in f:lines() do
    local method, path, ip, cookie, token, body =
      line:match("^(%S+)\\t(%S+)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$")
    table.insert(paths, {method, path, cookie, token, body, ip})
  end
  f:close()
end
request = function()
  -- thread k of t replays lines k, k+t, k+2t...: each line once per pass over the file, whatever -t is
  local r = paths[((n * threads + id) % #paths) + 1]
  n = n + 1
  -- each virtual client keeps its own address (its session was bound to it at login); anonymous lines
  -- get a fresh one per request
  local ip = r[6]
  if ip == "" then
    ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local headers = {["X-Forwarded-For"] = ip}
  if r[3] ~= "" then headers["Cookie"] = r[3] end
  if r[4] ~= "" then headers["X-CSRFToken"] = r[4] end
  if r[1] == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Accept"] = "application/json"
    return wrk.format("POST", r[2], headers, r[5])
  end
  return wrk.format("GET", r[2], headers, nil)
end
done = function(summary, latency, requests)
  for _, p in pairs({50, 95, 99}) do
    print(string.format("PCT %d %d", p, latency:percentile(p)))
  end
end
"""


WRK_THREADS = 2
SUBMIT = "quiz submit (concurrent, a fresh attempt per request)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A minimal cookie-keeping HTTP client (one virtual learner, one client address)."""

    def __init__(self, port: int, ip: str) -> None:
        self.port, self.ip, self.cookies = port, ip, {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"X-Forwarded-For": self.ip, **(headers or {})}
        if self.cookies:
            h["Cookie"] = self.cookie_header
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, response.getheader("Location") or "", data


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def gunicorn(app: str, port: int, env: dict, workers: int, threads: int, cwd: Path) -> subprocess.Popen:
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    return subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def worker_peak_kib(master: subprocess.Popen) -> list[int]:
    """VmHWM (peak resident memory) of each gunicorn worker of ``master``."""
    out = []
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master.pid}$", status, re.M):
            found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if found:
                out.append(int(found.group(1)))
    return out


def run_wrk(port: int, lines: list[str], seconds: int, connections: int, tmp: Path) -> dict:
    script = tmp / "bench.lua"
    script.write_text(WRK_LUA)
    data = tmp / f"requests-{secrets.token_hex(4)}.tsv"
    data.write_text("\n".join(lines) + "\n")
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(data),
        str(WRK_THREADS),
    ]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    lat = {p: int(us) / 1000 for p, us in re.findall(r"^PCT (\d+) (\d+)$", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return {
        "rps": rps,
        "p50": lat["50"],
        "p95": lat["95"],
        "p99": lat["99"],
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "socket": errors.group(0) if errors else "",
        "requests": total,
    }


def setup_app(env: dict, learners: int, tmp: Path) -> str:
    """Migrate, sync the bundled courses, create learners (one precomputed argon2id hash), an educator on
    the CAR-T course's staff and one issued certificate; returns the certificate's serial."""
    code = f"""
import os
from lms import create_app
from lms.extensions import db
from lms.auth.models import User
from lms.auth.services import hash_password
from lms.timeutil import utcnow
from flask_migrate import upgrade
app = create_app()
with app.app_context():
    upgrade()
    app.test_cli_runner().invoke(args=["courses", "sync"])
    digest = hash_password("bench password 123")
    now = utcnow()
    db.session.execute(db.insert(User), [
        dict(email=f"bench{{i}}@example.org", password_hash=digest, full_name=f"Bench {{i}}",
             profession="physician", specialty="", country="US", created_at=now, email_confirmed_at=now,
             session_version=0)
        for i in range({learners})
    ])
    db.session.commit()
    # An educator on the CAR-T course's staff (report page) and one issued certificate (verify page).
    from datetime import datetime, timedelta
    from pathlib import Path
    from sqlalchemy import select
    from lms.auth.services import create_user
    from lms.catalog.models import Course
    from lms.catalog.services import add_staff
    from lms.certificates import services as svc
    from lms.certificates.routes import issuer_settings
    educator = create_user("educator@example.org", "Bench Educator", "bench password 123", ("educator",))
    add_staff(db.session.scalar(select(Course).where(Course.slug == "car-t-cell-therapy")), educator, "owner")
    db.session.commit()
    from tests.certs import complete, sync_cert_course
    sync_cert_course(app, Path({str(tmp)!r}))
    holder = create_user("holder@example.org", "Certificate Holder", "bench password 123")
    db.session.commit()
    start = datetime(2026, 11, 20, 9, 0)
    complete(app, holder.id, "certified", start)
    with app.test_request_context():
        settings = issuer_settings()
        course = db.session.scalar(select(Course).where(Course.slug == "certified"))
        claim = svc.submit_claim(db.session.get(User, holder.id), course, svc.ClaimInput(2.0, True, ""),
                                 settings, start + timedelta(hours=2))
        cert = svc.issue_claim(claim, None, settings, start + timedelta(days=1))
        db.session.commit()
        print("SERIAL", cert.serial)
"""
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    found = re.search(r"^SERIAL (\S+)$", run.stdout, re.M)
    assert found, run.stdout[-2000:] + run.stderr[-2000:]
    return found.group(1)


def setup_examinees(env: dict, count: int, tmp: Path) -> list[dict]:
    """``count`` signed-in examinees, each enrolled with a started attempt on the CAR-T course's first
    ungated quiz, for the autosave and submit rows (an attempt is submitted once, so submit needs one per
    request; autosave is limited to 120 per minute per learner, so it needs many learners too).

    Signing thousands in over HTTP would time argon2id, not the pages: their server-side sessions are
    started with the app's own service and the cookies signed with the app's session serializer, exactly
    what a login sets. Returns, per examinee: cookie, CSRF token, attempt path and an autosave body.
    """
    out = tmp / "examinees.json"
    code = f"""
import json
from flask import g, session
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from lms import create_app
from lms.auth.models import User
from lms.auth.services import hash_password, start_session
from lms.catalog.content import version_content
from lms.catalog.models import Course
from lms.catalog.services import enrol
from lms.extensions import db
from lms.learning.progress import gated_keys
from lms.quizzes import services as quizzes
from lms.timeutil import utcnow
app = create_app()
registry = app.extensions["lms"].question_types
rows = []
with app.app_context():
    now = utcnow()
    digest = hash_password("bench password 123")
    db.session.execute(db.insert(User), [
        dict(email=f"examinee{{i}}@example.org", password_hash=digest, full_name=f"Examinee {{i}}",
             profession="nurse", specialty="", country="DE", created_at=now, email_confirmed_at=now,
             session_version=0)
        for i in range({count})
    ])
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "car-t-cell-therapy"))
    content = version_content(course)
    gated = gated_keys(content.policy)
    key = next(i.key for i in content.items if i.kind == "quiz" and i.key not in gated)
    quiz = quizzes.current_quiz(course, key)[0]
    serializer = app.session_interface.get_signing_serializer(app)
    users = db.session.scalars(select(User).where(User.email.like("examinee%@example.org"))).all()
    for user in users:
        enrol(user, course)
        attempt = quizzes.start_attempt(user.id, course, quiz, registry, now=now)
        start_session(user, now)
        db.session.commit()
        shuffle = quiz.settings.get("shuffle_options", True)
        body = {{}}
        for answer in quizzes.load_attempt(user.id, attempt.id).answers[:2]:
            q = answer.question
            view = registry.get(q.type).learner_view(q.spec, attempt.seed, shuffle)
            first = (view.get("options") or [{{}}])[0]
            body[f"q{{answer.id}}"] = str(first.get("value", "x")) if isinstance(first, dict) else "x"
        ip = f"10.{{100 + user.id // 62500}}.{{user.id // 250 % 250}}.{{user.id % 250 + 1}}"
        with app.test_request_context(base_url="https://127.0.0.1", headers={{"X-Forwarded-For": ip}}):
            login_user(user)
            session.permanent = True
            g.pop("csrf_token", None)  # g lives in the app context, shared by these request contexts
            token = generate_csrf()
            cookie = serializer.dumps(dict(session))
        rows.append(dict(ip=ip, cookie=f"{{app.config['SESSION_COOKIE_NAME']}}={{cookie}}", token=token,
                         attempt=f"/attempts/{{attempt.id}}", body=body))
with open({str(out)!r}, "w") as f:
    json.dump(rows, f)
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    return json.loads(out.read_text())


def submitted_attempts(env: dict) -> int:
    code = """
from sqlalchemy import func, select
from lms import create_app
from lms.extensions import db
from lms.quizzes.models import Attempt
with create_app().app_context():
    print(db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.status == "submitted")))
"""
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    return int(run.stdout.decode().strip().splitlines()[-1])


def learner(port: int, n: int) -> dict:
    """Sign in learner ``n``, enrol in the CAR-T course, start its final; the requests wrk replays."""
    c = Client(port, f"172.16.{n // 250}.{n % 250 + 1}")
    status, _, html = c.request("GET", "/login")
    status, where, _ = c.request(
        "POST",
        "/login",
        {"email": f"bench{n}@example.org", "password": "bench password 123", "csrf_token": csrf(html)},
    )
    assert status == 302, ("login", status)
    slug = "car-t-cell-therapy"
    _, _, html = c.request("GET", f"/courses/{slug}")
    token = csrf(html)
    c.request("POST", f"/courses/{slug}/enrol", {"action": "enrol", "csrf_token": token})
    _, _, html = c.request("GET", f"/courses/{slug}")
    lessons = re.findall(rf"/courses/{slug}/lessons/[\w-]+", html)
    assert lessons, "no lesson on the course page"
    lesson = lessons[0]
    quiz = _first_quiz(c, slug)
    status, where, _ = c.request("POST", f"/courses/{slug}/quizzes/{quiz}/start", {"csrf_token": token})
    attempt = re.sub(r"^https?://[^/]+", "", where)
    _, _, html = c.request("GET", attempt)
    fields = sorted(set(re.findall(r'name="(q\d+)"', html)))
    options = {f: re.findall(rf'name="{f}"[^>]*value="([^"]+)"', html) for f in fields[:2]}
    body = urlencode({f: (v[0] if v else "x") for f, v in options.items()})
    return {
        "ip": c.ip,
        "cookie": c.cookie_header,
        "token": token,
        "lesson": lesson,
        "attempt": attempt,
        "save_body": body,
        "slug": slug,
    }


def _first_quiz(c: Client, slug: str) -> str:
    _, _, html = c.request("GET", f"/courses/{slug}")
    keys = re.findall(rf"/courses/{slug}/quizzes/([\w-]+)", html)
    assert keys, "no quiz on the course page"
    return keys[0]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--learners", type=int, default=40, help="learners signed in over HTTP (GET pages)")
    parser.add_argument(
        "--examinees",
        type=int,
        default=2500,
        help="signed-in learners with a started attempt (autosave, submit)",
    )
    parser.add_argument(
        "--pages", default="", help="only the rows whose label contains one of these (comma list)"
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    from tests.factories import signing_key_file

    db_url = os.environ.get("LMS_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    redis_url = os.environ.get("LMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    port, bare_port = free_port(), free_port()
    env = {
        **os.environ,
        "LMS_CONFIG": "production",
        "LMS_SECRET_KEY": secrets.token_hex(32),
        "LMS_BASE_URL": f"http://127.0.0.1:{port}",
        "LMS_SIGNING_KEY_FILE": str(signing_key_file(tmp)),
        "LMS_DATABASE_URL": db_url,
        "LMS_RATELIMIT_STORAGE_URI": redis_url,
        "LMS_REDIS_URL": redis_url,
        "LMS_JOBS_MODE": "manual",
        "LMS_TRUSTED_PROXIES": "127.0.0.1",
        "LMS_MAIL_OUTBOX": str(tmp / "outbox"),
    }
    if db_url.startswith("postgresql"):
        import sqlalchemy as sa

        engine = sa.create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=False, capture_output=True)
    serial = setup_app(env, args.learners, tmp)
    examinees = setup_examinees(env, args.examinees, tmp)
    (tmp / "bare_app.py").write_text(BARE)
    app_proc = gunicorn("wsgi:app", port, env, args.workers, args.threads, ROOT)
    bare_proc = gunicorn("bare_app:app", bare_port, dict(os.environ), args.workers, args.threads, tmp)
    try:
        wait_up(port)
        wait_up(bare_port)
        learners = [learner(port, n) for n in range(args.learners)]
        slug = learners[0]["slug"]
        pages = {
            "catalog /courses": [("GET", "/courses", lr) for lr in learners],
            "course page": [("GET", f"/courses/{slug}", lr) for lr in learners],
            "lesson page": [("GET", lr["lesson"], lr) for lr in learners],
            "dashboard": [("GET", "/dashboard", lr) for lr in learners],
            "quiz attempt page": [("GET", lr["attempt"], lr) for lr in learners],
        }
        exam = [
            {"ip": e["ip"], "cookie": e["cookie"], "token": e["token"], "save_body": urlencode(e["body"])}
            for e in examinees
        ]
        check = Client(port, examinees[0]["ip"])
        check.cookies["session"] = examinees[0]["cookie"].partition("=")[2]
        status, _, html = check.request(
            "POST",
            examinees[0]["attempt"] + "/save",
            examinees[0]["body"],
            {"X-CSRFToken": examinees[0]["token"], "Accept": "application/json"},
        )
        assert status == 200, ("examinee autosave", status, html[:500])
        pages["autosave (2 answers)"] = [
            ("POST", e["attempt"] + "/save", x) for e, x in zip(examinees, exam, strict=True)
        ]
        from lms.certificates import serials

        educator = Client(port, "192.168.7.7")
        _, _, html = educator.request("GET", "/login")
        status, _, _ = educator.request(
            "POST",
            "/login",
            {"email": "educator@example.org", "password": "bench password 123", "csrf_token": csrf(html)},
        )
        assert status == 302, ("educator login", status)
        staff = {"ip": educator.ip, "cookie": educator.cookie_header, "token": "", "save_body": ""}
        anonymous = {"cookie": "", "token": "", "save_body": ""}
        pages["verify page (public)"] = [("GET", f"/verify/{serials.display(serial)}", anonymous)]
        pages["report page (course overview)"] = [("GET", f"/reports/{slug}", staff)]
        # Each attempt is submitted once: wrk's threads stripe the list, so every request claims a fresh
        # attempt until the list runs out (then a repeat only redirects to the review: counted and shown).
        pages[SUBMIT] = [("POST", e["attempt"] + "/submit", x) for e, x in zip(examinees, exam, strict=True)]
        wanted = [w.strip() for w in args.pages.split(",") if w.strip()]
        results = {
            "bare Flask hello (baseline)": run_wrk(bare_port, ["GET\t/\t\t\t\t"], *_wrk_args(args, tmp))
        }
        for label, reqs in pages.items():
            if wanted and not any(w in label for w in wanted):
                continue
            lines = [
                f"{m}\t{p}\t{lr.get('ip', '')}\t{lr['cookie']}\t{lr['token']}\t"
                f"{lr['save_body'] if m == 'POST' else ''}"
                for m, p, lr in reqs
            ]
            results[label] = run_wrk(port, lines, *_wrk_args(args, tmp))
        memory = worker_peak_kib(app_proc)
    finally:
        stop(app_proc)
        stop(bare_proc)
    submitted = submitted_attempts(env) if SUBMIT in results else 0
    base = results["bare Flask hello (baseline)"]["rps"]
    db_kind = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    kind = "sync" if args.threads == 1 else "gthread"
    head = (
        f"gunicorn {args.workers} {kind} workers × {args.threads} thread(s), wrk -t{WRK_THREADS} "
        f"-c{args.connections} -d{args.seconds}s per page, production config on {db_kind}, rate limits on "
        f"Redis, {args.learners} learners signed in over HTTP for the GET pages, {args.examinees} signed-in "
        "examinees with a started attempt for autosave and submit, a distinct X-Forwarded-For per virtual "
        "client"
    )
    rows = [
        "| page | req/s | p50 ms | p95 ms | p99 ms | × bare Flask | errors (non-2xx/3xx) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results.items():
        rows.append(
            f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
            f"{r['rps'] / base:.2f} | "
            f"{r['errors']} {r['socket']} |"
        )
    mem = ", ".join(f"{kib / 1024:.0f} MiB" for kib in sorted(memory)) or "n/a"
    notes = [f"Peak resident memory per app worker (VmHWM): {mem}"]
    if SUBMIT in results:
        sent = results[SUBMIT]["requests"]
        notes.append(
            f"Quiz submit: {sent} requests, {submitted} attempts submitted (each attempt once: "
            + (
                "every request graded a fresh attempt)."
                if sent <= len(examinees)
                else "the list ran out: later requests were repeats)."
            )
        )
    text = "\n".join([head, "", *rows, "", *notes])
    print(text)
    print(json.dumps({k: round(v["rps"] / base, 3) for k, v in results.items()}))
    shutil.rmtree(tmp, ignore_errors=True)
    return text


def _wrk_args(args: argparse.Namespace, tmp: Path) -> tuple:
    return (args.seconds, args.connections, tmp)


if __name__ == "__main__":
    main()
