"""Build the website: the chapters execute in parallel, then Jupyter Book renders them.

    python -m reglab.book [--jobs N]

Jupyter Book 1 executes notebooks one after another while Sphinx reads them. Here the
chapters that are not in the execution cache yet run first, ``--jobs`` at a time (one per
core by default), each in a fresh kernel in its own folder as Jupyter Book would run it,
and their outputs go into Jupyter Book's cache (``_build/.jupyter_cache``). The build
(``jupyter-book build . -W -n --keep-going``) then finds every chapter in the cache and
only renders. A chapter that fails stops before the build, with its traceback.
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


def _execute(path: str, timeout: int) -> tuple[dict, float, str | None]:
    """Run one notebook in a fresh kernel in its folder: (notebook, seconds, traceback)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    with local_kernel(nb.metadata.kernelspec.name) as km:
        result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                     allow_errors=False, km=km)
    return nb, result.time, result.exc_string if result.err else None


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
        futures = {pool.submit(_execute, str(p), _config()["timeout"]): p for p in todo}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reglab.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="chapters executed at once (default: one per core)")
    args = parser.parse_args(argv)
    return build(args.jobs, echo=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
