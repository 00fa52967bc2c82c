"""Real servers that tests and the benchmark start on loopback, and stop afterwards.

:func:`postgres` is a throw-away PostgreSQL server (initdb in a temporary folder, on a free
port, run as the ``postgres`` user when run as root). :func:`dask_cluster` is a Dask
scheduler and its workers, each worker in an empty folder of its own and in a mount
namespace where the given folders are empty (bubblewrap).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reglab.gradetask import kill_tree

START_SECONDS = 60
DASK = Path(sys.executable).parent / "dask"


class ServiceError(RuntimeError):
    """A server did not start."""


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        raise ServiceError("the PostgreSQL server is not installed: run `make system` "
                           "(Debian: apt-get install postgresql)")
    return found[-1].parent


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres() -> Iterator[str]:
    """URL of an empty database on a throw-away PostgreSQL server, removed afterwards."""
    import psycopg2

    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="reglab-postgres-"))
    as_postgres = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
    port, log = free_port(), base / "server.log"
    server = None
    try:
        subprocess.run(as_postgres + [str(bindir / "initdb"), "-D", str(base / "data"), "-A",
                                      "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True)
        with open(log, "w") as out:
            server = subprocess.Popen(
                as_postgres + [str(bindir / "postgres"), "-D", str(base / "data"), "-h",
                               "127.0.0.1", "-p", str(port), "-k", str(base), "-F"],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                        dbname="postgres")
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise ServiceError("PostgreSQL did not start:\n"
                                       + log.read_text()[-3000:]) from None
                time.sleep(0.2)
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class DaskCluster:
    """A running scheduler's address and its workers' processes (bwrap, then the worker)."""

    address: str
    workers: list[subprocess.Popen]


def _wait(what: str, ready: Callable[[], bool], procs: list[subprocess.Popen],
          logs: list[Path]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            tails = "\n".join(log.read_text()[-1500:] for log in logs if log.exists())
            raise ServiceError(f"{what} did not start within {START_SECONDS} s:\n{tails}")
        time.sleep(0.2)


def _worker(address: str, name: str, home: Path, hidden: Sequence[Path], log: Path
            ) -> subprocess.Popen:
    tmpfs = [arg for folder in hidden for arg in ("--tmpfs", str(folder))]
    with open(log, "w") as out:
        return subprocess.Popen(
            ["bwrap", "--dev-bind", "/", "/", *tmpfs, "--chdir", str(home), "--die-with-parent",
             str(DASK), "worker", address, "--name", name, "--nthreads", "1", "--no-dashboard",
             "--local-directory", str(home)], stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def dask_cluster(folder: Path, hidden: Sequence[Path] = (), workers: int = 2
                 ) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` workers on loopback, their logs and homes in ``folder``;
    the workers see each folder of ``hidden`` empty."""
    from distributed import Client

    info, logs = folder / "scheduler.json", [folder / "scheduler.log"]
    with open(logs[0], "w") as out:
        procs = [subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(info)], stdout=out, stderr=subprocess.STDOUT, cwd=folder)]
    try:
        _wait("the Dask scheduler", info.exists, procs, logs)
        address = json.loads(info.read_text())["address"]
        started = []
        for i in range(workers):
            home = folder / f"worker-{i + 1}"
            home.mkdir()
            logs.append(folder / f"worker-{i + 1}.log")
            started.append(_worker(address, home.name, home, hidden, logs[-1]))
        procs += started
        with Client(address, set_as_default=False) as client:
            _wait(f"{workers} Dask workers",
                  lambda: len(client.scheduler_info()["workers"]) == workers, procs, logs)
        yield DaskCluster(address, started)
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_tree(proc.pid)
