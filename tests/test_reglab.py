"""Unit tests of the helper package: grading checks, tamper scan, explorer, data, set-up."""

import warnings

import nbformat
import numpy as np
import pytest

from reglab import data, explore, grading
from reglab.course import normalize
from reglab.nbgrader_ext import scan


class Anything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_assert_close_accepts_right_and_rejects_wrong():
    grading.assert_close(1.0 + 1e-9, 1.0, "x")
    grading.assert_close(np.float32(2.5), 2.5, "x")
    grading.assert_close([1.0, 2.0], np.array([1.0, 2.0]), "v")
    with pytest.raises(AssertionError, match="expected"):
        grading.assert_close(1.1, 1.0, "x")
    with pytest.raises(AssertionError, match="shape"):
        grading.assert_close([1.0], np.array([1.0, 2.0]), "v")
    with pytest.raises(AssertionError, match="NaN"):
        grading.assert_close(float("nan"), 1.0, "x")


def test_objects_that_equal_anything_are_read_as_numbers():
    with pytest.raises(AssertionError):
        grading.assert_close(Anything(0.0), 3.0, "x")
    with pytest.raises(AssertionError):
        grading.assert_equal(Anything(0.0), "high bias", "label")
    with pytest.raises(AssertionError, match="Python float"):
        grading.to_float(object(), "x")


def test_assert_equal_checks_type_and_value():
    grading.assert_equal(np.int64(3), 3, "n")
    grading.assert_equal(None, None, "n")
    with pytest.raises(AssertionError):
        grading.assert_equal(True, 1, "n")
    with pytest.raises(AssertionError):
        grading.assert_equal("a", "b", "s", hint="h")


def test_assert_raises():
    grading.assert_raises(ValueError, int, "x", what="int('x')")
    with pytest.raises(AssertionError, match="nothing was raised"):
        grading.assert_raises(ValueError, int, "3", what="int('3')")
    with pytest.raises(AssertionError, match="got TypeError"):
        grading.assert_raises(ValueError, int, None, what="int(None)")


def test_tampering_is_detected(monkeypatch):
    grading.check_untampered()
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    with pytest.raises(grading.TamperingError, match="numpy.allclose"):
        grading.check_untampered()


def test_tampering_with_the_checks_themselves_is_detected(monkeypatch):
    monkeypatch.setattr(grading, "assert_close", lambda *a, **k: None)
    with pytest.raises(grading.TamperingError, match="assert_close"):
        grading.check_untampered()


def test_binomial_bounds_and_relative_error():
    low, high = grading.binomial_bounds(10_000, 0.3)
    assert low < 3000 < high and high - low < 500
    assert grading.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert grading.relative_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)


@pytest.mark.parametrize("code", [
    "np.allclose = lambda *a, **k: True",
    "import reglab.grading\nreglab.grading.assert_close = print",
    "_g = None",
    "get_ipython().showtraceback = None",
    "import builtins\nbuiltins.AssertionError = Exception",
    "exec('x = 1')",
    "open('../../solutions/a/a.ipynb')",
    "def isinstance(a, b):\n    return True",
    "import sys\nsys.modules['numpy'] = None",
    "f.__code__ = g.__code__",
])
def test_scan_flags_tampering(code):
    assert scan(code), code


@pytest.mark.parametrize("code", [
    "def f(x):\n    return np.mean(x ** 2)",
    "class Layer(keras.layers.Layer):\n    def __init__(self, rate, **kw):\n"
    "        super().__init__(**kw)\n        self.rate = rate",
    "import warnings\nwarnings.warn('careful')",
    "import math, statistics\nx = math.sqrt(2)",
    "%matplotlib inline\ny = [i for i in range(3)]",
    "def broken(:",
])
def test_scan_accepts_ordinary_code(code):
    assert scan(code) == [], scan(code)


def test_explorer_html_has_one_frame_per_value_and_alt_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def render(v):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, v])
        return fig

    page = explore.explorer_html([1, 2, 3], render, "slope", alt=lambda v: f"line of slope {v}",
                                 start=1)
    assert page.count("<figure") == 3 and page.count(" hidden") == 2
    assert 'alt="line of slope 3"' in page and 'type="range"' in page
    assert "http" not in page, "the explorer must not load anything from the network"
    with pytest.raises(ValueError):
        explore.explorer_html([], render, "slope", alt=str)
    plain = explore.explorer_html([0.5, 1.0], render, "slope")
    assert 'alt="Figure for slope = 0.5"' in plain and 'alt="Figure for slope = 1"' in plain


def test_website_extension_drops_scripts_written_twice():
    from sphinx.builders.html._assets import _JavaScript

    from reglab import sphinx_ext

    config = {"body": "const THEBE_JS_URL = 1"}  # registered once, written as None and as ""
    scripts = [_JavaScript(None, **config), _JavaScript("_static/a.js"), _JavaScript("", **config)]
    context = {"script_files": scripts}
    sphinx_ext._drop_repeated_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts, "changed in place, for Sphinx to restore"
    assert [s.filename for s in scripts] == [None, "_static/a.js"]


def test_digits_split_is_deterministic_offline_and_disjoint():
    a, b = data.digits(seed=3), data.digits(seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    n = sum(len(a[k]) for k in ("y_train", "y_val", "y_test"))
    assert n == 1797 and a["x_train"].shape[1] == 64
    assert 0.0 <= a["x_train"].min() and a["x_train"].max() <= 1.0
    assert len(data.digits(n_train=50)["x_train"]) == 50


def test_batches_reshuffle_every_epoch_and_keep_every_example():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10)
    pipeline = data.batches(x, y, batch_size=4, seed=0)
    epochs = [np.concatenate([b[1].numpy() for b in pipeline]) for _ in range(2)]
    assert [len(b[1]) for b in pipeline] == [4, 4, 2]
    assert all(sorted(e.tolist()) == list(range(10)) for e in epochs)
    assert epochs[0].tolist() != epochs[1].tolist(), "not reshuffled between epochs"
    again = np.concatenate([b[1].numpy() for b in data.batches(x, y, 4, seed=0)])
    assert again.tolist() == epochs[0].tolist(), "the same seed gave another order"
    for xb, yb in pipeline:
        assert xb.numpy()[:, 0].tolist() == yb.numpy().tolist(), "x and y were separated"
    ordered = np.concatenate([b[1].numpy() for b in data.batches(x, y, 3)])
    assert ordered.tolist() == list(range(10))
    with pytest.raises(ValueError, match="examples"):
        data.batches(x, y[:5])
    with pytest.raises(ValueError, match="batch_size"):
        data.batches(x, y, batch_size=0)


def test_sine_data_rejects_bad_arguments():
    with pytest.raises(ValueError):
        data.sine_data(0, 0.1, np.random.default_rng(0))


def test_setup_sends_warnings_to_stdout(capsys):
    import reglab

    reglab.setup(seed=1, use_keras=False)
    warnings.warn("visible but harmless", UserWarning, stacklevel=1)
    out, err = capsys.readouterr()
    assert "visible but harmless" in out and err == ""


def test_normalize_is_idempotent_and_completes_nbgrader_metadata():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
        "grade_id": "test_x", "points": 2}}, outputs=[], execution_count=3)]
    once = normalize(nb)
    meta = once.cells[0].metadata.nbgrader
    assert meta["grade"] and meta["locked"] and not meta["solution"] and meta["points"] == 2
    assert once.cells[0].execution_count is None
    assert normalize(once) == once


def test_seeds_follow_the_seed_shift(monkeypatch):
    import reglab

    monkeypatch.delenv("REGLAB_SEED_SHIFT", raising=False)
    assert reglab.seed(3) == 3 and reglab.seeds(3, start=2) == [2, 3, 4]
    unshifted = data.digits(seed=1)["y_train"]
    monkeypatch.setenv("REGLAB_SEED_SHIFT", "101")
    assert reglab.seed(3) == 104 and reglab.seeds(2) == [101, 102]
    assert reglab.rng(0).integers(1 << 30) == np.random.default_rng(101).integers(1 << 30)
    assert not np.array_equal(data.digits(seed=1)["y_train"], unshifted), "split not shifted"
    monkeypatch.setenv("REGLAB_SEED_SHIFT", "ten")
    with pytest.raises(ValueError, match="REGLAB_SEED_SHIFT must be an integer"):
        reglab.seed(0)
    monkeypatch.delenv("REGLAB_SEED_SHIFT")
    for bad in (-1, 1.5, "0"):
        with pytest.raises(ValueError, match="non-negative integer"):
            reglab.seed(bad)
    with pytest.raises(ValueError, match="at least one seed"):
        reglab.seeds(0)


def test_live_control_redraws_into_an_image_without_output_capture(capsys):
    import ipywidgets as widgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = []

    def render(v):
        drawn.append(v)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, v])
        return fig

    shown = []
    monkey = pytest.MonkeyPatch()
    monkey.setattr("IPython.display.display", lambda obj: shown.append(obj))
    try:
        assert explore.live([1, 2, 3], render, "slope") is None, "prints nothing after the cell"
    finally:
        monkey.undo()
    (box,) = shown
    slider, image = box.children
    assert isinstance(image, widgets.Image) and "recomputes in your kernel" in slider.description
    first = image.value
    slider.value = 3
    assert drawn == [1, 3] and image.value != first and image.value[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="at least one value"):
        explore.live([], render, "slope")
