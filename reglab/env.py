"""One call at the top of every notebook: seeds, quiet logs, readable warnings.

Every seed a chapter uses goes through :func:`seed` (or :func:`seeds`, :func:`rng`,
:func:`setup` and :func:`reglab.data.digits`, which call it). Setting the environment
variable ``REGLAB_SEED_SHIFT`` to an integer shifts them all, so that the whole course can be
re-run on other initializations and other data splits: what a chapter asserts must hold there
too.
"""

import logging
import os
import random
import sys
import warnings

import numpy as np

SHIFT_VARIABLE = "REGLAB_SEED_SHIFT"


def seed_shift() -> int:
    """The shift added to every seed: ``$REGLAB_SEED_SHIFT``, 0 when unset."""
    value = os.environ.get(SHIFT_VARIABLE, "").strip() or "0"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{SHIFT_VARIABLE} must be an integer, got {value!r}") from None


def _shifted(k: int) -> int:
    if not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"a seed is a non-negative integer, got {k!r}")
    return int(k) + seed_shift()


def seed(k: int = 0) -> int:
    """The ``k``-th seed of this run: ``k`` plus the seed shift."""
    return _shifted(k)


def seeds(n: int, start: int = 0) -> list[int]:
    """``n`` consecutive seeds from ``start``, shifted: one per repetition of an experiment."""
    if n < 1:
        raise ValueError(f"need at least one seed, got n={n}")
    return [seed(start + i) for i in range(n)]


def rng(k: int = 0) -> np.random.Generator:
    """A NumPy generator seeded with :func:`seed` ``(k)``."""
    return np.random.default_rng(seed(k))


def _warning_to_stdout(message, category, filename, lineno, file=None, line=None) -> None:
    # nbgrader zeroes a test cell that writes to stderr, so a correct answer that
    # merely warns would lose its points. Warnings stay visible, on stdout.
    print(f"{category.__name__}: {message}", file=sys.stdout)


def setup(seed: int = 0, use_keras: bool = True) -> None:
    """Seed every generator, silence TensorFlow's logs and show warnings on stdout.

    The seed is shifted by ``$REGLAB_SEED_SHIFT`` (see :func:`reglab.seed`). With
    ``use_keras=False`` TensorFlow is not imported (numpy-only notebooks start faster);
    Python's and NumPy's global generators are still seeded.
    """
    shifted = _shifted(seed)
    warnings.showwarning = _warning_to_stdout
    for name in ("tensorflow", "absl", "h5py", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if use_keras:
        import keras
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)  # TensorFlow resets its logger on import
        keras.utils.set_random_seed(shifted)
    else:
        random.seed(shifted)
        np.random.seed(shifted)
    import matplotlib

    matplotlib.rcParams.update(
        {"figure.figsize": (6.4, 3.6), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3}
    )
