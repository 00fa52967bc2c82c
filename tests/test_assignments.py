"""Every assignment, graded by the real nbgrader: the solution gets full marks, the
untouched release zero, each plausible wrong answer loses points, each correct
answer in another style keeps full marks, each cheat gains nothing."""

import pytest

from reglab import markers, sandbox
from reglab.course import assignments
from tests.support import harness
from tests.support.common import COURSE, secret_lines
from tests.support.submissions import CHEATS

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignments()
MUTANTS = [(a, f, m) for a in ASSIGNMENTS
           for f, ms in harness.load_cases(a).MUTANTS.items() for m in ms]
ALTERNATIVES = [(a, k) for a in ASSIGNMENTS for k in harness.load_cases(a).ALTERNATIVES]
_graded: dict[str, dict[str, harness.Result]] = {}


def graded(assignment: str, tmp_path_factory) -> dict[str, harness.Result]:
    """Every submission of one assignment, graded once per test worker.

    The solution, the release, the alternatives, the cheats and the mutants all go through
    the real ``nbgrader autograde`` with the project's configuration, each kernel sandboxed
    as ``make grade`` runs it, in one batch.
    """
    if assignment not in _graded:
        solution = harness.solution_submission(assignment)
        release = harness.read("exercises", assignment)
        cases = harness.load_cases(assignment)
        subs = {"solution": solution, "release": release}
        for i, functions in enumerate(cases.ALTERNATIVES.values()):
            nb = solution
            for function, code in functions.items():
                nb = harness.with_code(nb, function, code)
            subs[f"alternative-{i}"] = nb
        names = harness.graded_functions(assignment)
        for key, cheat in CHEATS.items():
            subs[f"cheat-{key}"] = cheat(harness, assignment, names)
        for function, mutants in cases.MUTANTS.items():
            for i, code in enumerate(mutants.values()):
                subs[f"mutant-{function}-{i}"] = harness.with_code(solution, function, code)
        _graded[assignment] = harness.autograde(assignment, subs, tmp_path_factory.mktemp("g"),
                                                args=sandbox.autograde_args())
    return _graded[assignment]


def _group(assignment):
    return pytest.mark.xdist_group(assignment)


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=_group(a)) for a in ASSIGNMENTS])
def test_solution_gets_full_marks(assignment, tmp_path_factory):
    result = graded(assignment, tmp_path_factory)["solution"]
    lost = {k: v for k, v in result.cells.items() if k.startswith("test_") and v[0] != v[1]}
    assert result.cells, f"the solution was not graded:\n{result.log[-3000:]}"
    assert not lost, f"the solution lost points in {lost}"


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=_group(a)) for a in ASSIGNMENTS])
def test_untouched_release_gets_zero(assignment, tmp_path_factory):
    result = graded(assignment, tmp_path_factory)["release"]
    assert result.cells, f"the release was not graded:\n{result.log[-3000:]}"
    scored = {k: v for k, v in result.cells.items() if v[0]}
    assert not scored, f"the untouched release scored in {scored}"


@pytest.mark.parametrize(
    "assignment,function,mutant",
    [pytest.param(a, f, m, marks=_group(a), id=f"{a}:{f}:{m}") for a, f, m in MUTANTS],
)
def test_wrong_answer_loses_points(assignment, function, mutant, tmp_path_factory):
    index = list(harness.load_cases(assignment).MUTANTS[function]).index(mutant)
    result = graded(assignment, tmp_path_factory)[f"mutant-{function}-{index}"]
    score, maximum = result.auto(f"test_{function}")
    assert maximum > 0, f"no test cell is named test_{function}_*"
    assert score < maximum, f"{mutant!r} kept all {maximum} points of {function}"


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=_group(a)) for a in ASSIGNMENTS])
def test_visible_tests_catch_every_mutant(assignment, tmp_path_factory):
    """`nbgrader validate` says "Success!" to no wrong answer: every mutant fails a visible
    test cell of its own function in the release (hidden tests stripped), all in one kernel,
    next to the solution, which passes every visible test.

    The one-kernel scorer is checked against nbgrader on every mutant: a test cell it fails
    must also lose points in the real ``nbgrader autograde`` of that mutant (visible tests
    come first in the cell), or the scorer saw a failure that grading does not."""
    solution = harness.solution_submission(assignment)
    subs, real = {"solution": solution}, {}
    nbgrader = graded(assignment, tmp_path_factory)
    for function, mutants in harness.load_cases(assignment).MUTANTS.items():
        for index, (label, code) in enumerate(mutants.items()):
            subs[f"{function}: {label}"] = harness.with_code(solution, function, code)
            real[f"{function}: {label}"] = nbgrader[f"mutant-{function}-{index}"]
    results = harness.grade_visible_in_one_kernel(subs)
    lost = {k: v for k, v in results.pop("solution").cells.items() if v[0] != v[1]}
    assert not lost, f"the solution fails visible tests: {lost}"
    validated, unlike_nbgrader = [], []
    for name, result in results.items():
        score, maximum = result.auto(f"test_{name.split(':')[0]}")
        assert maximum > 0, f"{name}: no test cell of its function was scored"
        if score == maximum:
            validated.append(name)
        unlike_nbgrader += [f"{name} ({cell})" for cell, (got, most) in result.cells.items()
                            if got != most and real[name].cells.get(cell, (None, 0))[0] == most]
    assert not validated, ("nbgrader validate would pass these wrong answers (only hidden tests "
                           f"catch them; add a visible check): {validated}")
    assert not unlike_nbgrader, ("visible tests fail in one kernel but pass in nbgrader "
                                 f"autograde: {unlike_nbgrader}")


@pytest.mark.parametrize(
    "assignment,alternative",
    [pytest.param(a, k, marks=_group(a), id=f"{a}:{k}") for a, k in ALTERNATIVES],
)
def test_correct_answer_in_another_style_gets_full_marks(assignment, alternative,
                                                         tmp_path_factory):
    index = list(harness.load_cases(assignment).ALTERNATIVES).index(alternative)
    result = graded(assignment, tmp_path_factory)[f"alternative-{index}"]
    lost = {k: v for k, v in result.cells.items() if k.startswith("test_") and v[0] != v[1]}
    assert result.cells and not lost, f"{alternative!r} lost points in {lost}"


@pytest.mark.parametrize(
    "assignment,cheat",
    [pytest.param(a, c, marks=_group(a), id=f"{a}:{c}") for a in ASSIGNMENTS for c in CHEATS],
)
def test_cheat_gains_nothing(assignment, cheat, tmp_path_factory):
    result = graded(assignment, tmp_path_factory)[f"cheat-{cheat}"]
    score, maximum = result.auto()
    assert result.cells, "the cheat was not graded"
    assert score == 0, f"the cheat {cheat!r} scored {score} of {maximum}: {result.cells}"


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=_group(a)) for a in ASSIGNMENTS])
def test_feedback_shows_scores_but_no_hidden_test(assignment, tmp_path_factory):
    result = graded(assignment, tmp_path_factory)["solution"]
    page = harness.feedback_html(result, assignment, "solution")
    assert "Score" in page or "score" in page
    assert markers.BEGIN_HIDDEN not in page
    hidden = [line for line in secret_lines(COURSE, assignment) if line in page]
    solution_lines = set()
    for cell in harness.solution_submission(assignment).cells:
        solution_lines.update(line.strip() for line in cell.source.splitlines())
    leaked = [line for line in hidden if line not in solution_lines]
    assert not leaked, f"hidden-test lines in the feedback: {leaked[:3]}"
