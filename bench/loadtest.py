"""`make loadtest`: the exam-day scenario as a stepped ramp that finds capacity, then the two faults.

1. Steps of N examinees (``--steps``), each a full exam: logins during a ramp, everyone pressing Start within
   the spike window, 8 pages with think time and autosave, submit, review. A step is *held* when the
   steady-state p95 (attempt pages, autosave, submit, review) is under 500 ms, nothing failed, and every
   answer and submission is in the database (counted after the step). The start spike (start page, Start,
   first page) and the login ramp are reported separately. Stepping stops at the first step not held, or
   when the next step would not fit in ``--budget``.
2. Faults, each on two app processes: one process SIGKILLed mid-run (examinees fail over to the other; every
   acknowledged answer and submission must be in the database), and a restart of a private PostgreSQL
   cluster mid-run (errors during the outage, success after, without restarting the app).

Everything runs against a database of our own (``LMS_LOAD_DATABASE_URL``, default bench_exam, emptied
first) and two or more gunicorn masters on ephemeral ports sharing it and Redis; the PostgreSQL restart uses a
private cluster (never the shared server). Results go to bench/LOADTEST.md, linked from bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import examday as ex

OUT = ex.ROOT / "bench" / "LOADTEST.md"
RESULTS = ex.ROOT / "bench" / "RESULTS.md"
P95_GOAL_MS = 500.0
INTRO = """\
Written by `make loadtest` (bench/loadtest.py); tests never write it. The scenario is the Moodle 4.5
quiz load test: a generated course whose final has 16 questions on 8 pages (12 single choice, 2
true/false, 1 matching, 1 short answer), examinee accounts inserted in bulk with one precomputed
argon2id hash at the production parameters (every login verifies at full cost), logins during a
ramp, everyone pressing Start within the spike window, then page by page with autosave, submit and
review. Every examinee changes app process on every page (the session must hold on each). Latencies:
p50 / p95 / p99 in ms (requests)."""


@dataclass
class Step:
    users: int
    seconds: float
    result: ex.LocustResult
    counts: ex.Counts

    @property
    def errors(self) -> int:
        return len(self.result.failures)

    @property
    def held(self) -> bool:
        return (
            self.errors == 0 and self.counts.complete and self.result.percentiles(ex.STEADY)[1] < P95_GOAL_MS
        )


def _pairs(text: str) -> tuple[float, float]:
    low, high = (float(v) for v in text.split(","))
    return low, high


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", default=os.environ.get("LOAD_STEPS", "250,500,1000,2000,3000,5000"))
    p.add_argument("--think", type=_pairs, default=_pairs(os.environ.get("LOAD_THINK", "30,90")))
    p.add_argument("--ramp", type=float, default=float(os.environ.get("LOAD_RAMP", "120")), help="login s")
    p.add_argument("--spike", type=float, default=float(os.environ.get("LOAD_SPIKE", "60")))
    p.add_argument("--budget", type=float, default=float(os.environ.get("LOAD_BUDGET", "1800")), help="s")
    p.add_argument("--processes", type=int, default=int(os.environ.get("LOAD_PROCESSES", "2")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("LOAD_WORKERS", "2")))
    p.add_argument("--fault-users", type=int, default=int(os.environ.get("LOAD_FAULT_USERS", "100")))
    p.add_argument("--fault-think", type=_pairs, default=_pairs(os.environ.get("LOAD_FAULT_THINK", "2,5")))
    p.add_argument("--outage", type=float, default=float(os.environ.get("LOAD_OUTAGE", "10")), help="s")
    p.add_argument("--no-faults", action="store_true")
    p.add_argument(
        "--seed",
        default=os.environ.get("LOAD_SEED", ""),
        help="first fill the database with `flask dev seed --profile SEED` (e.g. loadtest: 100,000 learners)",
    )
    p.add_argument("--note", default=os.environ.get("LOAD_NOTE", ""), help="printed in the results")
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "LMS_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_exam"
        ),
    )
    p.add_argument("--redis-url", default=os.environ.get("LMS_LOAD_REDIS_URL", "redis://127.0.0.1:6379/14"))
    p.add_argument("--out", type=Path, default=OUT)
    return p.parse_args(argv)


def run_step(
    args: argparse.Namespace, env: dict[str, str], hosts: list[str], work: Path, first: int, users: int
) -> Step:
    ex.create_examinees(args.database_url, first, users)
    started = time.monotonic()
    popen, path = ex.locust(
        hosts,
        users,
        env,
        work,
        first=first,
        ramp_seconds=args.ramp,
        spike_seconds=args.spike,
        think=args.think,
        run_time=int(_estimate(args, users) * 2 + 120),
    )
    result = ex.finish(popen, path, timeout=_estimate(args, users) * 2 + 300)
    seconds = time.monotonic() - started
    return Step(users, seconds, result, ex.count(args.database_url, first, users, result))


def _estimate(args: argparse.Namespace, users: int) -> float:
    """Seconds one step takes: the ramp, the spike, the pages' think time, some slack."""
    return args.ramp + args.spike + ex.PAGES * args.think[1] + 30


def kill_fault(
    args: argparse.Namespace, env: dict[str, str], servers: list[ex.AppServer], work: Path, first: int
) -> dict[str, object]:
    """SIGKILL one of the app processes once a third of the answers are in; the examinees fail over."""
    users = args.fault_users
    ex.create_examinees(args.database_url, first, users)
    popen, path = ex.locust(
        [s.url for s in servers],
        users,
        env,
        work,
        first=first,
        ramp_seconds=10,
        spike_seconds=5,
        think=args.fault_think,
        run_time=900,
    )
    ex.wait_for(
        lambda: ex.answers_so_far(args.database_url, first, users) >= users * ex.QUESTIONS // 3,
        600,
        "answers",
    )
    killed_at = time.time()
    servers[0].kill()
    result = ex.finish(popen, path, timeout=900)
    counts = ex.count(args.database_url, first, users, result)
    return {"users": users, "killed_at": killed_at, "result": result, "counts": counts}


def restart_fault(args: argparse.Namespace, work: Path) -> dict[str, object]:
    """Stop and start a private PostgreSQL cluster mid-run; the app processes keep running throughout."""
    pg = ex.PrivatePostgres()
    servers: list[ex.AppServer] = []
    try:
        pg.start()
        pg.create_database()
        env = ex.app_env(pg.url, args.redis_url, work / "pg")
        ex.prepare(env, work / "pg")
        users = args.fault_users
        ex.create_examinees(pg.url, 0, users)
        servers = ex.start_servers(env, work / "pg", args.processes, args.workers)
        pids = [s.popen.pid for s in servers]
        popen, path = ex.locust(
            [s.url for s in servers],
            users,
            env,
            work / "pg",
            ramp_seconds=10,
            spike_seconds=5,
            think=args.fault_think,
            run_time=900,
        )
        ex.wait_for(lambda: ex.answers_so_far(pg.url, 0, users) >= users * ex.QUESTIONS // 3, 600, "answers")
        down = time.time()
        pg.stop("fast")
        time.sleep(args.outage)
        pg.start()
        up = time.time()
        result = ex.finish(popen, path, timeout=900)
        counts = ex.count(pg.url, 0, users, result)
        alive = all(s.popen.poll() is None for s in servers) and [s.popen.pid for s in servers] == pids
        return {"users": users, "down": down, "up": up, "result": result, "counts": counts, "alive": alive}
    finally:
        for server in servers:
            server.stop()
        pg.destroy()


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
        mem = f", {kib / 1024 / 1024:.1f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    load = ", load average at start {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}{load}"
    )


def commit() -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ex.ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (
        " (with uncommitted changes)" if git("status", "--porcelain") else ""
    )


def _seeded(profile: str) -> str:
    return f"`flask dev seed --profile {profile}`" if profile else "none (an empty database)"


def _ms(values: tuple[float, float, float, int]) -> str:
    p50, p95, p99, n = values
    return f"{p50:.0f} / {p95:.0f} / {p99:.0f} ({n})"


def report(args: argparse.Namespace, steps: list[Step], skipped: list[int], faults: dict, header: str) -> str:
    held = [s for s in steps if s.held]
    spike_held = [s for s in held if s.result.percentiles(ex.SPIKE)[1] < P95_GOAL_MS]
    lines = [
        "# Exam-day load test",
        "",
        INTRO,
        "",
        header,
        "",
        f"- Steps: {args.steps}; think time {args.think[0]:g}–{args.think[1]:g} s between pages; login ramp "
        f"{args.ramp:g} s; spike window {args.spike:g} s; budget {args.budget:g} s.",
        f"- Background data: {_seeded(args.seed)}.",
        f"- {args.processes} gunicorn masters × {args.workers} sync workers (production config), "
        "PostgreSQL and Redis on the same machine, Locust (one process) on the same machine too.",
        "",
        "## Result",
        "",
        f"- **Steady state held: {f'{held[-1].users} examinees' if held else 'no step'}** (largest step with "
        f"steady-state p95 < {P95_GOAL_MS:.0f} ms, no errors, every answer and submission in the database).",
        f"- **Start spike held: {f'{spike_held[-1].users} examinees' if spike_held else 'no step'}** "
        f"pressing Start within {args.spike:g} s (same conditions, and the spike's p95 < "
        f"{P95_GOAL_MS:.0f} ms).",
    ]
    if skipped:
        lines.append(
            f"- Not run (a step failed first, or it did not fit the budget): {', '.join(map(str, skipped))}."
        )
    lines += [
        "",
        "| examinees | held | login ramp | start spike | steady state | errors | submissions | answers | "
        "acknowledged answers in DB | minutes |",
        "|---:|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        c = s.counts
        lines.append(
            f"| {s.users} | {'yes' if s.held else 'no'} | {_ms(s.result.percentiles(ex.RAMP))} | "
            f"{_ms(s.result.percentiles(ex.SPIKE))} | {_ms(s.result.percentiles(ex.STEADY))} | {s.errors} | "
            f"{c.submitted}/{c.users} | {c.answers}/{c.users * ex.QUESTIONS} | "
            f"{c.acknowledged_found}/{c.acknowledged} | {s.seconds / 60:.1f} |"
        )
    if steps:
        last = steps[-1].result
        lines += ["", f"Per request at {steps[-1].users} examinees (p50 / p95 / p99 ms):", ""]
        for name in (*ex.RAMP, *ex.SPIKE, *ex.STEADY):
            lines.append(f"- {name}: {_ms(last.percentiles((name,)))}")
    if "kill" in faults:
        k = faults["kill"]
        r, c = k["result"], k["counts"]
        lines += [
            "",
            "## Fault: one app process SIGKILLed mid-run",
            "",
            f"{k['users']} examinees on {args.processes} processes, think {args.fault_think[0]:g}–"
            f"{args.fault_think[1]:g} s; the first process (master and workers) was killed once a third "
            "of the answers were in. Its examinees failed over to the other process.",
            "",
            f"- Failed requests (on the killed process, retried elsewhere): {len(r.failures)}; "
            f"failovers {r.failovers}.",
            f"- Finished the exam: {r.finished}/{k['users']}; submissions in DB {c.submitted}/{c.users}; "
            f"answers {c.answers}/{c.users * ex.QUESTIONS}.",
            f"- Acknowledged answers found in DB: {c.acknowledged_found}/{c.acknowledged}; acknowledged "
            f"submissions {c.submissions_acknowledged_found}/{c.submissions_acknowledged}; "
            f"submitted without a score: {c.unscored}. "
            f"**{'Nothing lost.' if c.complete else 'SOMETHING WAS LOST.'}**",
        ]
    if "restart" in faults:
        f = faults["restart"]
        r, c = f["result"], f["counts"]
        during = r.errors(since=f["down"], until=f["up"] + 5)
        after = r.errors(since=f["up"] + 5)
        lines += [
            "",
            "## Fault: PostgreSQL restarted mid-run (private cluster)",
            "",
            f"{f['users']} examinees on {args.processes} processes against a private PostgreSQL 15 cluster "
            f"(temporary directory, ephemeral port), stopped (`pg_ctl -m fast`) once a third of the "
            f"answers were in and started again {args.outage:g} s later. The app processes were not "
            "restarted "
            f"({'same pids, still running' if f['alive'] else 'A PROCESS DIED OR CHANGED'}).",
            "",
            f"- Errors seen by the examinees during the outage (and 5 s after): {during}; "
            f"after that: {after}.",
            f"- Finished the exam: {r.finished}/{f['users']}; submissions {c.submitted}/{c.users}; answers "
            f"{c.answers}/{c.users * ex.QUESTIONS}; acknowledged answers in DB {c.acknowledged_found}/"
            f"{c.acknowledged}; submitted without a score {c.unscored}. "
            f"**{'Recovered, nothing lost.' if c.complete and after == 0 else 'NOT RECOVERED CLEANLY.'}**",
        ]
        kinds: dict[str, int] = {}
        for failure in r.failures:
            kinds[failure["error"][:60]] = kinds.get(failure["error"][:60], 0) + 1
        if kinds:
            lines += ["", "What the examinees got during the outage (by message, first 60 characters):", ""]
            lines += [f"- {n} × `{k}`" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]]
    return "\n".join(lines) + "\n"


def link_from_results() -> None:
    """bench/RESULTS.md (written by `make bench`) points here; its other sections are left as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if "LOADTEST.md" not in text:
        RESULTS.write_text(
            text.rstrip("\n")
            + "\n\n## Exam-day load test\n\nSee [LOADTEST.md](LOADTEST.md), written by `make loadtest`.\n"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    begun = time.monotonic()
    header = f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; commit {commit()}." + (
        f" {args.note}" if args.note else ""
    )
    work = Path(tempfile.mkdtemp(prefix="helix-loadtest-"))
    print(f"loadtest: work files in {work}", flush=True)
    ex.reset_database(args.database_url)
    env = ex.app_env(args.database_url, args.redis_url, work)
    ex.prepare(env, work)
    if args.seed:  # background volume (another helper's seeder); it refuses the production config
        print(f"loadtest: seeding the {args.seed} profile", flush=True)
        ex.flask({**env, "LMS_CONFIG": "development"}, "dev", "seed", "--profile", args.seed, "--force")
    servers = ex.start_servers(env, work, args.processes, args.workers)
    worker = ex.jobs_worker(env, work / "jobs.log")
    steps: list[Step] = []
    jobs = 0
    skipped: list[int] = []
    faults: dict[str, dict] = {}
    first = 0
    try:
        hosts = [s.url for s in servers]
        for users in (int(v) for v in args.steps.split(",")):
            if (steps and not steps[-1].held) or time.monotonic() - begun + _estimate(
                args, users
            ) > args.budget:
                skipped.append(users)
                continue
            print(f"loadtest: step of {users} examinees", flush=True)
            step = run_step(args, env, hosts, work, first, users)
            first += users
            steps.append(step)
            print(
                f"loadtest: {users}: held={step.held} steady={_ms(step.result.percentiles(ex.STEADY))} "
                f"spike={_ms(step.result.percentiles(ex.SPIKE))} errors={step.errors} {step.counts}",
                flush=True,
            )
        if not args.no_faults:
            print("loadtest: fault 1, SIGKILL one app process mid-run", flush=True)
            faults["kill"] = kill_fault(args, env, servers, work, first)
            first += args.fault_users
            print(f"loadtest: {faults['kill']['counts']}", flush=True)
        jobs = ex.jobs_enqueued(args.database_url)
    finally:
        worker.stop()
        for server in servers:
            server.stop()
    if not args.no_faults and os.geteuid() != 0:
        print("loadtest: fault 2 skipped: the private PostgreSQL runs as the postgres user (needs root)")
    elif not args.no_faults:
        print("loadtest: fault 2, restart a private PostgreSQL mid-run", flush=True)
        faults["restart"] = restart_fault(args, work)
        print(f"loadtest: {faults['restart']['counts']}", flush=True)
    header += f" Background jobs enqueued during the run: {jobs} (one `flask jobs worker` was running)."
    text = report(args, steps, skipped, faults, header)
    args.out.write_text(text)
    if args.out == OUT:
        link_from_results()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
