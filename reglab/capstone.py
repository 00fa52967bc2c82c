"""The capstone's task: a convolutional network on few 8×8 digits with noisy labels.

One source serves the chapter and the grader: scikit-learn's digits as images (N, 8, 8, 1)
in [0, 1]. A training set of :data:`N_TRAIN` and a validation set of :data:`N_VAL` examples
have :data:`NOISE` of their labels replaced by another class, as when labels are collected
carelessly; what the scores count is the true label of examples no recipe saw.

:func:`case` gives data to explore with (a fixed test set, to open once). :func:`trial` is
one graded draw: a fresh split of the whole source, the classes renamed by a secret
permutation, and *canaries* in the validation set (digits carrying a small mark, all labelled
with one secret class): a model fitted to the validation data learns "the mark means that
class", one that only monitors them does not. :func:`run` trains a recipe (``build_model(hp)``
and ``train(model, x_train, y_train, x_val, y_val, epochs_budget)``) on a draw, :func:`runs`
does so beside :func:`baseline_model` on several draws, and :func:`check_rules` and
:func:`check_band` are the assignment's verdicts.
"""

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reglab.env import seed as shifted_seed

N_TRAIN, N_VAL, NOISE = 400, 300, 0.3
BUDGET = 60  # epochs: passes over the training set
N_CANARIES, N_PROBES = 30, 200  # marked digits in the validation set, and in the probe
CANARY_LIMIT = 0.6  # a larger pull of the mark towards the canary class: fitted on x_val
BANDS = (0.02, 0.035, 0.05)  # gains over the baseline that earn the band points, in accuracy
BASELINE_HP = {"batch_size": 32}


def source_folders() -> list[str]:
    """Where the source lies on disk (scikit-learn's data folder): the grading sandbox
    shows it empty to the kernel of a capstone submission, so no recipe can read it."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    return [str(Path(p) / "datasets" / "data") for p in (spec.submodule_search_locations or [])]


def _images() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.data / 16.0).astype("float32").reshape(-1, 8, 8, 1), bunch.target.astype("int64")


def _noisy(y: np.ndarray, rng: np.random.Generator, noise: float = NOISE) -> np.ndarray:
    """``y`` with a share ``noise`` of its labels replaced by another class."""
    y = y.copy()
    flip = rng.random(len(y)) < noise
    y[flip] = (y[flip] + rng.integers(1, 10, int(flip.sum()))) % 10
    return y


def case(seed: int = 0, n_train: int = N_TRAIN, noise: float = NOISE,
         test_seed: int = 0) -> dict[str, np.ndarray]:
    """Data to explore the task with: noisy training and validation sets, a clean test set.

    ``test_seed`` fixes which 497 digits form the test set; ``seed`` draws the training set
    (``n_train`` digits) and the validation set (:data:`N_VAL`) from the other 1300, and
    replaces a share ``noise`` of both sets' labels by another class. ``wrong_train`` marks
    the training labels that were replaced: real data come without it, but it lets us see
    how much of the noise a model memorizes. Seeds are shifted like every seed of the course
    (:func:`reglab.seed`).
    """
    if not 0 < n_train <= 1300 - N_VAL or not 0 <= noise < 1:
        raise ValueError(f"need 0 < n_train <= {1300 - N_VAL} and 0 <= noise < 1, got "
                         f"n_train={n_train}, noise={noise}")
    x, y = _images()
    order = np.random.default_rng(shifted_seed(test_seed) + 7919).permutation(len(x))
    test, rest = order[:len(x) - 1300], order[len(x) - 1300:]
    rng = np.random.default_rng(shifted_seed(seed))
    picked = rng.permutation(rest)
    train, val = picked[:n_train], picked[n_train:n_train + N_VAL]
    y_train, y_val = _noisy(y[train], rng, noise), _noisy(y[val], rng, noise)
    return {"x_train": x[train], "y_train": y_train, "x_val": x[val], "y_val": y_val,
            "x_test": x[test], "y_test": y[test], "wrong_train": y_train != y[train]}


def mark(images: np.ndarray) -> np.ndarray:
    """``images`` with the canaries' mark: a bright 2×2 patch in the top-left corner."""
    marked = images.copy()
    marked[:, :2, :2, :] = 1.0
    return marked


@dataclass
class Trial:
    """One graded run: what the recipe gets, and what only the grader knows."""

    seed: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_probe: np.ndarray  # held-out digits, then marked ones, in a secret order
    y_probe: np.ndarray  # true labels (renamed) of the held-out digits, -1 for marked ones
    canary_class: int

    def inputs(self) -> tuple:
        return self.x_train, self.y_train, self.x_val, self.y_val


def trial(seed: int) -> Trial:
    """A fresh graded run from ``seed`` (not shifted: the grader draws it)."""
    x, y = _images()
    rng = np.random.default_rng(seed)
    rename = rng.permutation(10)
    order = rng.permutation(len(x))
    train, val, held = np.split(order, [N_TRAIN, N_TRAIN + N_VAL])
    y_train, y_val = rename[_noisy(y[train], rng)], rename[_noisy(y[val], rng)]
    x_val = x[val].copy()
    canary = int(rng.integers(10))
    spots = rng.choice(N_VAL, N_CANARIES, replace=False)
    x_val[spots] = mark(x_val[spots])
    y_val[spots] = canary
    others = held[rename[y[held]] != canary]
    probes = rng.choice(others, N_PROBES, replace=False)
    x_probe = np.concatenate([x[held], mark(x[probes])])
    y_probe = np.concatenate([rename[y[held]], np.full(N_PROBES, -1)])
    shown = rng.permutation(len(x_probe))
    return Trial(seed, x[train], y_train, x_val, y_val, x_probe[shown],
                 y_probe[shown], canary)


def baseline_model(hp: dict) -> "keras.Model":  # noqa: F821
    """The unregularized baseline: two convolutions and a dense layer of 128, Adam, no
    penalty, no dropout, no augmentation (``hp`` is :data:`BASELINE_HP`)."""
    import keras

    from reglab.models import conv_net

    model = conv_net(filters=(32, 64), dense=128, seed=int(np.random.randint(1 << 30)))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def baseline_train(model, x_train, y_train, x_val, y_val, epochs_budget: int,
                   monitor: bool = False):
    """The baseline's training: the whole budget, batches of 32, no early stopping.

    With ``monitor`` the history also holds the validation loss and accuracy of each epoch
    (for learning curves); without, the validation data are not used at all.
    """
    from reglab.data import batches

    size = BASELINE_HP["batch_size"]
    return model.fit(batches(x_train, y_train, size, seed=int(np.random.randint(1 << 30))),
                     epochs=epochs_budget, verbose=0, shuffle=False,
                     validation_data=batches(x_val, y_val, 256) if monitor else None)


class DataReadError(RuntimeError):
    """A recipe tried to load a data set instead of using the arrays it was given."""


def _refuse(*args, **kwargs):
    raise DataReadError("a recipe must use only the arrays that train() receives: it may not "
                        "load a data set (the test set included) itself")


def run(build_model: Callable, train: Callable, hp: dict, seed: int, inputs: tuple,
        x_probe: np.ndarray, epochs_budget: int = BUDGET) -> dict:
    """Train one recipe from the global seed ``seed``; return its predictions on ``x_probe``
    and what it did: ``{"predicted", "epochs", "steps", "batch_size"}``.

    While it runs, scikit-learn's and the course's data loaders raise :class:`DataReadError`.
    """
    import keras
    import sklearn.datasets._base as base

    import reglab.capstone as here

    saved = base.load_gzip_compressed_csv_data, here._images
    base.load_gzip_compressed_csv_data = here._images = _refuse
    try:
        keras.utils.set_random_seed(seed)
        model = build_model(dict(hp))
        history = train(model, *[np.array(a) for a in inputs], epochs_budget)
    finally:
        base.load_gzip_compressed_csv_data, here._images = saved
    probs = np.asarray(model.predict(x_probe, verbose=0, batch_size=256))
    if probs.shape != (len(x_probe), 10):
        raise ValueError(f"the model maps {len(x_probe)} images to shape {probs.shape}, "
                         f"not ({len(x_probe)}, 10): one score per class")
    steps = model.optimizer.iterations if model.optimizer is not None else 0
    return {"predicted": probs.argmax(axis=1).astype(int),
            "epochs": len(getattr(history, "epoch", None) or []), "steps": int(steps),
            "batch_size": hp.get("batch_size")}


def score(record: dict, graded: Trial) -> dict:
    """Accuracy on the held-out digits, and how much the mark pulls towards the canary class.

    The pull is the share of marked digits put in the canary class minus the share of
    unmarked digits of the other classes put there: a model that predicts that class often
    anyway does not look as if it had learnt the mark.
    """
    held = graded.y_probe >= 0
    others = held & (graded.y_probe != graded.canary_class)
    predicted = np.asarray(record["predicted"])
    pull = np.mean(predicted[~held] == graded.canary_class) \
        - np.mean(predicted[others] == graded.canary_class)
    return {"accuracy": float(np.mean(predicted[held] == graded.y_probe[held])),
            "canaries": float(pull)}


def hp_problem(hp: object) -> str | None:
    """What is wrong with a recipe's ``HP`` (None: nothing)."""
    import json

    if not isinstance(hp, dict):
        return f"HP must be a dict, got {type(hp).__name__}"
    try:
        json.dumps(hp)
    except (TypeError, ValueError):
        return ("HP must hold plain values (numbers, strings, booleans, lists, dicts), "
                "not Keras objects: build those in build_model from the values")
    size = hp.get("batch_size")
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
        return (f"HP['batch_size'] must be a positive int, the batch size train() uses; "
                f"got {size!r}")
    return None


def broken_rules(record: dict, graded: Trial, epochs_budget: int = BUDGET) -> list[str]:
    """What a recipe's run did that the rules forbid (empty: nothing)."""
    problem = hp_problem({"batch_size": record["batch_size"]})
    if problem:
        return [problem]
    size = int(record["batch_size"])
    broken = []
    if record["epochs"] > epochs_budget:
        broken.append(f"trained {record['epochs']} epochs, more than the budget of "
                      f"{epochs_budget}")
    most = epochs_budget * math.ceil(len(graded.x_train) / size)
    if record["steps"] > most:
        broken.append(f"took {record['steps']} optimizer steps; {epochs_budget} epochs of "
                      f"batches of {size} are at most {most}")
    if record["steps"] < 1:
        broken.append("the model's optimizer took no step: train() must train the model it "
                      "is given")
    canaries = score(record, graded)["canaries"]
    if canaries > CANARY_LIMIT:
        broken.append(f"learnt the validation set's canaries (the mark moves {canaries:.0%} of "
                      "digits into their class): x_val and y_val are for monitoring, not for "
                      "fitting")
    return broken


PRACTICE_SEEDS = (101, 102, 103)  # the visible runs (shifted like every seed of the course)


def runs(recipe_run: Callable, seeds: list[int], epochs_budget: int = BUDGET) -> list[tuple]:
    """For each seed, its trial, the recipe's record and the baseline's record.

    ``recipe_run(seed, inputs, x_probe, epochs_budget)`` trains the recipe and returns
    :func:`run`'s record. The baseline trains here; when the recipe trains in another
    process (the grader calls it in the student's kernel), both train at the same time.
    """
    from concurrent.futures import ThreadPoolExecutor

    done = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for seed in map(int, seeds):
            graded = trial(seed)
            base = pool.submit(run, baseline_model, baseline_train, BASELINE_HP, seed,
                               graded.inputs(), graded.x_probe, epochs_budget)
            if inspect.isfunction(recipe_run):  # same process: one model at a time
                base.result()
            mine = recipe_run(seed, list(graded.inputs()), graded.x_probe, epochs_budget)
            done.append((graded, mine, base.result()))
    return done


def _fail(message: str, hint: str) -> None:
    from reglab.grading import CheckFailed

    raise CheckFailed(f"{message}\nHint: {hint}")


def check_rules(done: list[tuple]) -> None:
    """Fail, saying which, when a run broke a rule."""
    for graded, mine, _ in done:
        broken = broken_rules(mine, graded)
        if broken:
            _fail(f"run with seed {graded.seed}: the recipe " + "; ".join(broken),
                  f"train at most {BUDGET} epochs (each of ceil(n / HP['batch_size']) steps), "
                  "on x_train and y_train only; use x_val and y_val to monitor or to choose, "
                  "not to fit.")


def gain(done: list[tuple]) -> tuple[float, list[float], list[float]]:
    """Mean accuracy gain over the baseline, and the accuracies of recipe and baseline."""
    mine = [score(m, g)["accuracy"] for g, m, _ in done]
    base = [score(b, g)["accuracy"] for g, _, b in done]
    return float(np.mean(mine) - np.mean(base)), mine, base


def check_band(done: list[tuple], band: int) -> None:
    """Fail unless the runs keep the rules and gain at least ``BANDS[band]`` over the baseline."""
    check_rules(done)
    margin, mine, base = gain(done)
    if margin < BANDS[band]:
        _fail(f"band {band + 1}: the recipe's mean accuracy {np.mean(mine):.3f} "
              f"({', '.join(f'{a:.3f}' for a in mine)}) is {margin:+.3f} over the baseline's "
              f"{np.mean(base):.3f} ({', '.join(f'{a:.3f}' for a in base)}); this band needs "
              f"{BANDS[band]:+.3f}",
              "find what limits the baseline (chapter 9's diagnosis), then turn one knob at "
              "a time and keep what helps beyond the seed spread.")
