"""A private PostgreSQL cluster for tests that stop and start the database (never the shared one on 5432).

The server binaries come from ``LMS_PG_BIN`` (default: Debian's /usr/lib/postgresql/15/bin). They refuse to
run as root, so under root they run as the ``postgres`` user in a temporary folder it owns. When they are
missing the test is skipped on a laptop and fails in CI (``LMS_REQUIRE_REDIS`` or ``CI`` set, as for Redis).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("LMS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """initdb + pg_ctl on an ephemeral port in a temporary folder; ``stop()`` and ``start()`` at will."""

    def __init__(self) -> None:
        missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).is_file()]
        if missing:
            message = (
                f"PostgreSQL server binaries {', '.join(missing)} not found in {PG_BIN} (set LMS_PG_BIN)"
            )
            if os.environ.get("LMS_REQUIRE_REDIS") or os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        self.as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="lms-pg-"))
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: open sessions are cut off and their transactions rolled back, as in a restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
