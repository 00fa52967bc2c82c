"""Collect a learning platform's zip of submissions into submitted/ (entries checked
by reglab/collect.py)."""

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from reglab import collect
from reglab.coursedir import Course
from reglab.gradebook import WORK, GradingError, check_assignment, nbgrader_config, safe_id, say
from reglab.preflight import locate_notebook


def collect_zip(assignment: str, archive: Path, course_dir: Course | Path,
                echo: Callable[[str], None] = say) -> dict[str, list[str]]:
    """Collect a learning platform's zip (Moodle, Canvas, or named as the course's
    FileNameCollectorPlugin.named_regexp says) into submitted/.

    Only notebooks are taken out of the zip, after every entry was checked
    (reglab/collect.py); every entry left out is reported with its reason. Each collected
    student's submitted/<student>/<assignment>/ is replaced and ends up holding
    <assignment>.ipynb, with timestamp.txt when the names give a time; what a name says
    (Canvas's LATE) is kept in grading/<assignment>/collected.json. Returns each collected
    student's notes.
    """
    course = Course.of(course_dir).root
    check_assignment(course, assignment)
    archive = Path(archive).resolve()
    if not archive.is_file():
        raise GradingError(f"{archive} is not a file")
    pattern = nbgrader_config(course).FileNameCollectorPlugin.get("named_regexp")
    extracted = course / "downloaded" / assignment / "extracted"
    try:
        with collect.open_zip(archive) as (zipped, bad_names):
            plan = collect.plan(zipped, bad_names, pattern, str(extracted), safe_id)
            echo(f"==> {archive.name}: {len(zipped.infolist())} entries, "
                 + {"Moodle": "Moodle's layout (student id: the participant id)",
                    "Canvas": "Canvas's layout (student id: the Canvas user id)"}.get(
                        plan.layout, "named as FileNameCollectorPlugin.named_regexp says"))
            takes = _write_submissions(course, assignment, zipped, plan)
    except collect.RefusedZip as error:
        raise GradingError(f"{archive} refused, nothing collected: {error}") from None
    collected = {}
    for student, entries in sorted(takes.items()):
        _, collected[student] = locate_notebook(course, assignment, student)
        if any(t.late for t in entries):
            collected[student].append("LATE (the platform's file name says so)")
        name = next((t.name for t in entries if t.name), "")
        label = f"{student} ({collect.shown(name)})" if name else student
        echo(f"  {label:<22} " + ("; ".join(collected[student]) or "ok"))
    for name, reason in plan.skipped:
        echo(f"  skipped {collect.shown(name)}: {reason}")
    _save_collected(course, assignment, plan.layout, takes)
    echo(f"==> Collected {len(collected)} submission(s) of {assignment} into submitted/"
         + (f"; {len(plan.skipped)} entr{'y' if len(plan.skipped) == 1 else 'ies'} skipped"
            if plan.skipped else ""))
    return collected


def _extract_all(zipped: zipfile.ZipFile, takes: list[collect.Take], new: Path,
                 plan: collect.Plan) -> list[collect.Take]:
    """Extract ``takes`` into the folder ``new``; those that cannot be read join
    ``plan.skipped``. Returns the ones written, with timestamp.txt from their times."""
    written = []
    for take in takes:
        try:
            collect.extract(zipped, take, new / take.file)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                RuntimeError, ValueError) as error:
            (new / take.file).unlink(missing_ok=True)
            plan.skipped.append((take.info.filename, f"cannot be read ({error})"))
        else:
            written.append(take)
    stamps = [t.timestamp for t in written if t.timestamp]
    if stamps:
        (new / "timestamp.txt").write_text(max(stamps))
    return written


def _write_submissions(course: Path, assignment: str, zipped: zipfile.ZipFile,
                       plan: collect.Plan) -> dict[str, list[collect.Take]]:
    """Write the planned entries of each student into a new folder that then replaces
    submitted/<student>/<assignment>/; entries that cannot be written join
    ``plan.skipped`` (a student none of whose entries could be written keeps the old
    folder). Returns each written student's entries."""
    by_student: dict[str, list[collect.Take]] = {}
    for take in plan.takes:
        by_student.setdefault(take.student, []).append(take)
    written = {}
    for student, takes in by_student.items():
        folder = course / "submitted" / student / assignment
        links = [p for p in (folder.parent.parent, folder.parent, folder) if p.is_symlink()]
        if links:
            plan.skipped += [(t.info.filename, f"{links[0].relative_to(course)} is a link: "
                              "not replaced") for t in takes]
            continue
        new = folder.with_name(f".{assignment}.collecting")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        done = _extract_all(zipped, takes, new, plan)
        if not done:
            shutil.rmtree(new)
            if not any(new.parent.iterdir()):
                new.parent.rmdir()  # a student folder made for nothing
            continue
        written[student] = done
        if folder.exists():
            shutil.rmtree(folder)
        new.rename(folder)
    return written


def _save_collected(course: Path, assignment: str, layout: str,
                    takes: dict[str, list[collect.Take]]) -> None:
    """Record what each collected student's entries said in grading/<assignment>/."""
    path = course / WORK / assignment / "collected.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved.update({student: {"layout": layout, "entries": [t.info.filename for t in entries],
                            "late": any(t.late for t in entries),
                            "name": next((t.name for t in entries if t.name), "")}
                  for student, entries in takes.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
