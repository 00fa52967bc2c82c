"""Facts about the course that several test modules read."""

import re
from pathlib import Path

import nbformat
import yaml

from reglab.course import ROOT, assignments

HTML = ROOT / "_build" / "html"  # the built website
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def chapters() -> list[Path]:
    """Chapter notebooks listed in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]


def secret_lines(assignment: str, min_length: int = 30) -> set[str]:
    """Distinctive lines of the solution regions and hidden tests of an assignment."""
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(source, as_version=4)
    release = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text()
    lines = set()
    for cell in nb.cells:
        for _, body in REGION.findall(cell.source + "\n"):
            for line in body.splitlines():
                line = line.strip()
                if len(line) >= min_length and line not in release:
                    lines.add(line)
    return lines


ASSIGNMENTS = assignments()
