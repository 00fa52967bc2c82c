"""Run the kernels of autograded submissions in a sandbox (Linux, bubblewrap).

Student code runs in the kernel that nbgrader starts for each submission. Here that
kernel runs under ``bwrap`` with:

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

Turn it on for ``nbgrader autograde`` with :func:`autograde_args`; :func:`check` says
whether it can work here. Limits are traitlets of :class:`SandboxedKernelManager`, e.g.
``--SandboxedKernelManager.memory_limit=12288`` (MiB).
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, List, Unicode, default

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


def _as_root() -> bool:
    return os.geteuid() == 0


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start here; the message says why and what to do."""


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
                          text=True, env=_kept_env(os.environ, ENV_KEEP), timeout=120)
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
         readable: Sequence[Path] = (), env: Mapping[str, str] | None = None,
         limits: Limits | None = None, uid: int = NOBODY, gid: int = NOBODY) -> list[str]:
    """The command that runs ``argv`` in the sandbox, in ``workdir``.

    The sandbox sees ``workdir`` as a private folder of ``limits.folder_mib`` MiB holding
    its regular files (read-only, no notebook); what it writes there is discarded.
    ``writable`` and ``readable`` are further folders bound at the same path; the
    Python prefixes and reglab are always readable. ``env`` is the whole environment
    (``HOME`` and ``TMPDIR`` are ``/tmp``). As root, ``argv`` runs as ``uid``:``gid``,
    which must own the writable folders and be able to read ``workdir`` (see :func:`give`).
    """
    workdir, limits = Path(workdir).resolve(), limits or Limits()
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    if _as_root():
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"]
    else:
        cmd += ["--unshare-all", "--unshare-user", "--disable-userns"]
    mounts, system = _system_paths(limits.file_size_mib)
    cmd += mounts + _binds([*system, *python_paths(), *(Path(p).resolve() for p in readable)],
                           [Path(p).resolve() for p in writable], workdir, limits.folder_mib)
    cmd += ["--remount-ro", "/"]  # the folders made for the binds: no writing there
    for key, value in {**(env or {}), "HOME": "/tmp", "TMPDIR": "/tmp"}.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", str(workdir), "--"]
    if _as_root():
        # Linux exempts root from RLIMIT_NPROC, and counts it per user namespace: drop
        # to an unprivileged user, then enter a user namespace of our own.
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "unshare", "--user"]
    return cmd + limits.prlimit() + [real_executable(argv[0]), *argv[1:]]


def give(paths: Iterable[Path], uid: int = NOBODY, gid: int = NOBODY) -> list[tuple]:
    """As root, hand ``paths`` (recursively) to the sandbox's user; return what
    :func:`take_back` needs to restore them. Does nothing for other users."""
    if not _as_root():
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
        env = env if env is not None else _kept_env(os.environ, ENV_KEEP)
        return subprocess.run(wrap(argv, workdir, limits=limits, env=env, **kwargs),
                              capture_output=True, text=True, timeout=timeout)
    finally:
        take_back(owners)


def _missing_tools() -> list[str]:
    tools = ["bwrap", "prlimit"] + (["setpriv", "unshare"] if _as_root() else [])
    return [tool for tool in tools if shutil.which(tool) is None]


def _bwrap_version() -> tuple[int, ...]:
    out = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout
    return tuple(int(n) for n in re.findall(r"\d+", out)[:3])


@cache
def check() -> None:
    """Raise SandboxUnavailable, saying why and what to do, if the sandbox cannot work here."""
    if sys.platform != "linux":
        raise SandboxUnavailable(f"the grading sandbox needs Linux (bubblewrap); this is "
                                 f"{sys.platform}. Grade on a Linux machine or without the "
                                 "sandbox.")
    missing = _missing_tools()
    if missing:
        raise SandboxUnavailable(f"the grading sandbox needs {', '.join(missing)}: install "
                                 "bubblewrap and util-linux with `make system` (Debian: "
                                 "apt-get install bubblewrap util-linux).")
    version = _bwrap_version()
    if version < (0, 8):
        raise SandboxUnavailable(f"the grading sandbox needs bubblewrap 0.8 or later (for --size "
                                 f"and --disable-userns); this is {'.'.join(map(str, version))}."
                                 " Install a newer one (Debian 12, Ubuntu 24.04 or their "
                                 "backports).")
    with tempfile.TemporaryDirectory(prefix="reglab-check-") as tmp:
        done = run([sys.executable, "-c", "import importlib.util as u, os; s = u.find_spec("
                    "'reglab'); assert s and os.path.exists(s.origin), 'no reglab to import'"],
                   Path(tmp))
    if done.returncode == 0:
        return
    said = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
    if any(line.startswith("bwrap:") for line in said):
        raise SandboxUnavailable(
            f"bubblewrap cannot start a sandbox here ({said[-1]}). It needs unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1 and "
            "user.max_user_namespaces > 0) or root; in a container, allow them (Docker: "
            "--security-opt seccomp=unconfined --security-opt apparmor=unconfined).")
    reglab_at = [str(p) for p in python_paths() if p.name == "reglab"]
    raise SandboxUnavailable(
        f"the sandbox starts, but {real_executable(sys.executable)} cannot import reglab in it "
        f"({said[-1]}). The sandbox holds the Python environment and the reglab that this "
        f"Python imports from outside it ({', '.join(reglab_at) or 'none found'}): install "
        "reglab in the environment (make setup) or check that nothing else is missing.")


def autograde_args() -> list[str]:
    """Command-line arguments that make ``nbgrader autograde`` run kernels in the sandbox."""
    return ["--Execute.kernel_manager_class=reglab.sandbox.SandboxedKernelManager"]


def _kept_env(env: Mapping[str, str], patterns: Iterable[str]) -> dict[str, str]:
    patterns = list(patterns)
    return {k: v for k, v in env.items() if any(fnmatch(k, p) for p in patterns)}


def working_folder(cwd: str | os.PathLike, submitted: str = "submitted",
                   autograded: str = "autograded") -> Path:
    """Where a kernel asked to start in ``cwd`` works.

    nbgrader starts the kernel in ``submitted/<student>/<assignment>``; the sandbox uses
    ``autograded/<student>/<assignment>`` instead, where nbgrader has copied that
    submission's files and the instructor's data files, so the submission as handed in
    stays untouched. Any other folder is used as it is.
    """
    path = Path(cwd).resolve()
    if len(path.parts) > 3 and path.parents[1].name == submitted:
        twin = path.parents[2] / autograded / path.parent.name / path.name
        if twin.is_dir():
            return twin
    return path


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox (see the module's docstring)."""

    memory_limit = Integer(DEFAULT_LIMITS.memory_mib, config=True,
                           help="Address space of the kernel, in MiB.")
    cpu_limit = Integer(DEFAULT_LIMITS.cpu_seconds, config=True,
                        help="CPU seconds (all threads) of the kernel.")
    process_limit = Integer(DEFAULT_LIMITS.processes, config=True,
                            help="Processes and threads of the kernel and its children.")
    file_size_limit = Integer(DEFAULT_LIMITS.file_size_mib, config=True,
                              help="Largest file it may write, in MiB.")
    folder_size_limit = Integer(DEFAULT_LIMITS.folder_mib, config=True,
                                help="What it may write in its working folder, in MiB.")
    sandbox_uid = Integer(NOBODY, config=True, help="User the kernel runs as, as root.")
    sandbox_gid = Integer(NOBODY, config=True, help="Its group when grading as root.")
    read_only = List(Unicode(), config=True,
                     help="More folders the kernel may read (e.g. a shared data set).")
    env_keep = List(Unicode(), list(ENV_KEEP), config=True,
                    help="Environment variables (glob patterns) passed on to the kernel.")

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    _ipc_dir: Path | None = None
    _owners: list[tuple] = []  # replaced, never changed in place

    def limits(self) -> Limits:
        """The limits configured for this manager's kernels."""
        return Limits(self.memory_limit, self.cpu_limit, self.process_limit,
                      self.file_size_limit, self.folder_size_limit)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self._ipc_dir is None:
            self._ipc_dir = Path(tempfile.mkdtemp(prefix="reglab-kernel-"))
            self.connection_file = str(self._ipc_dir / "kernel.json")
            self.ip = str(self._ipc_dir / "ipc")
        # bwrap starts the kernel in a session and PID namespace of its own, out of reach
        # of the SIGINT jupyter_client sends to interrupt: interrupt with a message.
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        check()
        if not kw.get("cwd"):
            raise ValueError("a sandboxed kernel needs a working folder: start it with cwd=...")
        course = self.config.get("CourseDirectory", {})
        workdir = working_folder(kw["cwd"], course.get("submitted_directory", "submitted"),
                                 course.get("autograded_directory", "autograded"))
        self._owners = give([workdir, self._ipc_dir], self.sandbox_uid, self.sandbox_gid)
        # The kernel's parent is the sandbox's PID 1: no polling for a parent that exits
        # (bwrap kills the sandbox when the grader goes) and no "Ctrl-C" notice on stdout.
        # PYTHONSAFEPATH: the working folder is not on sys.path, so a `reglab/` or `numpy/`
        # handed in beside the notebook is not what the kernel imports.
        env = {**_kept_env(kw.get("env", os.environ), self.env_keep), "JPY_PARENT_PID": "1",
               "PYTHONSAFEPATH": "1"}
        kw["cwd"] = str(self._ipc_dir)
        cmd = wrap(kernel_cmd, workdir, writable=[self._ipc_dir],
                   readable=[*python_paths(kernel_cmd[0]), *map(Path, self.read_only)],
                   env=env, limits=self.limits(),
                   uid=self.sandbox_uid, gid=self.sandbox_gid)
        self.log.debug("Starting sandboxed kernel in %s", workdir)
        await super()._async_launch_kernel(cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            take_back(self._owners)
            self._owners = []
            if self._ipc_dir is not None:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)
                self._ipc_dir = None

    # AsyncKernelManager binds its public names to KernelManager's functions: rebind them
    # to ours (nbclient calls cleanup_resources itself when a kernel died).
    pre_start_kernel = _async_pre_start_kernel
    _launch_kernel = _async_launch_kernel
    cleanup_resources = _async_cleanup_resources
