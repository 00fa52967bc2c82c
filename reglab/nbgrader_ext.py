"""nbgrader preprocessor that refuses submissions which tamper with the tests.

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

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

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
TRACEBACK_GUTTER = re.compile(r"^(\s*(?:-+>\s*)?\d+ )(.*)$")  # "     15 code", "---> 12 code"
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


class ClearHiddenTracebacks(NbGraderPreprocessor):
    """Hide hidden-test code in the tracebacks of the feedback.

    nbgrader's ClearHiddenTests removes the hidden tests from the cells' source, but a
    failing test's traceback still quotes the lines around the failure, hidden ones
    included. This replaces each such line with "(hidden test)"; the error message stays.
    Run it before ClearHiddenTests, which removes the markers it reads.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        hidden = {line.strip() for cell in nb.cells
                  for body in HIDDEN_REGION.findall(cell.source + "\n")
                  for line in body.splitlines() if line.strip()}
        hidden |= {"### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [_scrub(frame, hidden) for frame in output.traceback]
        return nb, resources


def _scrub(frame: str, hidden: set[str]) -> str:
    lines = []
    for line in frame.split("\n"):
        match = TRACEBACK_GUTTER.match(ANSI.sub("", line))
        if match and match.group(2).strip() in hidden:
            line = match.group(1) + "(hidden test)"
        lines.append(line)
    return "\n".join(lines)
