"""Checks used by the assignments' test cells.

Every check turns the student's value into plain Python or NumPy data first, so an
object that claims to equal anything gains nothing, and compares with NumPy ufuncs
and builtins captured when this module was imported, before any student code ran.
Each check first verifies that the submission did not replace a comparison helper,
a builtin or the kernel's error display; if it did, the check fails and says so.

Failure messages say what was checked, what was expected, what came back and,
where one is known, the likely mistake.
"""

import builtins
import math
import numbers
import os
import sys
import traceback

import numpy as np

# Originals, captured before any student code runs (the locked set-up cell imports us).
_float, _int, _isinstance, _len, _type = float, int, isinstance, len, type
_subtract, _absolute, _isfinite = np.subtract, np.absolute, np.isfinite
_ndarray, _generic = np.ndarray, np.generic

_WATCHED = {
    "builtins": (builtins, [
        "abs", "all", "any", "float", "int", "isinstance", "len", "max", "min", "sum",
        "round", "print", "range", "zip", "type", "repr", "AssertionError", "Exception",
        "ValueError", "TypeError", "open", "__import__",
    ]),
    "numpy": (np, [
        "allclose", "isclose", "array_equal", "asarray", "array", "abs", "absolute",
        "subtract", "isfinite", "mean", "var", "std", "sum", "max", "min", "all", "any",
    ]),
    "numpy.testing": (np.testing, ["assert_allclose", "assert_array_equal", "assert_equal"]),
    "math": (math, ["isclose", "isfinite", "fsum", "sqrt"]),
}


def _record() -> dict:
    rec = {}
    for label, (owner, names) in _WATCHED.items():
        for name in names:
            obj = getattr(owner, name, None)
            rec[f"{label}.{name}"] = (obj, getattr(obj, "__code__", None))
    for name in ("numpy", "math", "builtins", "reglab", "reglab.grading"):
        rec[f"sys.modules[{name!r}]"] = (sys.modules.get(name), None)
    return rec


def _shell_hooks() -> dict:
    try:
        shell = sys.modules["IPython"].get_ipython()
    except (KeyError, AttributeError):
        return {}
    if shell is None:
        return {}
    hooks = {}
    names = ("showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async")
    for name in names:
        obj = getattr(shell, name, None)
        func = getattr(obj, "__func__", obj)
        hooks[f"IPython shell.{name}"] = (func, getattr(func, "__code__", None))
    hooks["IPython shell.custom_exceptions"] = (shell.custom_exceptions, None)
    return hooks


_ORIGINAL = {**_record(), **_shell_hooks()}


class TamperingError(Exception):
    """The submission replaced something the tests rely on."""


def check_untampered() -> None:
    """Fail when a comparison helper, a builtin or the kernel's error display was replaced."""
    now = {**_record(), **_shell_hooks()}
    changed = [
        key for key, (obj, code) in _ORIGINAL.items()
        if key in now and (now[key][0] is not obj or now[key][1] is not code)
    ]
    for name, func in _OWN.items():
        if globals().get(name) is not func or func.__code__ is not _OWN_CODE[name]:
            changed.append(f"reglab.grading.{name}")
    if changed:
        raise TamperingError(
            "The submission replaced " + ", ".join(sorted(changed)) + ". The tests rely on "
            "these and cannot grade a notebook that changes them: remove that code."
        )


class CheckFailed(AssertionError):
    """A check that did not hold; IPython shows it without the frames of this module."""

    def _render_traceback_(self) -> list[str]:
        internal = (__file__, getattr(sys.modules.get("IPython"), "__file__", None) or __file__)
        frames = [f for f in traceback.extract_tb(self.__traceback__)
                  if not f.filename.startswith(tuple(os.path.dirname(p) for p in internal))]
        lines = "".join(traceback.format_list(frames)).rstrip("\n").split("\n")
        return ["Traceback (most recent call last):", *lines, f"AssertionError: {self}"]


def _fail(message: str, hint: str | None = None) -> None:
    raise CheckFailed(message + (f"\nHint: {hint}" if hint else ""))


def to_float(value, what: str) -> float:
    """Return ``value`` as a plain Python float, or fail when it is not one number."""
    check_untampered()
    if _isinstance(value, bool):
        _fail(f"{what}: expected a number, got the bool {value!r}.")
    if _isinstance(value, float):
        return float.__float__(value)
    if _isinstance(value, numbers.Integral) and _isinstance(value, int):
        return float.__float__(_float(int.__int__(value)))
    if _isinstance(value, _generic | _ndarray) or hasattr(value, "numpy"):
        arr = to_array(value, what)
        if arr.size != 1:
            _fail(f"{what}: expected a single number, got an array of shape {arr.shape}.")
        return float.__float__(_float(arr.reshape(-1)[0]))
    _fail(
        f"{what}: expected a Python float, got {_type(value).__name__}.",
        "convert the result with float(...) before returning it.",
    )


def to_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a new float64 ndarray (not a subclass), checking its shape."""
    check_untampered()
    ok = _isinstance(value, _ndarray | _generic | list | tuple | numbers.Real) or hasattr(
        value, "numpy"
    )
    if not ok:
        _fail(f"{what}: expected an array, got {_type(value).__name__}.")
    try:
        if hasattr(value, "numpy") and not _isinstance(value, _ndarray | _generic):
            value = value.numpy()
        arr = np.array(value, dtype=np.float64, subok=False, copy=True)
    except (TypeError, ValueError) as exc:
        _fail(f"{what}: could not read the result as an array of numbers ({exc}).")
    if _type(arr) is not _ndarray:
        _fail(f"{what}: expected a plain NumPy array.")
    if shape is not None and arr.shape != tuple(shape):
        _fail(f"{what}: expected shape {tuple(shape)}, got {arr.shape}.")
    return arr


def max_abs_diff(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference of two float arrays of the same shape."""
    diff = _absolute(_subtract(actual, expected))
    return float.__float__(_float(diff.max())) if diff.size else 0.0


def _mismatches(got: np.ndarray, expected: np.ndarray, wrong: np.ndarray, shown: int = 3) -> str:
    """The first few differing elements, as 'at [i, j] expected e, got g'."""
    if expected.ndim == 0:
        return f"expected {expected.item():.6g}, got {got.item():.6g}"
    if expected.size <= 6:
        return f"expected {np.round(expected, 6).tolist()}, got {np.round(got, 6).tolist()}"
    where = np.argwhere(wrong)
    parts = [f"at {list(map(int, i))} expected {expected[tuple(i)]:.6g}, got {got[tuple(i)]:.6g}"
             for i in where[:shown]]
    return f"{_len(where)} of {expected.size} elements differ ({'; '.join(parts)})"


def passed() -> None:
    """Print the line that ends a visible test cell whose checks all held."""
    print("All checks of this cell passed.")


def assert_close(actual, expected, what: str, atol: float = 1e-8, rtol: float = 1e-6,
                 hint: str | None = None) -> None:
    """Fail unless ``actual`` matches ``expected`` elementwise within atol + rtol·|expected|."""
    expected_arr = np.array(expected, dtype=np.float64)
    if expected_arr.ndim == 0:
        got = np.array(to_float(actual, what), dtype=np.float64)
    else:
        got = to_array(actual, what, shape=expected_arr.shape)
    if not bool(_isfinite(got).all()):
        _fail(f"{what}: the result contains NaN or infinity.", hint)
    tol = atol + rtol * _absolute(expected_arr)
    wrong = _absolute(_subtract(got, expected_arr)) > tol
    if bool(wrong.any()):
        _fail(
            f"{what}: {_mismatches(got, expected_arr, wrong)}; largest difference "
            f"{max_abs_diff(got, expected_arr):.3g} (tolerance {atol:g} + {rtol:g}·|expected|).",
            hint,
        )


def assert_equal(actual, expected, what: str, hint: str | None = None) -> None:
    """Fail unless ``actual`` has the type of ``expected`` (str, int, None) and equals it."""
    check_untampered()
    if expected is None:
        if actual is not None:
            _fail(f"{what}: expected None, got {actual!r}.", hint)
        return
    kind = _type(expected)
    if kind is int and _isinstance(actual, np.integer):
        actual = int.__int__(int(actual))
    if not _isinstance(actual, kind) or _isinstance(actual, bool) != _isinstance(expected, bool):
        _fail(f"{what}: expected a {kind.__name__} ({expected!r}), got {_type(actual).__name__}.",
              hint)
    plain = str.__str__(actual) if kind is str else int.__int__(actual)
    if plain != expected:
        _fail(f"{what}: expected {expected!r}, got {plain!r}.", hint)


def assert_raises(exc_type: type, func, *args, what: str, **kwargs) -> None:
    """Fail unless ``func(*args, **kwargs)`` raises ``exc_type``."""
    check_untampered()
    try:
        func(*args, **kwargs)
    except exc_type:
        return
    except Exception as exc:  # noqa: BLE001 - we report what was raised instead
        _fail(f"{what}: expected {exc_type.__name__}, got {_type(exc).__name__}: {exc}")
    _fail(f"{what}: expected {exc_type.__name__}, but nothing was raised.")


def binomial_bounds(n: int, p: float, z: float = 5.0) -> tuple[float, float]:
    """Bounds on a count of successes out of ``n`` at probability ``p``, ±z standard deviations.

    With z = 5 a correct implementation fails about once in 1.7 million runs.
    """
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


def relative_error(a, b) -> float:
    """max |a − b| / max(1e-8, max |a| + |b|), the gradient-check measure."""
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = _absolute(a_arr) + _absolute(b_arr)
    return max_abs_diff(a_arr, b_arr) / max(1e-8, float(scale.max()) if scale.size else 0.0)


_OWN = {
    name: obj for name, obj in dict(globals()).items()
    if callable(obj) and getattr(obj, "__module__", None) == __name__ and hasattr(obj, "__code__")
}
_OWN_CODE = {name: func.__code__ for name, func in _OWN.items()}
