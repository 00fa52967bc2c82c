"""Unit tests of the helper package: grading checks, the wire to a student's kernel,
explorer, data, set-up."""

import json
import warnings

import nbformat
import numpy as np
import pytest

from reglab import (
    cluster,
    data,
    explore,
    gradetask,
    grading,
    remote,
    student_kernel,
    verdicts,
    wire,
)
from reglab.course import normalize


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


def test_each_calls_in_order_and_stops_at_the_first_error():
    def halve(x, out=None):
        if x < 0:
            raise ValueError("negative")
        if out is not None:
            out[:] = x / 2
        return x / 2

    out = np.zeros(2)
    assert grading.each(halve, [((4,), {}), ([2.0], {"out": out})]) == [2.0, 1.0]
    assert out.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="negative"):
        grading.each(halve, [((1,), {}), ((-1,), {}), ((2,), {})])


def test_binomial_bounds_and_relative_error():
    low, high = grading.binomial_bounds(10_000, 0.3)
    assert low < 3000 < high and high - low < 500
    assert grading.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert grading.relative_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)


def _round_trip(value):
    return wire.decode(json.loads(wire.dumps({"v": wire.encode(value, _no_refs)}))["v"], None)


def _no_refs(value):
    raise wire.WireError(f"no reference to {value!r}")


def test_plain_data_crosses_the_wire_unchanged():
    rng = np.random.default_rng(5)
    value = {"a": [1, 2.5, None, True, "s", (3, 4)], 7: np.arange(6, dtype="int32").reshape(2, 3),
             "f": np.float32(0.5), "nan": float("nan"), "mask": np.array([True, False])}
    back = _round_trip(value)
    assert back["a"] == [1, 2.5, None, True, "s", (3, 4)] and type(back["a"][5]) is tuple
    assert back[7].dtype == np.int32 and back[7].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["f"] == 0.5 and type(back["f"]) is float and np.isnan(back["nan"])
    assert back["mask"].dtype == bool
    again = _round_trip(rng)
    assert again.random() == rng.random()


def test_an_object_that_equals_anything_crosses_as_its_number():
    back = _round_trip(Anything(3.0))
    assert type(back) is float and back == 3.0


@pytest.mark.parametrize("data", [
    {"__nd__": "AAAA", "dtype": "object", "shape": [1]},
    {"__ref__": "x"}, {"unknown": 1}, {}, {"__dict__": [[1.5, 2]]},
    {"__rng__": {"bit_generator": "MT19937"}},
])
def test_the_wire_builds_nothing_but_data(data):
    with pytest.raises((wire.WireError, ValueError)):
        wire.decode(data, lambda ref: ref)


def test_a_message_too_large_or_not_an_object_is_refused(monkeypatch):
    monkeypatch.setattr(wire, "MAX_BYTES", 10)
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.loads('{"x": "' + "y" * 20 + '"}')
    monkeypatch.setattr(wire, "MAX_BYTES", 100)
    with pytest.raises(wire.WireError, match="JSON object"):
        wire.loads("[1]")


def test_the_sent_server_answers_calls_and_writes_back_changes():
    ns = {"__name__": "server"}
    exec(compile(remote.source(), "<server>", "exec"), ns)

    def scale(x, rng):
        x *= 2
        return x.sum() + rng.random()

    user = {"scale": scale}
    bound = json.loads(ns["serve"](user, wire.dumps({"id": 1, "op": "bind", "names": ["scale"]})))
    ref = bound["ok"]["__dict__"][0][1]
    args = wire.encode([np.ones(3), np.random.default_rng(1)], _no_refs)
    reply = json.loads(ns["serve"](user, wire.dumps(
        {"id": 2, "op": "call", "target": ref, "args": args, "kwargs": {"__dict__": []}})))
    assert reply["id"] == 2 and "raised" not in reply
    after = {key: wire.decode(v, None) for key, v in reply["after"]}
    assert after[0].tolist() == [2.0, 2.0, 2.0]
    failing = json.loads(ns["serve"](user, wire.dumps(
        {"id": 3, "op": "call", "target": ref, "args": [], "kwargs": {"__dict__": []}})))
    assert failing["raised"]["type"] == "TypeError" and "TypeError" in failing["raised"]["builtins"]


def test_changes_made_in_the_kernel_land_in_the_tests_own_arguments():
    inner = np.zeros(2)
    sent = {"w": inner, "gone": 1, "items": [inner, 5]}
    student_kernel._copy_into(sent, {"w": np.ones(2), "items": [np.full(2, 3.0), 6, 7], "new": 8})
    assert set(sent) == {"w", "items", "new"} and sent["items"][1:] == [6, 7]
    assert sent["items"][0] is inner and inner.tolist() == [3.0, 3.0]
    rng = np.random.default_rng(0)
    moved = np.random.default_rng(0)
    moved.random()
    student_kernel._copy_into(rng, moved)
    assert rng.random() == moved.random()


def test_exceptions_come_back_as_builtins_but_never_as_a_test_failure():
    exc = student_kernel._exception({"type": "BadRate", "builtins": ["ValueError", "Exception"],
                               "message": "rate"})
    assert type(exc) is ValueError and "BadRate" in str(exc)
    forged = student_kernel._exception({"type": "AssertionError", "builtins": ["AssertionError"],
                                  "message": "x"})
    assert not isinstance(forged, AssertionError)


def test_a_time_out_in_the_students_code_is_not_the_error_a_test_expects():
    def stuck(*args):
        raise student_kernel.CellTimeoutError("ran past 10 s")

    with pytest.raises(student_kernel.CellTimeoutError):
        grading.assert_raises(ValueError, stuck, what="a bad input")


def test_names_a_cell_reads_and_defines():
    assert verdicts.loaded_names("y = f(x)\nprint(y)") == {"f", "x", "print", "y"}
    assert verdicts.defined_names("def f():\n    z = 1\nclass C: pass\nA, B = 1, 2") == \
        {"f", "C", "A", "B"}
    assert verdicts.defined_names("def broken(:") == set()


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


def test_stacked_networks_train_as_if_alone_with_their_own_penalty():
    import keras

    from reglab import stack

    rng = np.random.default_rng(0)
    l2, l1 = [0.0, 1e-2, 1e-3], [0.0, 0.0, 1e-2]
    net = stack.mlp(3, 2, [4], 1, activation="tanh", l2=l2, l1=l1)
    net.compile(loss="mse")
    x = rng.normal(size=(5, 3, 2)).astype("float32")
    y = rng.normal(size=(5, 3, 1)).astype("float32")
    kernels = [keras.ops.convert_to_numpy(layer.kernel) for layer in net.layers]
    assert np.abs(kernels[0]).max() <= np.sqrt(6 / (2 + 4)), "Glorot bound of one network"
    mse = ((keras.ops.convert_to_numpy(net(x)) - y) ** 2).mean(axis=(0, 2))
    own = [sum(float(keras.regularizers.L1L2(l1=l1[m], l2=l2[m])(k[m])) for k in kernels)
           for m in range(3)]
    loss = net.evaluate(x, y, batch_size=5, verbose=0)
    assert np.isclose(loss, np.mean(mse + np.array(own)), rtol=1e-5)


def test_stack_scores_and_curves_per_network():
    import keras

    from reglab import stack

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 2, 3)).astype("float32")
    labels = rng.integers(0, 3, size=(6, 2))
    keras_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for m in range(2):
        expected = float(keras_ce(labels[:, m], logits[:, m]))
        assert np.isclose(stack.cross_entropy(labels, logits)[m], expected, rtol=1e-5)
    assert np.allclose(stack.accuracy(labels, logits),
                       (logits.argmax(-1) == labels).mean(axis=0))
    net = stack.mlp(2, 3, [4], 3)
    net.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.normal(size=(6, 2, 3)).astype("float32")
    callback, record = stack.curves(net, {"train": (x, labels)}, {"ce": stack.cross_entropy})
    net.fit(x, labels, epochs=3, batch_size=6, verbose=0, callbacks=[callback])
    assert record["train_ce"].shape == (3, 2)
    with pytest.raises(ValueError, match="as many examples"):
        stack.columns([np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="non-negative"):
        stack.mlp(2, 3, [4], 3, l2=[-1.0, 0.0])


def test_conv_net_is_seeded_and_side_by_side_keeps_networks_apart():
    import keras

    from reglab import models

    same = [models.conv_net(seed=3), models.conv_net(seed=3), models.conv_net(seed=4)]
    first, again, other = ([keras.ops.convert_to_numpy(w) for w in m.weights] for m in same)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.allclose(first[0], other[0]), "another seed, other initial weights"
    big = models.conv_net(num_classes=3, filters=(4,), upsample=2)
    assert big.output_shape == (None, 3) and big.layers[0].output.shape[1:3] == (16, 16)
    joined = models.side_by_side(same)
    x = np.random.default_rng(0).random((5, 3, 8, 8, 1)).astype("float32")
    out = keras.ops.convert_to_numpy(joined(x))
    assert out.shape == (5, 3, 10)
    for k, model in enumerate(same):
        assert np.allclose(out[:, k], keras.ops.convert_to_numpy(model(x[:, k])), atol=1e-6)
    with pytest.raises(ValueError, match="poolings"):
        models.conv_net(filters=(4, 4, 4, 4))
    with pytest.raises(ValueError, match="one input shape"):
        models.side_by_side([same[0], models.conv_net(input_shape=(16, 16, 1))])


def test_reliability_diagram_counts_every_example_once():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reglab import plots

    confidence = np.array([0.15, 0.55, 0.55, 0.95, 1.0])
    correct = np.array([0, 1, 0, 1, 1])
    fig, ax = plt.subplots()
    counts = plots.reliability_diagram(ax, confidence, correct, n_bins=10, title="t")
    assert counts.tolist() == [0, 1, 0, 0, 0, 2, 0, 0, 0, 2]
    heights = [bar.get_height() for bar in ax.patches]
    assert np.allclose(heights, [0, 0, 0, 0, 0, 0.5, 0, 0, 0, 1])
    assert [t.get_text() for t in ax.texts] == [str(n) for n in counts]
    with pytest.raises(ValueError, match="one confidence per example"):
        plots.reliability_diagram(ax, confidence, correct[:3])
    with pytest.raises(ValueError, match="at least one bin"):
        plots.reliability_diagram(ax, confidence, correct, n_bins=0)
    plt.close(fig)


class _Weights:
    """Stands in for a Keras model in the early-stopping bookkeeping: weights are a counter."""

    def __init__(self):
        self.value = 0

    def get_weights(self):
        return self.value

    def set_weights(self, value):
        self.value = value


def test_best_epochs_stops_each_model_on_its_own_and_restores_its_best():
    from reglab.train import BestEpochs

    models = [_Weights(), _Weights()]
    tracker = BestEpochs(models, patience=2)
    curves = [[3.0, 2.0, 2.5, 2.6, 1.0, 0.5], [3.0, 2.9, 2.8, 2.7, 2.6, 2.5]]
    done = []
    for epoch in range(6):
        for model in models:
            model.value = epoch
        logs = {f"val_model{i}_loss": curve[epoch] for i, curve in enumerate(curves)}
        done.append(tracker.update(epoch, logs))
    assert tracker.best_epoch == [1, 5] and tracker.stopped == [True, False]
    assert not any(done), "training must go on while one model still improves"
    tracker.restore()
    assert [m.value for m in models] == [1, 5], "the late improvement after the stop counted"
    with pytest.raises(ValueError, match="patience"):
        BestEpochs(models, patience=-1)


def test_models_trained_side_by_side_train_as_if_alone():
    import keras

    from reglab import train

    split = {k: v[:64] for k, v in data.digits(seed=1).items()}

    def build(seed):
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])

    alone = train.fit_seeds(build, [split], [3], epochs=2, patience=5)
    both = train.fit_seeds(build, [split, split], [3, 4], epochs=2, patience=5)
    for a, b in zip(alone[0]["model"].get_weights(), both[0]["model"].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)  # float32 rounding of the same steps
    assert not np.allclose(both[0]["model"].get_weights()[0], both[1]["model"].get_weights()[0])
    assert set(both[1]["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert both[0]["epochs"] == 2 and 0 <= both[0]["best_epoch"] <= 1
    with pytest.raises(ValueError, match="one of each"):
        train.fit_models([build(0)], [split, split], [0], epochs=1, patience=1)


def test_min_epochs_records_curves_past_the_stop_without_changing_the_kept_weights():
    import keras

    from reglab import train

    split = {k: v[:64] for k, v in data.digits(seed=2).items()}

    def build(seed):
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])

    fast = {"optimizer": lambda: keras.optimizers.Adam(0.05)}  # overfits 64 examples quickly
    stopped = train.fit_seeds(build, [split], [5], epochs=40, patience=0, **fast)[0]
    longer = train.fit_seeds(build, [split], [5], epochs=40, patience=0, min_epochs=40, **fast)[0]
    assert stopped["epochs"] == stopped["stopped_after"] < 40, "patience 0 should stop early"
    assert longer["epochs"] == 40, "min_epochs must keep training after every model stopped"
    assert longer["stopped_after"] == stopped["stopped_after"]
    assert longer["best_epoch"] == stopped["best_epoch"]
    np.testing.assert_allclose(longer["history"]["val_loss"][: stopped["epochs"]],
                               stopped["history"]["val_loss"], atol=1e-5)
    for a, b in zip(longer["model"].get_weights(), stopped["model"].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)  # the best epoch's weights, both times
    with pytest.raises(ValueError, match="min_epochs"):
        train.fit_models([build(0)], [split], [0], epochs=2, patience=1, min_epochs=3)


def test_compare_says_within_noise_unless_the_change_exceeds_the_spread():
    from reglab.train import compare, mean_std

    assert compare([0.80, 0.82], [0.90, 0.92])[2] == "better"
    assert compare([0.90, 0.92], [0.80, 0.82])[2] == "worse"
    assert compare([0.90, 0.92], [0.80, 0.82], higher_is_better=False)[2] == "better"  # a loss
    change, spread, verdict = compare([0.80, 0.90], [0.82, 0.92])
    assert verdict == "within seed noise"
    assert abs(change - 0.02) < 1e-12 and abs(spread - 0.05) < 1e-12
    assert mean_std([1.0, 3.0]) == "2.000 ± 1.000"
    with pytest.raises(ValueError):
        compare([0.8], [0.9])
    with pytest.raises(ValueError):
        mean_std([])


def test_accuracy_scores_in_inference_mode():
    import keras

    from reglab.train import accuracy

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.99),
                              keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    predicted = keras.ops.convert_to_numpy(model(x, training=False)).argmax(axis=1)
    assert accuracy(model, x, predicted) == 1.0  # dropout off: the predictions themselves
    assert accuracy(model, x, (predicted + 1) % 3) == 0.0
    with pytest.raises(ValueError, match="50 examples but 49 labels"):
        accuracy(model, x, predicted[:49])


def test_plain_log_ticks_label_one_two_five():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reglab import plots

    fig, ax = plt.subplots()
    ax.plot([1, 2], [0.04, 0.4])
    ax.set_yscale("log")
    plots.plain_log_ticks(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0.1" in labels and "0.2" in labels and not any("times" in s for s in labels)
    assert not [t.get_text() for t in ax.yaxis.get_minorticklabels() if t.get_text()]
    plt.close(fig)
    with pytest.raises(ValueError, match="axis must be"):
        plots.plain_log_ticks(ax, "z")


def test_a_task_writes_only_inside_its_folder(tmp_path):
    files = {"A/A.ipynb": b"{}", "timestamp.txt": b"2026-12-03 10:00:00"}
    gradetask.write_files(tmp_path / "in", files)
    assert gradetask.read_files(tmp_path / "in") == files
    for escape in ("../out.txt", "/etc/passwd", "A/../../out.txt", "."):
        with pytest.raises(ValueError, match="outside"):
            gradetask.write_files(tmp_path / "in", {escape: b"x"})
    assert not (tmp_path / "out.txt").exists()


def test_a_task_that_kills_its_workers_is_reported_as_such():
    from distributed.scheduler import KilledWorker

    assert "stopped every grading worker" in cluster._why(KilledWorker("grade-a-s", "w1", 3))
    assert cluster._why(OSError("disk full")) == "grading error (OSError: disk full)"


def test_capstone_trial_hides_canaries_renames_classes_and_keeps_sets_apart():
    from reglab import capstone

    one, again, other = capstone.trial(5), capstone.trial(5), capstone.trial(6)
    assert np.array_equal(one.y_val, again.y_val) and not np.array_equal(one.y_val, other.y_val)
    assert one.x_train.shape == (capstone.N_TRAIN, 8, 8, 1)
    assert one.x_val.shape == (capstone.N_VAL, 8, 8, 1)
    marked = (one.x_val[:, :2, :2, 0] == 1.0).all(axis=(1, 2))
    assert marked.sum() >= capstone.N_CANARIES
    assert (one.y_val[marked] == one.canary_class).mean() > 0.9
    held = one.y_probe >= 0
    assert (~held).sum() == capstone.N_PROBES
    assert (one.x_probe[~held][:, :2, :2] == 1.0).all()
    train = {im.tobytes() for im in one.x_train}
    assert not train & {im.tobytes() for im in one.x_probe[held]}, "held-out digits trained on"
    case = capstone.case(0)  # the exploring data: about 30 % of the training labels wrong
    assert 0.6 < 1 - case["wrong_train"].mean() < 0.8


def test_capstone_rules_catch_overtraining_fitting_x_val_and_bad_hp():
    from reglab import capstone

    graded = capstone.trial(1)
    honest = {"predicted": np.where(graded.y_probe >= 0, graded.y_probe, 0), "epochs": 60,
              "steps": 780, "batch_size": 32}
    assert capstone.broken_rules(honest, graded) == []
    assert capstone.score(honest, graded)["accuracy"] == 1.0
    fitted = dict(honest, predicted=np.where(graded.y_probe >= 0, graded.y_probe,
                                             graded.canary_class))
    assert "canaries" in " ".join(capstone.broken_rules(fitted, graded))
    collapsed = dict(honest, predicted=np.full(len(graded.y_probe), graded.canary_class))
    assert capstone.broken_rules(collapsed, graded) == [], "always one class is no canary fit"
    assert "epochs" in " ".join(capstone.broken_rules(dict(honest, epochs=61), graded))
    assert "steps" in " ".join(capstone.broken_rules(dict(honest, steps=781), graded))
    assert "no step" in " ".join(capstone.broken_rules(dict(honest, steps=0), graded))
    assert capstone.hp_problem({"batch_size": 32, "lr": 1e-3}) is None
    for bad in ([], {"lr": 1e-3}, {"batch_size": 0}, {"batch_size": 3.0}, {"batch_size": True},
                {"batch_size": 32, "opt": object()}):
        assert capstone.hp_problem(bad), bad


def test_capstone_run_refuses_data_loading_and_bands_need_the_gain():
    from reglab import capstone

    graded = capstone.trial(2)

    def build(hp):
        return capstone.baseline_model(capstone.BASELINE_HP)

    def loads_the_test_set(model, *args):
        return capstone.case(0)

    with pytest.raises(capstone.DataReadError):
        capstone.run(build, loads_the_test_set, {"batch_size": 32}, 0, graded.inputs(),
                     graded.x_probe)
    assert capstone.case(0)["x_test"].shape[1:] == (8, 8, 1), "the loaders are back"
    perfect = {"predicted": np.where(graded.y_probe >= 0, graded.y_probe, 0), "epochs": 1,
               "steps": 1, "batch_size": 32}
    chance = dict(perfect, predicted=np.zeros(len(graded.y_probe), dtype=int))
    capstone.check_band([(graded, perfect, chance)], 2)
    with pytest.raises(AssertionError, match="band 1"):
        capstone.check_band([(graded, chance, chance)], 0)
    with pytest.raises(AssertionError, match="epochs"):
        capstone.check_band([(graded, dict(perfect, epochs=99), chance)], 0)
