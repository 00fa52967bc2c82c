"""Course maintenance: keep notebooks clean and the student release in sync.

    python -m reglab.course format [--check] [NOTEBOOK ...]
    python -m reglab.course release [--check] [ASSIGNMENT ...]

``format`` writes the install lines of :mod:`reglab.bootstrap` at the top of every chapter
and solution, strips outputs and execution counts, gives cells stable ids, keeps only
the kernel's name in the notebook metadata, keeps only the cell metadata that the
course uses (``nbgrader``, ``tags``, ``mystnb``: the alt text of a cell's figures on the
website, and ``editable``/``deletable``) and completes nbgrader cell metadata from a
short form (``grade_id`` and, for graded cells, ``points``).
``release`` regenerates exercises/ from solutions/ with ``nbgrader generate_assignment``,
whose LockCells makes the released tests and set-up cells read-only and undeletable
(``editable``/``deletable`` false; answer cells cannot be deleted); with ``--check`` it
only reports whether the committed release is up to date.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from reglab import bootstrap, markers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("chapters", "solutions", "exercises")
# Notebooks that `format` gives the install lines (exercises get them from the release).
HEADER_DIRS = ("chapters", "solutions")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata that `format` keeps: nbgrader's, tags, myst-nb's (image alt text, figures),
# and the read-only and undeletable marks of released cells (JupyterLab honours them).
CELL_METADATA = ("nbgrader", "tags", "mystnb", "editable", "deletable")


def _complete_nbgrader(cell: dict) -> None:
    meta = cell["metadata"]["nbgrader"]
    if "grade_id" not in meta:
        raise ValueError(f"an nbgrader cell has no grade_id: {cell['source'][:60]!r}")
    grade = "points" in meta
    solution = meta.get(
        "solution",
        markers.BEGIN_SOLUTION in cell["source"] or (cell["cell_type"] == "markdown" and grade),
    )
    full = {
        "grade": grade,
        "grade_id": meta["grade_id"],
        "locked": meta.get("locked", grade and not solution),
        "schema_version": 3,
        "solution": solution,
        "task": meta.get("task", False),
    }
    if grade:
        full["points"] = meta["points"]
    for key in ("checksum", "cell_type"):  # written by nbgrader into released notebooks
        if key in meta:
            full[key] = meta[key]
    cell["metadata"]["nbgrader"] = full


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the notebook as it is stored in git (the input is not modified)."""
    nb = nbformat.from_dict(nbformat.from_dict(nb))
    nb = nbformat.v4.upgrade(nb) if nb.get("nbformat_minor", 0) < 5 else nb
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    seen: dict[str, int] = {}
    for cell in nb.cells:
        keep = {k: cell.metadata[k] for k in CELL_METADATA if k in cell.metadata}
        cell.metadata = keep
        if "nbgrader" in keep:
            _complete_nbgrader(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not cell.get("attachments"):
            cell.pop("attachments", None)
        cell.source = cell.source.strip("\n")
        digest = hashlib.sha1((cell.cell_type + cell.source).encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    return nb


def _dump(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def notebooks(dirs=NOTEBOOK_DIRS) -> list[Path]:
    """Every notebook of the course, checkpoints excluded."""
    found = []
    for folder in dirs:
        found += [p for p in sorted((ROOT / folder).glob("**/*.ipynb"))
                  if ".ipynb_checkpoints" not in p.parts]
    return found


def format_notebooks(paths: list[Path], check: bool) -> list[Path]:
    """Normalize ``paths`` in place (or only report, with ``check``); return those that differ."""
    changed = []
    header, book = bootstrap.header(ROOT), chapters()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        if any(path.resolve().is_relative_to(ROOT / d) for d in HEADER_DIRS):
            bootstrap.with_header(nb, header)
        if path.resolve() in book:
            bootstrap.with_footer(nb, bootstrap.footer(path.resolve(), book, ROOT))
        clean = _dump(normalize(nb))
        if clean != text:
            changed.append(path)
            if not check:
                path.write_text(clean, encoding="utf-8")
    return changed


def chapters() -> list[Path]:
    """Chapter notebooks listed in _toc.yml, in order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]


def assignments() -> list[str]:
    """Names of the assignments: the folders of solutions/."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def nbgrader_env() -> dict:
    """The environment for nbgrader: it runs ``alembic``, which lives beside this Python."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generate_release(names: list[str], dest: Path) -> None:
    """Run ``nbgrader generate_assignment`` for ``names`` into ``dest``/NAME, normalized."""
    with tempfile.TemporaryDirectory(prefix="reglab-release-") as tmp:
        course = Path(tmp)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        shutil.copy(ROOT / "nbgrader_config.py", course)
        for name in names:
            cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                   "--log-level=ERROR"]
            done = subprocess.run(cmd, cwd=course, env=nbgrader_env(), capture_output=True,
                                  text=True)
            if done.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{done.stderr}")
            target = dest / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "exercises" / name, target)
            format_notebooks(sorted(target.glob("**/*.ipynb")), check=False)


def _release(names: list[str], check: bool) -> int:
    if not check:
        generate_release(names, ROOT / "exercises")
        print(f"released {len(names)} assignment(s) into exercises/: {', '.join(names)}")
        return 0
    with tempfile.TemporaryDirectory(prefix="reglab-check-") as tmp:
        generate_release(names, Path(tmp))
        stale = [
            name for name in names
            for fresh in sorted((Path(tmp) / name).glob("**/*.ipynb"))
            if not (ROOT / "exercises" / name / fresh.relative_to(Path(tmp) / name)).exists()
            or (ROOT / "exercises" / name / fresh.relative_to(Path(tmp) / name)).read_text()
            != fresh.read_text()
        ]
    if stale:
        print("exercises/ is out of date for: " + ", ".join(sorted(set(stale)))
              + "\nRun `make release` and commit the result.")
        return 1
    print(f"exercises/ matches solutions/ for {len(names)} assignment(s).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reglab.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fmt = sub.add_parser("format", help="normalize notebooks (no outputs, stable metadata)")
    fmt.add_argument("--check", action="store_true", help="report only; exit 1 if any differ")
    fmt.add_argument("paths", nargs="*", type=Path)
    rel = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    rel.add_argument("--check", action="store_true", help="report only; exit 1 if out of date")
    rel.add_argument("names", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "format":
        paths = [p.resolve() for p in args.paths] or notebooks()
        missing = [p for p in paths if not p.exists()]
        if missing:
            parser.error("no such notebook: " + ", ".join(map(str, missing)))
        changed = format_notebooks(paths, args.check)
        verb = "need formatting" if args.check else "formatted"
        for path in changed:
            print(f"  {verb}: {path.relative_to(ROOT)}")
        print(f"{len(changed)} of {len(paths)} notebook(s) {verb}."
              + (" Run `make format`." if args.check and changed else ""))
        return 1 if args.check and changed else 0
    names = args.names or assignments()
    unknown = sorted(set(names) - set(assignments()))
    if unknown:
        parser.error(f"unknown assignment(s) {unknown}; known: {assignments()}")
    return _release(names, args.check)


if __name__ == "__main__":
    sys.exit(main())
