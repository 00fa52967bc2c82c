"""Checks used by the assignments' test cells.

Every check turns the student's value into plain Python or NumPy data first, so an
object that claims to equal anything gains nothing. In autograding the test cells run
in the grader, not in the student's kernel (reglab/verdicts.py), so nothing here has to
defend itself against the student's code; in the student's own Jupyter the same checks
run beside it, to tell the student what is wrong.

Failure messages say what was checked, what was expected, what came back and,
where one is known, the likely mistake.
"""

import math
import numbers
import os
import sys
import traceback

import numpy as np


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
    if isinstance(value, bool):
        _fail(f"{what}: expected a number, got the bool {value!r}.")
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, numbers.Integral) and isinstance(value, int):
        return float.__float__(float(int.__int__(value)))
    if isinstance(value, np.generic | np.ndarray) or hasattr(value, "numpy"):
        arr = to_array(value, what)
        if arr.size != 1:
            _fail(f"{what}: expected a single number, got an array of shape {arr.shape}.")
        return float.__float__(float(arr.reshape(-1)[0]))
    _fail(
        f"{what}: expected a Python float, got {type(value).__name__}.",
        "convert the result with float(...) before returning it.",
    )


def to_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a new float64 ndarray (not a subclass), checking its shape."""
    ok = isinstance(value, np.ndarray | np.generic | list | tuple | numbers.Real) or hasattr(
        value, "numpy"
    )
    if not ok:
        _fail(f"{what}: expected an array, got {type(value).__name__}.")
    try:
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray | np.generic):
            value = value.numpy()
        arr = np.array(value, dtype=np.float64, subok=False, copy=True)
    except (TypeError, ValueError) as exc:
        _fail(f"{what}: could not read the result as an array of numbers ({exc}).")
    if type(arr) is not np.ndarray:
        _fail(f"{what}: expected a plain NumPy array.")
    if shape is not None and arr.shape != tuple(shape):
        _fail(f"{what}: expected shape {tuple(shape)}, got {arr.shape}.")
    return arr


def max_abs_diff(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference of two float arrays of the same shape."""
    diff = np.abs(np.subtract(actual, expected))
    return float.__float__(float(diff.max())) if diff.size else 0.0


def _mismatches(got: np.ndarray, expected: np.ndarray, wrong: np.ndarray, shown: int = 3) -> str:
    """The first few differing elements, as 'at [i, j] expected e, got g'."""
    if expected.ndim == 0:
        return f"expected {expected.item():.6g}, got {got.item():.6g}"
    if expected.size <= 6:
        return f"expected {np.round(expected, 6).tolist()}, got {np.round(got, 6).tolist()}"
    where = np.argwhere(wrong)
    parts = [f"at {list(map(int, i))} expected {expected[tuple(i)]:.6g}, got {got[tuple(i)]:.6g}"
             for i in where[:shown]]
    return f"{len(where)} of {expected.size} elements differ ({'; '.join(parts)})"


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
    if not bool(np.isfinite(got).all()):
        _fail(f"{what}: the result contains NaN or infinity.", hint)
    tol = atol + rtol * np.abs(expected_arr)
    wrong = np.abs(np.subtract(got, expected_arr)) > tol
    if bool(wrong.any()):
        _fail(
            f"{what}: {_mismatches(got, expected_arr, wrong)}; largest difference "
            f"{max_abs_diff(got, expected_arr):.3g} (tolerance {atol:g} + {rtol:g}·|expected|).",
            hint,
        )


def assert_equal(actual, expected, what: str, hint: str | None = None) -> None:
    """Fail unless ``actual`` has the type of ``expected`` (str, int, None) and equals it."""
    if expected is None:
        if actual is not None:
            _fail(f"{what}: expected None, got {actual!r}.", hint)
        return
    kind = type(expected)
    if kind is int and isinstance(actual, np.integer):
        actual = int.__int__(int(actual))
    if not isinstance(actual, kind) or isinstance(actual, bool) != isinstance(expected, bool):
        _fail(f"{what}: expected a {kind.__name__} ({expected!r}), got {type(actual).__name__}.",
              hint)
    plain = str.__str__(actual) if kind is str else int.__int__(actual)
    if plain != expected:
        _fail(f"{what}: expected {expected!r}, got {plain!r}.", hint)


def assert_raises(exc_type: type, func, *args, what: str, **kwargs) -> None:
    """Fail unless ``func(*args, **kwargs)`` raises ``exc_type``."""
    try:
        func(*args, **kwargs)
    except exc_type:
        return
    except Exception as exc:  # noqa: BLE001 - we report what was raised instead
        _fail(f"{what}: expected {exc_type.__name__}, got {type(exc).__name__}: {exc}")
    _fail(f"{what}: expected {exc_type.__name__}, but nothing was raised.")


_PROBE = None  # set by the grader while a test cell runs there (reglab/verdicts.py)


def in_student(obj):
    """Mark a test helper (a function or a class) that must run beside the student's code.

    A helper that builds a model around the student's layer, or an object the student's
    function calls back, runs where the student's code runs. In the student's own Jupyter
    that is here, and this returns ``obj`` unchanged; in autograding the grader defines it
    again in the student's kernel, so it must not hold an expected value.
    """
    return obj if _PROBE is None else _PROBE(obj)


def _each(function, calls):
    return [function(*args, **kwargs) for args, kwargs in calls]


def each(function, calls) -> list:
    """``[function(*args, **kwargs) for args, kwargs in calls]``, in one request when grading.

    A hidden test that checks many inputs sends them together instead of one call at a
    time; as in a loop, the first exception stops it. Arguments go as lists, so what the
    function changes in place in an array comes back into the test's array.
    """
    calls = [[list(args), dict(kwargs)] for args, kwargs in calls]
    return _each(function, calls) if _PROBE is None else _PROBE(_each)(function, calls)


def binomial_bounds(n: int, p: float, z: float = 5.0) -> tuple[float, float]:
    """Bounds on a count of successes out of ``n`` at probability ``p``, ±z standard deviations.

    With z = 5 a correct implementation fails about once in 1.7 million runs.
    """
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


def relative_error(a, b) -> float:
    """max |a − b| / max(1e-8, max |a| + |b|), the gradient-check measure."""
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.abs(a_arr) + np.abs(b_arr)
    return max_abs_diff(a_arr, b_arr) / max(1e-8, float(scale.max()) if scale.size else 0.0)
