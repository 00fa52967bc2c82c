"""Preflight: find each submission's notebook and repair, in the copy that is graded,
what is safe to repair (submitted/ stays as the student handed it in)."""

import copy
import json
import os
import stat
import warnings
from pathlib import Path

import nbformat

from reglab import gradetask
from reglab.course import KERNELSPEC
from reglab.gradebook import known_assignments

MAX_OUTPUT_BYTES = 1_000_000  # stored outputs above this are cleared before grading
MAX_SUBMISSION_BYTES = 256 * 2**20  # a submission's files above this are not graded


class BadSubmission(Exception):
    """A submission that cannot be graded at all (scored 0 and reported)."""


def _special_files(home: Path) -> list[str]:
    """Links and files that are neither regular files nor folders under ``home`` (or
    ``home`` itself), found with ``lstat``: nbgrader would follow or block on them."""
    found = [home] if home.is_symlink() else []
    for root, dirs, files in os.walk(home):  # os.walk follows no link
        for name in dirs + files:
            path = Path(root, name)
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(path)
    return [f"{p.relative_to(home.parent)} -> {os.readlink(p)}" if p.is_symlink()
            else f"{p.relative_to(home.parent)} (not a regular file)" for p in found]


def find_notebook(course: Path, assignment: str, student: str) -> tuple[Path | None, list[str]]:
    """The notebook of a student's to grade as submitted/STUDENT/A/A.ipynb; (None, why) if none.

    A notebook with another name, or in another folder of the student's (not one of another
    assignment), is taken when it is the only candidate or the only one named A.ipynb.
    """
    home = course / "submitted" / student
    target = home / assignment / f"{assignment}.ipynb"
    if target.exists():
        return target, []
    others = set(known_assignments(course)) - {assignment}
    found = sorted(p for p in home.rglob("*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(home).parts)
                   and p.relative_to(home).parts[0] not in others)
    named = [p for p in found if p.name == target.name]
    pick = named[0] if len(named) == 1 else found[0] if len(found) == 1 else None
    if pick is not None:
        return pick, []
    if not found:
        return None, [f"no notebook in submitted/{student}/{assignment}/"]
    names = ", ".join(str(p.relative_to(home)) for p in found)
    return None, [f"{len(found)} notebooks ({names}) and none is {target.name}: "
                  f"keep the right one in submitted/{student}/{assignment}/{target.name}"]


def locate_notebook(course: Path, assignment: str, student: str) -> tuple[Path | None, list[str]]:
    """:func:`find_notebook`, and move it to submitted/STUDENT/A/A.ipynb if it is elsewhere."""
    pick, notes = find_notebook(course, assignment, student)
    home = course / "submitted" / student
    target = home / assignment / f"{assignment}.ipynb"
    if pick is None or pick == target:
        return pick, notes
    target.parent.mkdir(parents=True, exist_ok=True)
    pick.rename(target)
    return target, [f"moved {pick.relative_to(home)} to {target.relative_to(home)}"]


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _check_shape(nb: nbformat.NotebookNode, notes: list[str]) -> None:
    """Raise BadSubmission unless ``nb`` has a notebook's shape; reset metadata of the wrong
    type (a kernelspec that is a string, say), with a note."""
    if not isinstance(nb.get("metadata"), dict):
        nb.metadata = nbformat.NotebookNode()
        notes.append("broken notebook metadata dropped")
    if not isinstance(nb.get("cells"), list):
        raise BadSubmission("not a notebook: it has no list of cells")
    for index, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw") \
                or not isinstance(cell.get("source"), str):
            raise BadSubmission(f"not a notebook: cell {index} is not a notebook cell")
        if not isinstance(cell.get("metadata"), dict):
            cell.metadata = nbformat.NotebookNode()
            notes.append(f"broken metadata of cell {index} dropped")


def _with_type(cell: nbformat.NotebookNode, cell_type: str) -> nbformat.NotebookNode:
    """``cell`` as a cell of ``cell_type``: same id, source and metadata, no outputs."""
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    new = make(source=cell.source, metadata=cell.metadata)
    if "id" in cell:
        new.id = cell.id
    return new


def _restore_metadata(nb: nbformat.NotebookNode, release: nbformat.NotebookNode,
                      notes: list[str]) -> None:
    """Give every cell of a grade id the release's nbgrader metadata and cell type.

    A cell is known by its grade id or, when its nbgrader metadata is deleted or broken,
    by its cell id. Copies of a grade id and grade ids the release lacks become plain code.
    """
    wanted = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    by_cell_id = {c.get("id"): gid for gid, c in wanted.items()}
    seen, restored = set(), []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        gid = _grade_id(cell) or by_cell_id.get(cell.get("id"))
        if gid is None or gid in seen or gid not in wanted:
            if meta is not None:
                del cell.metadata["nbgrader"]
                notes.append("cell with broken nbgrader metadata kept as plain code"
                             if gid is None else f"cell a copy of {gid} kept as plain code"
                             if gid in seen else f"cell unknown to the assignment: {gid} kept "
                             "as plain code")
            continue
        seen.add(gid)
        want = wanted[gid]
        changed = ["deleted" if meta is None else "broken"] if not isinstance(meta, dict) else \
            sorted(k for k in set(meta) | set(want.metadata.nbgrader)
                   if meta.get(k) != want.metadata.nbgrader.get(k))
        if cell.cell_type != want.cell_type:
            nb.cells[index] = cell = _with_type(cell, want.cell_type)
            changed.append(f"cell type {want.cell_type}")
        cell.metadata["nbgrader"] = copy.deepcopy(want.metadata.nbgrader)
        if changed:
            restored.append(f"{gid} ({', '.join(changed)})")
    if restored:
        notes.append("restored the release's nbgrader metadata of " + "; ".join(restored))


def _output_bytes(nb: nbformat.NotebookNode) -> int:
    return sum(len(json.dumps(cell.get("outputs", []))) for cell in nb.cells)


def _read(text: str) -> tuple[nbformat.NotebookNode, tuple]:
    """The notebook in ``text`` and its (nbformat, minor) as written; BadSubmission if none."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise BadSubmission(f"not a notebook: invalid JSON ({error})") from None
    except RecursionError:
        raise BadSubmission("not a notebook: its JSON is nested too deep") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat_minor", 0), int):
        raise BadSubmission("not a notebook: the JSON is no notebook")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's own repairs (cell ids): done below
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise BadSubmission(f"not a notebook nbformat can read ({error})") from None
    return nb, (raw.get("nbformat"), raw.get("nbformat_minor", 0))


def _upgrade(nb: nbformat.NotebookNode, version: tuple, notes: list[str]
             ) -> nbformat.NotebookNode:
    """nbformat 4.5 and the course's kernel."""
    if version < (4, 5):
        nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=nb.get("nbformat_minor", 0))
        nb.nbformat, nb.nbformat_minor = 4, 5
        notes.append(f"upgraded nbformat {version[0]}.{version[1]} to 4.5")
    spec = nb.metadata.get("kernelspec")
    kernel = spec.get("name") if isinstance(spec, dict) else spec
    if kernel != KERNELSPEC["name"] or not isinstance(spec, dict):
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        notes.append(f"kernel {kernel!r} set to {KERNELSPEC['name']}")
    return nb


def _restore_locked(nb: nbformat.NotebookNode, release: nbformat.NotebookNode,
                    notes: list[str]) -> None:
    """Put back deleted locked cells (tests, set-up) from the release, each where it was."""
    order = [_grade_id(c) for c in release.cells if _grade_id(c)]
    seen = {_grade_id(c) for c in nb.cells} - {None}
    by_id = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    for index, gid in enumerate(order):
        meta = by_id[gid].metadata["nbgrader"]
        if gid in seen or meta.get("solution") or not meta.get("locked"):
            continue  # a missing answer stays missing: a stub could hide the student's code
        before = [g for g in order[:index] if g in seen]
        at = next((i + 1 for i, c in enumerate(nb.cells) if before and _grade_id(c) == before[-1]),
                  0)
        while 0 < at < len(nb.cells) and not _grade_id(nb.cells[at]):
            at += 1  # after the cells the student added below the previous graded cell
        nb.cells.insert(at, copy.deepcopy(by_id[gid]))
        seen.add(gid)
        notes.append(f"restored deleted cell {gid}")


def _restore_order(nb: nbformat.NotebookNode, release: nbformat.NotebookNode,
                   notes: list[str]) -> None:
    """Graded cells in the release's order, each with the cells below it."""
    groups: list[list] = []
    for cell in nb.cells:
        if _grade_id(cell) or not groups:
            groups.append([cell])
        else:
            groups[-1].append(cell)
    rank = {gid: i for i, gid in enumerate(c for c in map(_grade_id, release.cells) if c)}
    ranked = sorted(groups, key=lambda g: rank.get(_grade_id(g[0]), -1))
    if ranked != groups:
        nb.cells = [cell for group in ranked for cell in group]
        notes.append("graded cells out of order: restored the release order")


def _tidy(nb: nbformat.NotebookNode, notes: list[str]) -> None:
    """Huge outputs cleared; cell ids made unique."""
    size = _output_bytes(nb)
    if size > MAX_OUTPUT_BYTES:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notes.append(f"cleared {size / 1e6:.1f} MB of outputs")
    ids = set()
    for cell in nb.cells:
        if cell.get("id") in ids:
            cell.id = nbformat.v4.new_code_cell().id
        ids.add(cell.get("id"))


def repair_notebook(text: str, release: nbformat.NotebookNode
                    ) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Repair a submitted notebook's text; return (repaired notebook or None if clean, notes).

    Upgrades old nbformat minor versions, names the course kernel, gives every graded cell
    the release's nbgrader metadata and cell type (flipped flags, edited checksums and
    deleted metadata undone), keeps the first of cells that share a grade id (a copied or
    split cell), drops grade ids the assignment does not have, puts back deleted locked
    cells from the release (nbgrader restores edited ones itself), restores the release
    order of the graded cells and clears huge outputs. Raises BadSubmission when the text
    is not a notebook.
    """
    nb, version = _read(text)
    notes: list[str] = []
    _check_shape(nb, notes)
    nb = _upgrade(nb, version, notes)
    _restore_metadata(nb, release, notes)
    _restore_locked(nb, release, notes)
    _restore_order(nb, release, notes)
    _tidy(nb, notes)
    return (nb if notes else None), notes


def preflight(course: Path, assignment: str, student: str) -> tuple[gradetask.Files, list[str]]:
    """The files to grade of one submission, repaired where that is safe, and what was done.

    submitted/ is left as the student handed it in: the repairs are made to the copy that is
    graded. Raises BadSubmission when there is no readable notebook to grade, when the
    submission holds a link or a special file anywhere (a link could point the grader, which
    follows links, at the instructor's files), or when its files are too large.
    """
    home = course / "submitted" / student
    special = _special_files(home)
    if special:
        raise BadSubmission(f"{len(special)} link(s) or special file(s) in submitted/: "
                            + "; ".join(special[:3]) + ". Nothing graded: review by hand")
    path, notes = find_notebook(course, assignment, student)
    if path is None:
        raise BadSubmission("; ".join(notes))
    folder, name = home / assignment, f"{assignment}.ipynb"
    size = sum(p.stat().st_size for p in [path, *folder.rglob("*")] if p.is_file())
    if size > MAX_SUBMISSION_BYTES:
        raise BadSubmission(f"{size / 2**20:.0f} MiB of files, over the limit of "
                            f"{MAX_SUBMISSION_BYTES / 2**20:.0f} MiB: review by hand")
    files = gradetask.read_files(folder) if folder.is_dir() else {}
    if path != folder / name:
        files.pop(str(path.relative_to(folder)) if path.is_relative_to(folder) else "", None)
        notes.append(f"graded {path.relative_to(home)} as {assignment}/{name}")
    release = nbformat.read(course / "exercises" / assignment / name, 4)
    text = path.read_text(encoding="utf-8", errors="replace")
    repaired, repairs = repair_notebook(text, release)
    if repaired is not None:
        try:
            text = nbformat.writes(repaired)
        except Exception as error:  # noqa: BLE001 - grade it as submitted rather than stop
            repairs = [f"left as submitted, the repair failed ({error})"]
    files[name] = text.encode("utf-8")
    return files, notes + repairs
