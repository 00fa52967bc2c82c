"""Verdicts decided outside the student's kernel: attacks on the checks gain nothing.

One batch through the real ``nbgrader autograde``, sandboxed as ``make grade`` runs it:
honest students, a wrong answer, the same wrong answer with each attack that used to
fool checks running beside the student's code, and a spy that records everything its
kernel is sent. Each attacker keeps the wrong answer's honest score; the spy shows that
no line of a test cell, and so no expected value, ever reaches the student's kernel.
"""

import ast
import json
import re

import nbformat
import pytest

from reglab import sandbox
from tests.support import harness
from tests.support.common import COURSE, secret_lines

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("verdicts")]
ASSIGNMENT = "01_bias_variance"

WRONG = {
    "bias_variance_decomposition": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    if predictions.ndim != 2 or y_true.shape != (predictions.shape[1],):
        raise ValueError("shapes")
    return 0.0, 0.0''',
    "diagnose": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    return "good fit"''',
    "best_polynomial_degree": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    return int(degrees[0]), [0.0] * len(degrees), [0.0] * len(degrees)''',
}
PASS_ALL = "lambda *a, **k: None"
# Each attack is appended to the wrong answer's last answer cell (unless said otherwise).
ATTACKS = {
    "ast transformer through an alias of get_ipython": '''
import ast as _ast
_shell = globals()["get_" + "ipython"]()
class _Wrap(_ast.NodeTransformer):
    def visit_Module(self, node):
        handler = _ast.ExceptHandler(type=_ast.Name("BaseException", _ast.Load()), name=None,
                                     body=[_ast.Pass()])
        node.body = [_ast.Try(body=node.body or [_ast.Pass()], handlers=[handler], orelse=[],
                              finalbody=[])]
        return _ast.fix_missing_locations(node)
_shell.ast_transformers.append(_Wrap())''',
    "input transformer that blanks every cell": '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])''',
    "%time line magic patching the checks": f'''
%time _g._fail = {PASS_ALL}''',
    "unparsable cell with a magic assignment": f'''
x = %time 0
_g.assert_close = _g.assert_equal = _g.assert_raises = {PASS_ALL}''',
    "exec reached through __builtins__": f'''
getattr(__builtins__, "ex" + "ec")("import reglab.grading as g\\n"
    "g.assert_close = g.assert_equal = g.assert_raises = g._fail = {PASS_ALL}")''',
    "object.__setattr__ on the checks": f'''
for _n in ("assert_close", "assert_equal", "assert_raises", "_fail"):
    object.__setattr__(_g, _n, {PASS_ALL})''',
    "gc.get_referents to the checks' globals": f'''
import gc
for _d in gc.get_referents(_g):
    if isinstance(_d, dict) and "_fail" in _d:
        _d["_fail"] = {PASS_ALL}''',
    "sys.settrace rewriting the checks as they run": f'''
import sys
def _trace(frame, event, arg):
    if frame.f_code.co_filename.endswith("grading.py"):
        frame.f_globals["_fail"] = {PASS_ALL}
    return _trace
sys.settrace(_trace)''',
    "frame oracle reading the expected value": '''
import sys as _sys
_wrong_diagnose = diagnose
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    frame = _sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for name in ("_exp", "_expected"):
                if isinstance(scope.get(name), str):
                    return scope[name]
        consts = [c for c in frame.f_code.co_consts if isinstance(c, str) and
                  c in {"high bias", "high variance", "high bias and high variance"}]
        if consts:
            return consts[0]
        frame = frame.f_back
    return _wrong_diagnose(train_error, val_error, baseline_error, tolerance)''',
}
FAKE_CHECKS = "\n".join(f"def {n}(*a, **k):\n    return None\n"
                        for n in ("assert_close", "assert_equal", "assert_raises", "passed"))
FAKE_GRADING_CELL = f'''
import sys, types
_fake = types.ModuleType("reglab.grading")
exec({FAKE_CHECKS!r}, _fake.__dict__)
sys.modules["reglab.grading"] = _fake'''
SPY = '''
import ast as _spy_ast
_spy_seen = set()
def _spy_cells(lines):
    _spy_seen.update(line.rstrip("\\n") for line in lines)
    return lines
_spy_shell = get_ipython()
_spy_shell.input_transformers_cleanup.insert(0, _spy_cells)
_spy_expressions = _spy_shell.user_expressions
def _spy_user_expressions(expressions):
    for text in expressions.values():
        _spy_seen.add("<user expression>")
        for node in _spy_ast.walk(_spy_ast.parse(text)):
            if isinstance(node, _spy_ast.Constant) and isinstance(node.value, str):
                _spy_seen.update("<call> " + line for line in node.value.splitlines())
    return _spy_expressions(expressions)
_spy_shell.user_expressions = _spy_user_expressions'''
SPY_REPORT = 'print("SPY" + __import__("json").dumps(sorted(_spy_seen)))'


def _answer_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def _wrong() -> nbformat.NotebookNode:
    nb = harness.solution_submission(ASSIGNMENT)
    for name, code in WRONG.items():
        nb = harness.with_code(nb, name, code)
    return nb


def _appended(nb: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells[_answer_cells(nb)[-1]].source += "\n\n" + code.strip("\n")
    return nb


def _submissions() -> tuple[dict, dict]:
    wrong = _wrong()
    subs = {"honest": harness.solution_submission(ASSIGNMENT), "wrong": wrong}
    for i, code in enumerate(ATTACKS.values()):
        subs[f"attack-{i}"] = _appended(wrong, code)
    locked = _appended(wrong, f"_g.assert_close = _g.assert_equal = {PASS_ALL}")
    locked.cells[_answer_cells(locked)[-1]].metadata.nbgrader["locked"] = True
    subs["attack-locked-metadata"] = locked
    above = nbformat.from_dict(json.loads(json.dumps(wrong)))
    above.cells.insert(0, nbformat.v4.new_code_cell(FAKE_GRADING_CELL.strip()))
    subs["attack-fake-module-above-setup"] = above
    subs["attack-reglab-package-in-folder"] = wrong
    spy = _appended(harness.solution_submission(ASSIGNMENT), SPY)
    spy.cells.append(nbformat.v4.new_code_cell(SPY_REPORT))
    subs["spy"] = spy
    package = {"reglab/__init__.py": "from . import grading\n", "reglab/grading.py": FAKE_CHECKS}
    return subs, {"attack-reglab-package-in-folder": package}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs, files = _submissions()
    results = harness.autograde(ASSIGNMENT, subs, tmp_path_factory.mktemp("verdicts"),
                                args=sandbox.autograde_args(), files=files)
    return subs, results


def test_honest_students_get_full_marks(graded):
    _, results = graded
    for student in ("honest", "spy"):
        score, maximum = results[student].auto()
        assert score == maximum > 0, f"{student}: {results[student].cells}"


@pytest.mark.parametrize("attack", [*range(len(ATTACKS)), "locked-metadata",
                                    "fake-module-above-setup", "reglab-package-in-folder"])
def test_each_attack_keeps_the_wrong_answers_honest_score(graded, attack):
    _, results = graded
    honest, maximum = results["wrong"].auto()
    assert 0 < honest < maximum, f"the wrong answer should score some points: {honest}"
    result = results[f"attack-{attack}"]
    label = list(ATTACKS)[attack] if isinstance(attack, int) else attack
    assert result.cells, f"{label}: not graded"
    assert result.auto()[0] == honest, (
        f"{label}: scored {result.auto()[0]}, the wrong answer honestly {honest}: "
        f"{result.cells} vs {results['wrong'].cells}")


def test_no_line_of_a_test_cell_reaches_the_students_kernel(graded):
    """The spy sees every cell and every call its kernel runs: no test code is among them."""
    _, results = graded
    path = (results["spy"].course / "autograded" / "spy" / ASSIGNMENT /
            harness.notebook_name(ASSIGNMENT))
    text = "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells
                   if c.cell_type == "code" for o in c.outputs)
    found = re.search(r"SPY(\[.*\])", text)
    assert found, f"the spy printed nothing: {text[-500:]}"
    seen = json.loads(found.group(1))
    assert "<user expression>" in seen, "the spy saw no call: it would prove nothing"
    cells = {line.strip() for line in seen if not line.startswith("<call> ")}
    calls = "\n".join(line for line in seen if line.startswith("<call> "))
    tests = [c.source for c in harness.read("solutions", ASSIGNMENT).cells
             if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata["nbgrader"].get("solution")]
    test_lines = {line.strip() for src in tests for line in src.splitlines()
                  if len(line.strip()) > 20 and "_g." in line}
    assert test_lines, "no test line to look for"
    reached = sorted(line for line in test_lines if line in cells or line in calls)
    assert not reached, f"test lines reached the student's kernel: {reached[:3]}"
    hidden = [line for line in secret_lines(COURSE, ASSIGNMENT) if line in cells or line in calls]
    assert not hidden, f"hidden-test lines reached the student's kernel: {hidden[:3]}"
    expected = {node.value for src in tests for node in ast.walk(ast.parse(src))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                and node.value in {"high bias", "high variance", "high bias and high variance"}}
    sent = [value for value in expected if json.dumps(value) in calls]
    assert expected and not sent, f"expected diagnoses were sent to the kernel: {sent}"
