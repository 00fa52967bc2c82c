"""Autograding that decides every test cell outside the student's kernel.

:class:`TrustedExecute` replaces nbgrader's Execute preprocessor. The student's cells run
in the student's (sandboxed) kernel as usual. The set-up cells and every test cell run
here, in the grader, in a namespace of their own: the inputs and the expected values
are made here and never sent. When a test calls a student's function, the call goes to
the student's kernel as one message (:mod:`reglab.remote`) and only plain data comes
back (:mod:`reglab.wire`); objects the student's code made stay there and are used
through handles (:mod:`reglab.student_kernel`). The test cell's outputs are what its code
printed or raised here, so nbgrader scores the verdict of the grader, whatever the
student's kernel did.

In ``nbgrader validate`` and in a student's own Jupyter, the same test cells run in the
student's kernel with nothing of this: there is no answer there to protect.
"""

import ast
import atexit
import contextlib
import gc
import importlib
import io
import linecache
import re
import threading
import time
import traceback
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

from reglab import grading
from reglab.student_kernel import Student, StudentCodeError

# The grader's last garbage collection walks all of TensorFlow's objects (1-2 s per run of
# nbgrader); at exit there is nothing left to collect that matters.
atexit.register(gc.freeze)


def loaded_names(source: str) -> set[str]:
    """The names a cell's code reads."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def defined_names(source: str) -> set[str]:
    """The names a cell defines at its top level (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _error_output(exc: BaseException) -> NotebookNode:
    if hasattr(exc, "_render_traceback_"):
        lines = exc._render_traceback_()
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.startswith("<test ")]
        lines = ["Traceback (most recent call last):",
                 *"".join(traceback.format_list(frames)).rstrip("\n").split("\n"),
                 f"{type(exc).__name__}: {exc}"]
    return NotebookNode(output_type="error", ename=type(exc).__name__, evalue=str(exc),
                        traceback=lines)


class TrustedExecute(Execute):
    """nbgrader's Execute, with set-up and test cells run in the grader (see the module)."""

    def preprocess(self, nb: NotebookNode, resources: dict, km: Any = None) -> tuple:
        self._namespace: dict = {"__name__": "__reglab_tests__"}
        self._from_student: dict[str, Any] = {}
        first_answer = next((i for i, c in enumerate(nb.cells) if _meta(c).get("solution")),
                            len(nb.cells))
        self._trusted_setup = {i for i, c in enumerate(nb.cells[:first_answer])
                               if c.cell_type == "code" and _meta(c).get("locked")}
        self._interface = set().union(*(defined_names(c.source) for c in nb.cells
                                        if c.cell_type == "code" and _meta(c).get("solution")))
        if any(re.search(r"^import (keras|tensorflow)", nb.cells[i].source, re.M)
               for i in self._trusted_setup):
            # Load Keras here while the student's kernel starts: the set-up cell needs it.
            threading.Thread(target=importlib.import_module, args=("keras",), daemon=True).start()
        return super().preprocess(nb, resources, km=km)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple:
        start = time.perf_counter()
        try:
            return self._preprocess_cell(cell, resources, index)
        finally:
            self.log.debug("cell %d (%s): %.2f s", index, _meta(cell).get("grade_id", ""),
                           time.perf_counter() - start)

    def _preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            self._check_assign_resources(resources)
            cell.outputs = self._run_trusted(cell, index)
            return cell, self.resources
        cell, resources = super().preprocess_cell(cell, resources, index)
        if index in self._trusted_setup:
            outputs = self._run_trusted(cell, index, bind=False)
            if any(o.output_type == "error" for o in outputs):
                cell.outputs = [*cell.outputs, *outputs]
        return cell, resources

    def _run_trusted(self, cell: NotebookNode, index: int, bind: bool = True) -> list:
        """Run ``cell`` here, binding the student's names it reads; return its outputs."""
        student = Student(self, index)
        name = _meta(cell).get("grade_id") or f"cell {index}"
        filename = f"<test {name}>"
        linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True),
                                     filename)
        out, outputs = io.StringIO(), []
        previous = grading._PROBE
        grading._PROBE = student.define
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                if bind:
                    self._bind(student, cell.source)
                exec(compile(cell.source, filename, "exec"), self._namespace)
        except (Exception, StudentCodeError) as exc:  # noqa: BLE001 - the test's verdict
            outputs.append(_error_output(exc))
        finally:
            grading._PROBE = previous
        self.log.debug("%s: %d calls, %.2f s in the student's kernel", name, student.calls,
                       student.waited)
        if student.ignored:
            self.log.info("%s: ignored %d outputs of the student's kernel", name, student.ignored)
        text = out.getvalue()
        return ([NotebookNode(output_type="stream", name="stdout", text=text)] if text else []) \
            + outputs

    def _bind(self, student: Student, source: str) -> None:
        """Bind, in the tests' namespace, the student's values of the names the cell reads."""
        own = {k for k, v in self._namespace.items()
               if k not in self._from_student or self._from_student[k] is not v}
        wanted = sorted((loaded_names(source) & self._interface) - own)
        values = student.bind(wanted)
        for key in wanted:
            if key in values:
                self._namespace[key] = self._from_student[key] = values[key]
            else:
                self._namespace.pop(key, None)
                self._from_student.pop(key, None)


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})
