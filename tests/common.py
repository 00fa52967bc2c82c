"""Facts about the course that several test modules read."""

from pathlib import Path

import yaml

from reglab.course import ROOT, assignments
from reglab.grader import secret_lines  # noqa: F401 (the tests import it from here)

HTML = ROOT / "_build" / "html"  # the built website


def chapters() -> list[Path]:
    """Chapter notebooks listed in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]


ASSIGNMENTS = assignments()
