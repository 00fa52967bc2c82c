"""nbgrader preprocessors: cap outputs, keep hidden tests out of feedback and manual
grades reviewed. (The test cells themselves run in the grader: reglab/verdicts.py.)
"""

import re
from collections.abc import Iterable

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades
from traitlets import Integer

from reglab import markers

# The student ids the grader accepts: no path, glob, option, space or line break in them.
STUDENT_ID = r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}"
# TensorFlow's C++ and absl log lines on stderr, which nbgrader would score as a failure.
TF_LOG_PATTERN = (r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                  r"|[IWE]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\])")


ANSI = re.compile(r"\x1b\[[0-9;]*m")
MIN_QUOTE = 16  # letters, digits and _ of a hidden line that make a quote of it


def squeezed(text: str) -> str:
    """``text`` without colours, spaces, quotes, escapes or other punctuation: how a line of
    code is compared with outputs that may print it escaped (``repr``) or rewrapped."""
    return re.sub(r"\W+", "", ANSI.sub("", text))


def quoted(lines: Iterable[str], text: str) -> list[str]:
    """The ``lines`` that ``text`` quotes, compared :func:`squeezed`."""
    haystack = squeezed(text)
    return [line for line in lines if len(squeezed(line)) >= MIN_QUOTE
            and squeezed(line) in haystack]


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def _output_text(output: NotebookNode) -> str:
    """Every text an output holds (stream, error, each data format), joined."""
    parts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", ""),
             *output.get("traceback", []), *output.get("data", {}).values()]
    return "\n".join(_joined(p) if isinstance(p, str | list) else str(p) for p in parts)


class ClearTestOutputs(NbGraderPreprocessor):
    """Keep hidden tests out of the outputs that feedback shows.

    A test cell's outputs can show anything the code under test saw while it ran, hidden
    tests included (``In[-1]`` is the running cell's source), so feedback shows none of
    them: the cell's score says whether it passed, and its visible tests run on the
    student's laptop. Any other output that quotes a line of a hidden test is replaced by
    a note. Run it before ClearHiddenTests, which removes the markers it reads.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        hidden = {line.strip() for cell in nb.cells
                  for body in markers.HIDDEN_REGION.findall(cell.source + "\n")
                  for line in body.splitlines()}
        visible = squeezed("\n".join(markers.HIDDEN_REGION.sub("", c.source) for c in nb.cells))
        hidden = {line for line in hidden if squeezed(line) not in visible}
        for cell in (c for c in nb.cells if c.cell_type == "code"):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                cell.outputs = []
                continue
            cell.outputs = [nbformat.v4.new_output(
                "stream", name="stdout", text="(output removed: it quotes a hidden test)\n")
                if quoted(hidden, _output_text(out)) else out for out in cell.outputs]
        return nb, resources


class LimitOutputBytes(NbGraderPreprocessor):
    """Cap the outputs stored for each code cell at about ``max_bytes`` characters.

    nbgrader's LimitOutput counts lines, so one huge line is stored whole. Past the cap,
    text is cut and a rich output (an image, HTML) is replaced by a note; an error or a
    stream is cut, never dropped, since it decides a test cell's score.
    """

    max_bytes = Integer(1_000_000, help="Characters of output kept per cell.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int
                        ) -> tuple[NotebookNode, dict]:
        if cell.cell_type == "code":
            room = self.max_bytes
            for output in cell.outputs:
                if len(_output_text(output)) > room:
                    self._cut(output, max(room, 0))
                room -= len(_output_text(output))
        return cell, resources

    def _cut(self, output: NotebookNode, room: int) -> None:
        note = f"\n... output cut: a cell keeps {self.max_bytes} characters ...\n"
        if output.output_type == "stream":
            output.text = _joined(output.text)[:room] + note
        elif output.output_type == "error":
            output.ename, output.evalue = output.ename[:200], output.evalue[:room // 2] + note
            output.traceback = [_joined(output.traceback)[:room // 2] + note]
        else:
            output.data, output.metadata = {"text/plain": note.strip()}, {}


class KeepManualGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, except that a cell graded by hand is not flagged again.

    nbgrader flags every cell that has a manual score "needs manual grade" at each
    autograde, so after a regrade every manual grade looks pending; here a cell needs a
    manual grade only when it has neither an automatic nor a manual score.
    """

    def _add_score(self, cell: NotebookNode, resources: dict) -> None:
        super()._add_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"],
                                          self.notebook_id, self.assignment_id, self.student_id)
        if grade.manual_score is not None and grade.needs_manual_grade:
            grade.needs_manual_grade = False
            self.gradebook.db.commit()
