"""Grade submissions as an instructor would, with options on nbgrader's command line.

Through :func:`tests.harness.autograde`, but the course directory keeps ``solutions/``
while student code runs (as in the repository), and the gradebook may be any database
URL: the sandbox and PostgreSQL tests need both. Probes are code for submissions that
tries something and prints whether it was allowed.
"""

import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

from tests.support.harness import Result, autograde, notebook_name

# Each probe prints ALLOWED or DENIED, with the exception's name when it is denied.
PROBE = '''
def _probe(label, attempt):
    try:
        value = attempt()
    except BaseException as error:
        print(f"DENIED {label}: {type(error).__name__}", flush=True)
    else:
        print(f"ALLOWED {label}: {str(value)[:60]!r}", flush=True)
'''
# How the sandbox says no; anything else (a NameError, say) is a broken probe.
REFUSALS = {"FileNotFoundError", "PermissionError", "OSError", "ConnectionRefusedError",
            "TimeoutError", "gaierror", "OperationalError", "MemoryError", "BlockingIOError"}


def verdicts(text: str) -> dict[str, tuple[str, str]]:
    """{label: (ALLOWED or DENIED, detail)} from the output of probes."""
    return {m[1]: (m[0], m[2]) for m in re.findall(r"^(ALLOWED|DENIED) (.+?): (.*)$", text, re.M)}


def assert_denied(found: dict[str, tuple[str, str]], labels: list[str]) -> None:
    """Every probe in ``labels`` ran and was refused."""
    missing = [label for label in labels if label not in found]
    assert not missing, f"probes did not run: {missing}; got {found}"
    allowed = {k: v for k, v in found.items() if k in labels and v[0] != "DENIED"}
    assert not allowed, f"the sandbox allowed {allowed}"
    odd = {k: v for k, v in found.items() if k in labels and v[1] not in REFUSALS}
    assert not odd, f"probes failed for another reason than a refusal: {odd}"


def grade(assignment: str, submissions: dict[str, nbformat.NotebookNode], workdir: Path,
          args: Sequence[str] = (), db_url: str | None = None, timeout: float = 900
          ) -> dict[str, Result]:
    """Autograde every submission in a new course directory, ``workdir/course-<assignment>``,
    that keeps ``solutions/``, with extra ``args`` and gradebook ``db_url``."""
    return autograde(assignment, submissions, workdir, args=args, db_url=db_url,
                     keep_solutions=True, timeout=timeout)


def outputs(result: Result, assignment: str, student: str) -> str | None:
    """The text outputs of a graded notebook (None when nbgrader kept no notebook)."""
    path = result.course / "autograded" / student / assignment / notebook_name(assignment)
    if not path.exists():
        return None
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") if out.output_type == "stream"
                         else f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(texts)
