"""The grading sandbox for nbgrader: kernels that run under :mod:`reglab.bwrap`.

Turn it on for ``nbgrader autograde`` with :func:`autograde_args`; :func:`check` says
whether it can work here. Limits are traitlets of :class:`SandboxedKernelManager`, e.g.
``--SandboxedKernelManager.memory_limit=12288`` (MiB).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Integer, List, Unicode, default

from reglab.bwrap import (
    DEFAULT_LIMITS,
    ENV_KEEP,
    NOBODY,
    Limits,
    as_root,
    give,
    kept_env,
    python_paths,
    real_executable,
    run,
    take_back,
    wrap,
)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start here; the message says why and what to do."""


def _missing_tools() -> list[str]:
    tools = ["bwrap", "prlimit"] + (["setpriv", "unshare"] if as_root() else [])
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
    hidden = Dict(value_trait=List(Unicode()), config=True,
                  help="Per assignment (the name of the kernel's working folder), files and "
                       "folders the kernel sees empty, e.g. a data set it must not read.")
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
        env = {**kept_env(kw.get("env", os.environ), self.env_keep), "JPY_PARENT_PID": "1",
               "PYTHONSAFEPATH": "1"}
        kw["cwd"] = str(self._ipc_dir)
        cmd = wrap(kernel_cmd, workdir, writable=[self._ipc_dir],
                   readable=[*python_paths(kernel_cmd[0]), *map(Path, self.read_only)],
                   hidden=[Path(p) for p in self.hidden.get(workdir.name, [])], env=env,
                   limits=self.limits(),
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
