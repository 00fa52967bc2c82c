"""Submissions for the grading tests.

``<assignment>.py`` holds that assignment's MUTANTS (plausible wrong answers, each
of which must lose points) and ALTERNATIVES (correct answers in other styles, which
must keep full marks). CHEATS below apply to every assignment: each builds a
submission that tries to get points it has not earned; each must score zero.
"""

WRONG = '''
class _Anything(float):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __hash__ = float.__hash__
    def __float__(self):
        return 0.0

def _wrong(*args, **kwargs):
    return _Anything(0.0)

{assignments}
'''


def _cheat(code: str):
    def build(harness, assignment: str, names: list[str]):
        nb = harness.read("exercises", assignment)
        wrong = WRONG.format(assignments="\n".join(f"{n} = _wrong" for n in names))
        return harness.with_first_code(nb, code + wrong)
    return build


CHEATS = {
    "objects that equal anything": _cheat(""),
    "patched grading helpers": _cheat(
        "import reglab.grading\n"
        "for _n in ('assert_close', 'assert_equal', 'assert_raises', 'passed'):\n"
        "    setattr(reglab.grading, _n, lambda *a, **k: None)\n"
    ),
    "patched numpy comparisons": _cheat(
        "np.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.array_equal = lambda *a, **k: True\n"
    ),
    "silenced error display": _cheat(
        "_shell = get_ipython()\n"
        "_shell.showtraceback = lambda *a, **k: None\n"
        "_shell._showtraceback = lambda *a, **k: None\n"
    ),
    "patched AssertionError": _cheat(
        "import builtins\n"
        "builtins.AssertionError = type('Quiet', (BaseException,), {})\n"
    ),
    "reads the instructor's notebook": _cheat(
        "import json, os\n"
        "_here = os.getcwd()\n"
        "for _ in range(6):\n"
        "    for _root, _dirs, _files in os.walk(os.path.join(_here, 'solutions')):\n"
        "        for _f in _files:\n"
        "            if _f.endswith('.ipynb'):\n"
        "                for _c in json.load(open(os.path.join(_root, _f)))['cells']:\n"
        "                    if 'BEGIN SOLUTION' in ''.join(_c['source']):\n"
        "                        exec(''.join(_c['source']))\n"
        "    _here = os.path.dirname(_here)\n"
    ),
}
