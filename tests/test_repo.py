"""Fast checks of the repository: notebooks clean and conventional, no leaks, lint."""

import ast
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from reglab import bootstrap, markers
from reglab.course import ROOT, format_notebooks, notebooks
from tests.support import harness
from tests.support.common import ASSIGNMENTS, COURSE, chapters, secret_lines


def test_notebooks_are_stored_clean():
    """No outputs, no execution counts, stable ids and metadata (`make format` fixes)."""
    dirty = format_notebooks(notebooks(), check=True)
    assert not dirty, f"run `make format`: {[str(p.relative_to(ROOT)) for p in dirty]}"


def test_every_chapter_is_in_the_book_and_paired_with_an_assignment():
    listed = {p.stem for p in chapters()}
    on_disk = {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    assert on_disk == listed, f"chapters not in _toc.yml: {on_disk - listed}"
    assert listed == set(ASSIGNMENTS), "each chapter NN_topic has solutions/NN_topic and back"


@pytest.mark.parametrize("path", chapters() + [
    ROOT / "solutions" / a / f"{a}.ipynb" for a in ASSIGNMENTS], ids=lambda p: p.stem)
def test_notebook_conventions(path):
    """Quiet and seeded set-up first, offline data, no progress bars."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith(bootstrap.header() + "\n\n"), \
        "the first code cell starts with the install lines (`make format` writes them)"
    first = bootstrap.strip_header(code[0])
    assert first.startswith("import reglab"), "after them, the first line is `import reglab`"
    assert "reglab.setup(seed=" in first, "the first code cell calls reglab.setup(seed=...)"
    everything = "\n".join(code)
    assert "keras.datasets" not in everything and "urlretrieve" not in everything
    for call in re.findall(r"(?<!Polynomial)\.fit\((?:[^()]|\([^()]*\))*\)", everything):
        assert "verbose=0" in call or "verbose=2" in call, f"fit without verbose=0: {call[:80]}"


@pytest.mark.parametrize("path", chapters() + [
    ROOT / "exercises" / a / f"{a}.ipynb" for a in ASSIGNMENTS], ids=lambda p: p.parent.name)
def test_notebook_opened_alone_links_absolutely(path):
    """No relative link a notebook opened alone (Colab, a download) could not follow."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    relative = [link for link in re.findall(r"\]\(([^)]+)\)", text)
                if not link.startswith(("https://", "#"))]
    assert not relative, f"relative links (use the website's absolute URL): {relative}"
    if path.parent.name == "chapters":
        assert nb.cells[-1].source == bootstrap.footer(path, chapters()), "run `make format`"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_chapter_ends_with_summary_and_exercises(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in text and "## Exercises" in text
    assert text.index("## Summary") < text.index("## Exercises")


# Seeds a chapter may write as numbers: reglab shifts them itself (REGLAB_SEED_SHIFT).
SHIFTING_CALLS = {"setup", "digits", "seed", "seeds", "rng"}
SEEDING_CALLS = {"default_rng", "RandomState", "set_random_seed", "set_seed", "SeedGenerator",
                 "Generator", "PCG64", "seed"}


def _fixed_seeds(source: str) -> list[str]:
    """Calls in ``source`` that seed with a literal number that the seed shift would not move."""
    found = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in SHIFTING_CALLS:
            continue
        literal = [a for a in call.args if isinstance(a, ast.Constant)] if name in SEEDING_CALLS \
            else []
        literal += [k.value for k in call.keywords if k.arg in {"seed", "random_state"}
                    and isinstance(k.value, ast.Constant) and k.value.value is not None]
        if literal or (name in {"default_rng", "RandomState"} and not call.args):
            found.append(ast.unparse(call)[:80])
    return found


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_chapter_seeds_follow_the_seed_shift(path):
    """Every seed goes through reglab (seed, seeds, rng, setup, digits), so re-runs can move it."""
    nb = nbformat.read(path, as_version=4)
    fixed = [call for c in nb.cells if c.cell_type == "code" for call in _fixed_seeds(c.source)]
    assert not fixed, f"seeded with a fixed number (use reglab.seed(k) or reglab.rng(k)): {fixed}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_or_hidden_test(assignment):
    text = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text()
    assert not markers.ANY.search(text), markers.ANY.search(text)
    leaked = [line for line in secret_lines(COURSE, assignment) if line in text]
    assert not leaked, f"solution or hidden-test lines in the release: {leaked[:3]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_read_only_cells_cannot_be_edited_or_deleted(assignment):
    """JupyterLab honours ``editable``/``deletable``: tests and set-up cells are read-only and
    undeletable in the release, answer cells undeletable, the rest free."""
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        marks = (cell.metadata.get("editable", True), cell.metadata.get("deletable", True))
        if meta.get("solution"):
            assert marks == (True, False), meta["grade_id"]
        elif meta.get("locked") or meta.get("grade"):
            assert marks == (False, False), meta["grade_id"]
        else:
            assert marks == (True, True), cell.source[:60]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_assignment_has_wrong_and_alternative_answers(assignment):
    """Each graded function has at least three plausible wrong answers (tests/support/
    submissions)."""
    cases = harness.load_cases(assignment)
    for function in harness.graded_functions(assignment):
        assert len(cases.MUTANTS.get(function, {})) >= 3, f"{function}: fewer than 3 mutants"
    assert set(cases.MUTANTS) <= set(harness.graded_functions(assignment))
    assert cases.ALTERNATIVES, "at least one correct answer in another style"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_are_documented_and_end_in_a_statement(assignment):
    """One-line docstring first; no trailing expression (nbgrader reads it as partial credit)."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        assert meta["grade_id"].startswith("test_"), meta["grade_id"]
        tree = ast.parse(cell.source)
        first = tree.body[0]
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant), \
            f"{meta['grade_id']}: start with a one-line docstring"
        last = tree.body[-1]
        if not isinstance(last, ast.Expr) or len(tree.body) == 1:
            continue
        # A trailing call is fine only when it returns None: a grading assertion, or a helper
        # defined in the cell without a `return value`.
        name = ast.unparse(last.value.func) if isinstance(last.value, ast.Call) else ""
        helpers = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        returns_none = name in helpers and not any(
            isinstance(r, ast.Return) and r.value is not None for r in ast.walk(helpers[name]))
        assert name.startswith(("_g.assert_", "_g.check_", "capstone.check_")) \
            or name == "_g.passed" \
            or returns_none, \
            f"{meta['grade_id']}: ends with `{ast.unparse(last)[:60]}`, whose value nbgrader " \
            "would read as partial credit"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_tests_end_with_their_passed_line(assignment):
    """`_g.passed()` ends the visible part of every test cell (just before the hidden tests), so
    a student sees "All checks of this cell passed." exactly when the visible checks held."""
    for folder in ("solutions", "exercises"):
        nb = nbformat.read(ROOT / folder / assignment / f"{assignment}.ipynb", as_version=4)
        tests = [c for c in nb.cells if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("grade")]
        assert tests, f"{folder}: no test cell"
        for cell in tests:
            visible = cell.source.split(markers.BEGIN_HIDDEN)[0].rstrip()
            where = f"{folder}: {cell.metadata.nbgrader['grade_id']}"
            assert visible.endswith("\n_g.passed()"), f"{where}: end the visible part with " \
                "`_g.passed()`"
            assert cell.source.count("_g.passed()") == 1, f"{where}: one `_g.passed()` only"


def test_python_is_ruff_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "reglab", "tests",
                           "nbgrader_config.py", "tasks.py"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("arguments, command", [
    (["release", "A=01_bias_variance"], "reglab.course release 01_bias_variance"),
    (["check-release", "A=01_bias_variance"], "reglab.course release --check 01_bias_variance"),
    (["distribute", "DEST=../st", "FORCE=1"], 'reglab.grader distribute "../st" --force'),
    (["distribute", "DEST=../st"], 'reglab.grader distribute "../st"'),
])
def test_make_passes_its_variables_on(arguments, command):
    # Under `make test` the variables of the outer make (MAKEFLAGS, MAKELEVEL) would make this
    # one print "Leaving directory" lines; run it as a make of its own.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    done = subprocess.run(["make", "-n", "--no-print-directory", *arguments], cwd=ROOT,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.strip().endswith(command), last


def test_requirements_pin_jupyter_book_below_2():
    text = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyter-book[^\n]*<2", text, re.M)


def test_exercise_notebooks_are_valid_json_with_kernel():
    for path in (ROOT / "exercises").glob("*/*.ipynb"):
        data = json.loads(path.read_text())
        assert data["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.slow
@pytest.mark.xdist_group("release")
def test_committed_release_is_what_solutions_generate(capsys):
    """`nbgrader generate_assignment` on solutions/ reproduces exercises/ (cells and metadata)."""
    from reglab.course import main

    status = main(["release", "--check"])
    assert status == 0, capsys.readouterr().out


INSTRUCTOR_TOOLS = ("pytest", "playwright", "ruff", "psycopg2", "jupyter-book", "jupyterhub",
                    "jupytext", "sphinx")


def _requirements(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_students_and_binder_install_the_student_set_only():
    """Students (and Binder) get the notebooks' runtime and nbgrader, no instructor tools;
    instructors and CI get everything, the student set included."""
    student = _requirements("requirements-student.txt")
    assert not [r for r in student if r.startswith(INSTRUCTOR_TOOLS)], student
    for needed in ("tensorflow", "keras", "numpy", "matplotlib", "scikit-learn", "ipywidgets",
                   "ipykernel", "jupyterlab", "nbgrader"):
        assert any(r.startswith(needed) for r in student), f"{needed} is not in the student set"
    assert _requirements("binder/requirements.txt") == ["-r ../requirements-student.txt"]
    assert "pip install --no-cache-dir --no-deps ." in (ROOT / "binder" / "postBuild").read_text()
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK), "postBuild must be executable"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime in ("python-3.11", "python-3.12", "python-3.13"), runtime
    everything = _requirements("requirements.txt")
    assert "-r requirements-student.txt" in everything and "-e ." in everything
