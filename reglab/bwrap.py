"""A sandbox for a process tree (Linux, bubblewrap): the one student kernels run in.

Student code runs in the kernel that nbgrader starts for each submission. With
:mod:`reglab.sandbox`, that kernel runs under ``bwrap`` with:

* no network: a network namespace of its own (only a loopback nobody listens on); the
  grader talks to it over unix sockets (jupyter_client's ``ipc`` transport) in a private
  folder that also holds the connection file;
* a file system of read-only binds of what Python needs (``/usr``, the ``/lib``
  links, a few files of ``/etc``, the interpreter, the virtual environment, the
  reglab package), an empty ``/tmp`` and the submission's working folder (for nbgrader:
  ``autograded/<student>/<assignment>``, where nbgrader copied that submission's files).
  The kernel sees that folder as a private one of limited size that holds its regular
  files, read-only, but no notebook (the graded notebook holds the restored hidden tests)
  and no link; whatever the kernel writes there is discarded with it, so nothing it
  leaves (a link, a FIFO, a huge file) reaches the host. The course directory,
  ``solutions/``, other students' folders, the gradebook and the home directory are not
  there at all;
* limits (``prlimit``): address space, CPU seconds, processes + threads, file size,
  no core dumps, the size of ``/tmp`` and of the working folder; a clean environment
  (no tokens or passwords of the grader);
* no privileges: its own PID, IPC and UTS namespaces and a new session. When the
  grader runs as root, the kernel runs as ``nobody`` in a user namespace of its own,
  since Linux exempts root from the process limit.

This module builds the ``bwrap`` command (:func:`wrap`) and runs one (:func:`run`).
"""

import os
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

# Measured with the course's solutions (docs/instructors.md, "Sandbox"): a kernel that
# trains the assignments' Keras models peaks at 2.4 GiB of address space and 38 threads
# on 2 cores; TensorFlow adds two pool threads per core, each with a stack and a malloc
# arena (up to 64 MiB + 8 MiB of address space).
BASE_MEMORY_MIB = 6144
MEMORY_PER_CPU_MIB = 256
BASE_PROCESSES = 96
PROCESSES_PER_CPU = 4
NOBODY = 65534
SHM_MIB = 64  # the sandbox's /dev/shm
ETC = ("passwd", "group", "nsswitch.conf", "hosts", "localtime", "ld.so.cache", "ld.so.conf",
       "ld.so.conf.d", "alternatives", "fonts", "mime.types")
ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "LC_*", "TZ", "TF_CPP_*", "TF_ENABLE_ONEDNN_OPTS",
            "TF_NUM_*", "KERAS_BACKEND", "MPLBACKEND", "PYTHONHASHSEED", "PYTHONWARNINGS",
            "OMP_NUM_THREADS", "JPY_SESSION_NAME")


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may use
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed process tree."""

    memory_mib: int = BASE_MEMORY_MIB + MEMORY_PER_CPU_MIB * _cpus()
    cpu_seconds: int = 600
    processes: int = BASE_PROCESSES + PROCESSES_PER_CPU * _cpus()
    file_size_mib: int = 1024  # the largest file it may write, and the size of its /tmp
    folder_mib: int = 512  # what it may write in its working folder, in all

    def prlimit(self) -> list[str]:
        """``prlimit`` arguments that set these limits (soft = hard, except CPU time)."""
        memory, size = self.memory_mib << 20, self.file_size_mib << 20
        return ["prlimit", f"--as={memory}:{memory}",
                f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 5}",
                f"--nproc={self.processes}:{self.processes}",
                f"--fsize={size}:{size}", "--core=0:0", "--"]


DEFAULT_LIMITS = Limits()  # what a kernel gets unless configured otherwise


def as_root() -> bool:
    return os.geteuid() == 0


# Run by a Python outside the sandbox: its prefixes and the reglab package it imports.
WHAT_PYTHON_READS = ("import importlib.util as u, sys; s = u.find_spec('reglab'); "
                     "print(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,"
                     " *(s.submodule_search_locations or []) if s else [], sep='\\n')")


def real_executable(path: str) -> str:
    """``path`` with its folders' links resolved, not its own (a virtual environment's
    ``python`` is a link to the base interpreter, and only its path finds the environment)."""
    return str(Path(path).parent.resolve() / Path(path).name) if os.path.isabs(path) else path


@cache
def python_paths(python: str | None = None) -> list[Path]:
    """What the kernel's Python (default: this one) needs to read: its prefixes and the
    reglab package it imports, as that Python resolves them from a neutral folder. In a
    clone that shares another clone's environment, that is the other clone's reglab."""
    python = real_executable(python or sys.executable)
    done = subprocess.run([python, "-c", WHAT_PYTHON_READS], cwd="/", capture_output=True,
                          text=True, env=kept_env(os.environ, ENV_KEEP), timeout=120)
    found = done.stdout.split("\n") if done.returncode == 0 else []
    found += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    return sorted({Path(p).resolve() for p in found if p.strip()})


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _system_paths(tmp_mib: int) -> tuple[list[str], list[Path]]:
    """bwrap arguments for the top-level links and mounts, and the system folders to read."""
    # /dev/shm as on any Linux: POSIX semaphores live there (without it joblib, which
    # scikit-learn imports, warns "joblib will operate in serial mode" in every notebook).
    args = ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(tmp_mib << 20), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(SHM_MIB << 20), "--tmpfs", "/dev/shm"]
    paths = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            paths.append(top)
    return args, [Path("/usr"), *paths, *(Path("/etc") / name for name in ETC)]


def _binds(readable: Sequence[Path], writable: Sequence[Path], private: Path,
           private_mib: int) -> list[str]:
    """Binds at the same paths, after folders for their ancestors (bwrap would copy the
    ancestors' modes, and a private folder such as /root would hide what is bound in it),
    then ``private`` as a working folder of its own (:func:`_private_folder`)."""
    readable = [p for p in readable if p.exists()]
    readable = [p for p in readable if not _under(p, [r for r in readable if r != p])]
    mounted = [*readable, *writable, private]
    parents = {a for p in mounted for a in p.parents
               if a not in (Path("/"), Path("/tmp")) and not _under(a, mounted)}
    args = []
    for folder in sorted(parents, key=lambda p: len(p.parts)):
        args += ["--perms", "0755", "--dir", str(folder)]
    for path in sorted(readable):
        args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    return args + _private_folder(private, private_mib)


def _private_folder(folder: Path, mib: int) -> list[str]:
    """bwrap arguments that show ``folder`` as a fresh in-memory folder of ``mib`` MiB.

    It holds the folder's regular files (checked with ``lstat``: no link is followed),
    bound read-only, and its sub-folders, but no notebook. What the sandbox writes there
    stays there and goes with it: nothing is ever copied back to the host.
    """
    args = ["--perms", "1777", "--size", str(mib << 20), "--tmpfs", str(folder)]
    for root, dirs, files in os.walk(folder):  # os.walk follows no link
        dirs[:] = sorted(d for d in dirs if stat.S_ISDIR(os.lstat(os.path.join(root, d)).st_mode))
        args += [arg for d in dirs for arg in ("--perms", "1777", "--dir", os.path.join(root, d))]
        for name in sorted(files):
            path = os.path.join(root, name)
            if stat.S_ISREG(os.lstat(path).st_mode) and not name.endswith(".ipynb"):
                args += ["--ro-bind", path, path]
    return args


def wrap(argv: Sequence[str], workdir: Path, *, writable: Sequence[Path] = (),
         readable: Sequence[Path] = (), hidden: Sequence[Path] = (),
         env: Mapping[str, str] | None = None, limits: Limits | None = None,
         uid: int = NOBODY, gid: int = NOBODY) -> list[str]:
    """The command that runs ``argv`` in the sandbox, in ``workdir``.

    The sandbox sees ``workdir`` as a private folder of ``limits.folder_mib`` MiB holding
    its regular files (read-only, no notebook); what it writes there is discarded.
    ``writable`` and ``readable`` are further folders bound at the same path; the
    Python prefixes and reglab are always readable. ``hidden`` files and folders inside
    them are shown empty. ``env`` is the whole environment
    (``HOME`` and ``TMPDIR`` are ``/tmp``). As root, ``argv`` runs as ``uid``:``gid``,
    which must own the writable folders and be able to read ``workdir`` (see :func:`give`).
    """
    workdir, limits = Path(workdir).resolve(), limits or Limits()
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    if as_root():
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"]
    else:
        cmd += ["--unshare-all", "--unshare-user", "--disable-userns"]
    mounts, system = _system_paths(limits.file_size_mib)
    cmd += mounts + _binds([*system, *python_paths(), *(Path(p).resolve() for p in readable)],
                           [Path(p).resolve() for p in writable], workdir, limits.folder_mib)
    cmd += _hide(hidden)
    cmd += ["--remount-ro", "/"]  # the folders made for the binds: no writing there
    for key, value in {**(env or {}), "HOME": "/tmp", "TMPDIR": "/tmp"}.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", str(workdir), "--"]
    if as_root():
        # Linux exempts root from RLIMIT_NPROC, and counts it per user namespace: drop
        # to an unprivileged user, then enter a user namespace of our own.
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "unshare", "--user"]
    return cmd + limits.prlimit() + [real_executable(argv[0]), *argv[1:]]


def _hide(paths: Iterable[Path]) -> list[str]:
    """bwrap arguments that show each existing path empty: a folder as an empty one, a file
    as an empty file."""
    args = []
    for path in (Path(p).resolve() for p in paths):
        if path.is_dir():
            args += ["--perms", "0555", "--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    return args


def give(paths: Iterable[Path], uid: int = NOBODY, gid: int = NOBODY) -> list[tuple]:
    """As root, hand ``paths`` (recursively) to the sandbox's user; return what
    :func:`take_back` needs to restore them. Does nothing for other users."""
    if not as_root():
        return []
    owners = []
    for path in paths:
        stat = path.stat()
        owners.append((path, stat.st_uid, stat.st_gid))
        _chown_tree(path, uid, gid)
    return owners


def take_back(owners: Iterable[tuple]) -> None:
    """Give folders handed out by :func:`give` (and what the sandbox wrote there) back,
    following no link."""
    for path, uid, gid in owners:
        if path.exists():
            _chown_tree(path, uid, gid)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def run(argv: Sequence[str], workdir: Path, *, timeout: float = 60, limits: Limits | None = None,
        env: Mapping[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run ``argv`` in the sandbox, in (a private view of) ``workdir``; capture its output."""
    owners = give([Path(workdir)])
    try:
        env = env if env is not None else kept_env(os.environ, ENV_KEEP)
        return subprocess.run(wrap(argv, workdir, limits=limits, env=env, **kwargs),
                              capture_output=True, text=True, timeout=timeout)
    finally:
        take_back(owners)


def kept_env(env: Mapping[str, str], patterns: Iterable[str]) -> dict[str, str]:
    patterns = list(patterns)
    return {k: v for k, v in env.items() if any(fnmatch(k, p) for p in patterns)}
