"""``flask jobs``: run the background-job queue (RQ worker) or catch up on queued jobs from cron."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms import jobs


@click.group("jobs")
def jobs_cli() -> None:
    """Background jobs (mail, certificate signing, PDFs, zips)."""


@jobs_cli.command("run-pending")
@click.option("--limit", default=1000, show_default=True, help="Most jobs to run in this call.")
@with_appcontext
def run_pending_command(limit: int) -> None:
    """Run every queued job now (and retry failed ones); safe to run from cron at any time."""
    done = jobs.run_pending(limit)
    click.echo(f"{done} job(s) run.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker on LMS_REDIS_URL (one per app machine; run several for more throughput)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("LMS_REDIS_URL is not set: without Redis, jobs run in each app process.")
    from rq import SimpleWorker

    queue = jobs._rq_queue(current_app)
    # SimpleWorker runs jobs in this process, inside the app context held by this command.
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)
