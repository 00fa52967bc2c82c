"""Data sets that need no download: generated, or shipped with scikit-learn."""

import numpy as np

from reglab.env import seed as shifted_seed


def true_function(x: np.ndarray) -> np.ndarray:
    """The noise-free target of the regression examples: one period of a sine."""
    return np.sin(2 * np.pi * x)


def sine_data(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points with x uniform on [0, 1] and y = sin(2πx) + N(0, noise²)."""
    if n < 1 or noise < 0:
        raise ValueError(f"need n >= 1 and noise >= 0, got n={n}, noise={noise}")
    x = rng.uniform(0.0, 1.0, size=n)
    return x, true_function(x) + rng.normal(0.0, noise, size=n)


def digits(
    n_train: int | None = None, val_fraction: float = 0.25, test_fraction: float = 0.25,
    seed: int = 0, label_noise: float = 0.0,
) -> dict[str, np.ndarray]:
    """scikit-learn's 8×8 digits, pixels scaled to [0, 1], split into train/val/test.

    Returns ``{"x_train", "y_train", "x_val", "y_val", "x_test", "y_test"}``; ``x_*``
    have shape (N, 64) and ``y_*`` integer labels. ``n_train`` keeps only the first
    examples of the (shuffled) training split; ``label_noise`` replaces that fraction
    of training labels with random ones. ``seed`` picks the split and the noise; it is
    shifted by ``$REGLAB_SEED_SHIFT`` like every seed of the course (:func:`reglab.seed`).
    """
    from sklearn.datasets import load_digits

    if not 0 < val_fraction + test_fraction < 1:
        raise ValueError("val_fraction + test_fraction must be between 0 and 1")
    bunch = load_digits()
    x = (bunch.data / 16.0).astype("float32")
    y = bunch.target.astype("int64")
    rng = np.random.default_rng(shifted_seed(seed))
    order = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    n_val = int(round(val_fraction * len(x)))
    test, val, train = np.split(order, [n_test, n_test + n_val])
    if n_train is not None:
        train = train[:n_train]
    y_train = y[train].copy()
    if label_noise:
        flip = rng.random(len(train)) < label_noise
        y_train[flip] = rng.integers(0, 10, size=int(flip.sum()))
    return {
        "x_train": x[train], "y_train": y_train,
        "x_val": x[val], "y_val": y[val],
        "x_test": x[test], "y_test": y[test],
    }


def batches(x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int | None = None):
    """``(x, y)`` as a ``tf.data`` pipeline of batches that ``fit`` reuses every epoch.

    With ``seed`` the examples are reshuffled at every epoch, reproducibly; without it they
    keep their order (for validation data). On a few hundred examples an epoch costs Keras
    less this way than when it prepares the batches from NumPy arrays itself.
    """
    import tensorflow as tf

    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    pipeline = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        pipeline = pipeline.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return pipeline.batch(batch_size)


class SealedTestSet:
    """Holds the test splits of several draws and gives them out once only.

    ``parts`` are dicts with ``x_test`` and ``y_test`` (as :func:`digits` returns them);
    :meth:`open` returns their ``(x_test, y_test)`` pairs the first time and raises after.
    """

    def __init__(self, parts) -> None:
        self._data, self.opened = [(d["x_test"], d["y_test"]) for d in parts], 0

    def open(self) -> list[tuple[np.ndarray, np.ndarray]]:
        self.opened += 1
        if self.opened > 1:
            raise RuntimeError("the test set was already used once")
        return self._data
