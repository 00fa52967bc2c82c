"""nbgrader preprocessors: refuse submissions which tamper with the tests, cap outputs,
keep hidden tests out of feedback and manual grades reviewed.

Student code runs in the same kernel as the tests, so it could replace a comparison
helper, a builtin or a module the tests use. ``TamperScan`` reads the source of the
cells a student may edit (not the locked cells, which nbgrader restores) and looks
for code that rebinds or patches what the tests rely on, runs hidden code, or reads
the instructor's files. A submission with any finding gets an error output on every
autograded test cell (so zero points for them), naming each finding, for the
instructor to review. The runtime checks in :mod:`reglab.grading` are a second line.
"""

import ast
import re
from collections.abc import Iterable

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades
from traitlets import Integer

# Names the tests use: rebinding them, or writing attributes on them, is tampering.
PROTECTED = {"_g", "reglab", "np", "numpy", "math", "builtins", "__builtins__", "sys", "keras",
             "tf", "tensorflow", "IPython", "get_ipython", "AssertionError", "Exception",
             "isinstance", "float", "int", "len", "abs", "type", "print", "open"}
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__", "setattr", "delattr", "globals",
                   "vars", "get_ipython"}
FORBIDDEN_MODULES = {"ctypes", "gc", "importlib", "inspect", "builtins", "IPython", "subprocess",
                     "socket", "os", "shutil", "pathlib", "glob", "nbformat", "sqlite3",
                     "multiprocessing", "signal", "pickle", "marshal", "types"}
FORBIDDEN_ATTRS = {"__code__", "__globals__", "__builtins__", "__dict__", "__closure__",
                   "_getframe", "modules", "showtraceback", "_showtraceback", "excepthook",
                   "__class__", "__subclasses__", "f_globals", "f_locals"}
FORBIDDEN_TEXT = (".ipynb", "gradebook", "solutions/", "autograded", "submitted/")
# The student ids the grader accepts: no path, glob, option, space or line break in them.
STUDENT_ID = r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}"
# TensorFlow's C++ and absl log lines on stderr, which nbgrader would score as a failure.
TF_LOG_PATTERN = (r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                  r"|[IWE]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\])")


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan(source: str) -> list[str]:
    """Findings of tampering in one cell's source (empty when it looks clean)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []  # a syntax error costs the student the cell's tests anyway
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in PROTECTED:
            found.append(f"line {node.lineno}: redefines {node.name}")
        elif isinstance(node, ast.Global):
            found += [f"line {node.lineno}: global {n}" for n in node.names if n in PROTECTED]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FORBIDDEN_CALLS:
            found.append(f"line {node.lineno}: calls {node.func.id}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for mod in mods:
                if mod and mod.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"line {node.lineno}: imports {mod}")
            for alias in node.names:
                if (alias.asname or alias.name) in PROTECTED - {"np", "math", "keras", "tf"}:
                    found.append(f"line {node.lineno}: imports over {alias.asname or alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
            found.append(f"line {node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and any(t in node.value for t in FORBIDDEN_TEXT):
            found.append(f"line {node.lineno}: names {node.value!r}")
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute | ast.Subscript | ast.Name):
                    root = _root_name(sub)
                    if root in PROTECTED:
                        found.append(f"line {node.lineno}: assigns to {ast.unparse(sub)}")
                        break
    return sorted(set(found))


class TamperScan(NbGraderPreprocessor):
    """Zero the autograded test cells of a submission whose editable cells tamper."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        findings = []
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or meta.get("locked") or meta.get("grade"):
                continue
            findings += [f"cell {index}, {item}" for item in scan(cell.source)]
        if findings:
            message = ("Grading refused: this submission changes what the tests rely on or "
                       "reads files it should not:\n  " + "\n  ".join(findings))
            self.log.warning(message)
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("grade"):
                    cell.outputs.append(NotebookNode(
                        output_type="error", ename="TamperingDetected",
                        evalue=message, traceback=[message]))
        return nb, resources


ANSI = re.compile(r"\x1b\[[0-9;]*m")
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
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
                  for body in HIDDEN_REGION.findall(cell.source + "\n")
                  for line in body.splitlines()}
        visible = squeezed("\n".join(HIDDEN_REGION.sub("", c.source) for c in nb.cells))
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
