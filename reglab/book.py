"""Build the website: the chapters execute in parallel, then Jupyter Book renders them.

    python -m reglab.book [--jobs N]
    python -m reglab.book --check CHAPTER... [--seed-shift N...]

Jupyter Book 1 executes notebooks one after another while Sphinx reads them. Here the
chapters that are not in the execution cache yet run first, ``--jobs`` at a time (one per
core by default), each in a fresh kernel in its own folder as Jupyter Book would run it,
and their outputs go into Jupyter Book's cache (``_build/.jupyter_cache``). The build
(``jupyter-book build . -W -n --keep-going``) then finds every chapter in the cache and
only renders. A chapter that fails stops before the build, with its traceback.

``--check`` executes the given chapters outside the cache, once for every ``--seed-shift``
(``REGLAB_SEED_SHIFT``: every seed of the chapter moved by that much), and reports each run
with its slowest cells: a chapter's assertions must hold for any seed, not only its own.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import yaml

from reglab.course import ROOT, chapters, nbgrader_env
from reglab.env import SHIFT_VARIABLE

if TYPE_CHECKING:
    from jupyter_client import KernelManager

CACHE = ROOT / "_build" / ".jupyter_cache"


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]


@contextmanager
def local_kernel(kernel_name: str) -> Iterator["KernelManager"]:
    """A kernel manager for nbclient (``km=``), shut down on exit.

    It talks over Unix sockets where the OS has them: nothing listens on the network, and
    the kernel has no reason to warn about unencrypted TCP on the terminal.
    """
    from jupyter_client import KernelManager

    with tempfile.TemporaryDirectory(prefix="reglab-kernel-") as sockets:
        km = KernelManager(kernel_name=kernel_name)
        if os.name == "posix":
            km.transport, km.ip = "ipc", str(Path(sockets) / "ipc")
        try:
            yield km
        finally:  # nbclient leaves a kernel it did not create running
            if km.has_kernel:
                km.shutdown_kernel(now=True)


@contextmanager
def seed_shift(shift: int) -> Iterator[None]:
    """Kernels started inside run every seed moved by ``shift`` (``$REGLAB_SEED_SHIFT``)."""
    before = os.environ.get(SHIFT_VARIABLE)
    os.environ[SHIFT_VARIABLE] = str(shift)
    try:
        yield
    finally:
        if before is None:
            del os.environ[SHIFT_VARIABLE]
        else:
            os.environ[SHIFT_VARIABLE] = before


def execute(path: str, timeout: int, shift: int = 0,
            record_timing: bool = False) -> tuple[nbformat.NotebookNode, float, str | None]:
    """Run one notebook in a fresh kernel in its folder: (notebook, seconds, traceback)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    with seed_shift(shift), local_kernel(nb.metadata.kernelspec.name) as km:
        result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                     allow_errors=False, record_timing=record_timing, km=km)
    return nb, result.time, result.exc_string if result.err else None


def cell_seconds(nb: nbformat.NotebookNode) -> list[tuple[int, float]]:
    """(code cell number from 1, seconds) of a notebook executed with ``record_timing``."""
    from datetime import datetime

    times = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, 1):
        stamps = cell.metadata.get("execution", {})
        if "iopub.status.busy" in stamps and "shell.execute_reply" in stamps:
            start, end = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                          for k in ("iopub.status.busy", "shell.execute_reply"))
            times.append((number, (end - start).total_seconds()))
    return times


def execute_chapters(jobs: int, echo: Callable[[str], None] = print) -> list[str]:
    """Execute the chapters missing from the cache, ``jobs`` at a time; return the failures."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(CACHE))
    paths, todo = chapters(), []
    for path in paths:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    echo(f"==> {len(paths) - len(todo)} chapter(s) cached, {len(todo)} to execute"
         + (f", {jobs} at a time" if todo else ""))
    failed = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(execute, str(p), _config()["timeout"]): p for p in todo}
        for done, future in enumerate(as_completed(futures), 1):
            path = futures[future]
            name = path.relative_to(ROOT)
            nb, seconds, error = future.result()
            if error:
                failed.append(str(name))
                echo(f"[{done}/{len(todo)}] FAILED {name} after {seconds:.0f} s\n{error}")
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            echo(f"[{done}/{len(todo)}] executed {name} in {seconds:.0f} s")
    if todo:
        echo(f"==> executed {len(todo) - len(failed)} of {len(todo)} chapter(s) in "
             f"{time.perf_counter() - start:.0f} s")
    return failed


def executed(path: Path) -> nbformat.NotebookNode:
    """The chapter at ``path`` with the outputs of its cached execution (KeyError if none)."""
    from jupyter_cache import get_cache

    return get_cache(str(CACHE)).merge_match_into_notebook(nbformat.read(path, as_version=4))[1]


def build(jobs: int, echo: Callable[[str], None] = print) -> int:
    """Execute what the cache lacks, then run the Jupyter Book build; its exit code."""
    failed = execute_chapters(jobs, echo)
    if failed:
        echo(f"error: {len(failed)} chapter(s) failed to execute: {', '.join(failed)}\n"
             "       fix the cell in the traceback above, then run `make book` again")
        return 1
    echo("==> Rendering the website (jupyter-book build . -W -n --keep-going)")
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W", "-n",
           "--keep-going"]
    sys.stdout.flush()
    code = subprocess.run(cmd, cwd=ROOT, env=nbgrader_env()).returncode
    if code:
        echo("error: the website did not build cleanly (-W turns warnings into errors); "
             "the first warning above says which page and line")
    else:
        # myst-nb writes a chapter it took from the cache into jupyter_execute/ without its
        # outputs; put the executed notebooks there, as a build that executes would.
        for path in chapters():
            target = ROOT / "_build" / "jupyter_execute" / path.relative_to(ROOT)
            nbformat.write(executed(path), target)
        echo("==> Done: open _build/html/index.html")
    return code


def _say(line: str) -> None:
    print(line, flush=True)


def check(paths: list[Path], shifts: list[int], echo: Callable[[str], None] = print) -> int:
    """Execute each chapter once per seed shift, outside the cache; the number of failures."""
    failures = 0
    for path in paths:
        for shift in shifts:
            nb, seconds, error = execute(str(path), _config()["timeout"], shift,
                                         record_timing=True)
            slowest = sorted(cell_seconds(nb), key=lambda t: -t[1])[:3]
            cells = ", ".join(f"cell {n} {s:.0f} s" for n, s in slowest)
            status = "FAILED" if error else "ok"
            echo(f"{status:6} {path.name} seed shift {shift}: {seconds:.0f} s ({cells})")
            if error:
                failures += 1
                echo(error)
    echo(f"==> {len(paths) * len(shifts) - failures} of {len(paths) * len(shifts)} run(s) passed")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reglab.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="chapters executed at once (default: one per core)")
    parser.add_argument("--check", nargs="+", type=Path, metavar="CHAPTER",
                        help="execute these notebooks outside the cache instead of building")
    parser.add_argument("--seed-shift", nargs="+", type=int, default=[0], metavar="N",
                        help="with --check: run once per shift of every seed (default: 0)")
    args = parser.parse_args(argv)
    if args.check:
        missing = [str(p) for p in args.check if not p.is_file()]
        if missing:
            parser.error(f"no such notebook: {', '.join(missing)}")
        return 1 if check([p.resolve() for p in args.check], args.seed_shift, _say) else 0
    return build(args.jobs, echo=_say)


if __name__ == "__main__":
    sys.exit(main())
