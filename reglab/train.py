"""Train several small Keras models side by side in one ``fit`` call: one per seed or split.

The models are joined into one Keras model with one input and one output per model, so one
``fit`` trains them all; the loss is the sum of the models' losses, so each model's gradient
(and its Adam state) involves only its own weights and its own data, as if it were trained
alone. Each model is early-stopped on its own validation loss and gets its best epoch's
weights back, like ``keras.callbacks.EarlyStopping(patience=..., restore_best_weights=True)``.
"""

from collections.abc import Callable, Sequence

import numpy as np


def _name(i: int) -> str:
    return f"model{i}"


def join(models: Sequence) -> "keras.Model":  # noqa: F821
    """One Keras model running ``models`` side by side: input ``i`` feeds model ``i``."""
    import keras

    if not models:
        raise ValueError("join needs at least one model")
    inputs = [keras.Input(m.input_shape[1:], name=f"{_name(i)}_x") for i, m in enumerate(models)]
    outputs = [keras.layers.Identity(name=_name(i))(m(x))
               for i, (m, x) in enumerate(zip(models, inputs, strict=True))]
    return keras.Model(inputs, outputs)


def _per_model(logs: dict, i: int, n: int) -> dict:
    """The entries of a joined model's logs that belong to model ``i`` of ``n``, unprefixed."""
    if n == 1:  # Keras names a single output's logs without a prefix
        return dict(logs)
    prefix, result = f"{_name(i)}_", {}
    for key, value in logs.items():
        val = key.startswith("val_")
        bare = key[4:] if val else key
        if bare.startswith(prefix):
            result[("val_" if val else "") + bare[len(prefix):]] = value
    return result


class BestEpochs:
    """Per model of a joined stack: early stopping on its own ``val_loss``, best weights kept.

    A model whose validation loss has not improved for ``patience`` epochs is stopped: later
    epochs no longer count for it, and at the end it gets the weights of its best epoch. Training
    ends when every model is stopped, but not before ``min_epochs`` (the later epochs only
    extend the recorded curves). Use :meth:`callback` as a Keras callback.
    """

    def __init__(self, models: Sequence, patience: int, min_epochs: int = 0) -> None:
        if patience < 0:
            raise ValueError(f"patience must be non-negative, got {patience}")
        self.models, self.patience, self.min_epochs = list(models), patience, min_epochs
        self.best = [np.inf] * len(self.models)
        self.best_epoch = [0] * len(self.models)
        self.weights = [m.get_weights() for m in self.models]
        self.stopped = [False] * len(self.models)
        self.stop_epoch: list[int | None] = [None] * len(self.models)

    def update(self, epoch: int, logs: dict) -> bool:
        """Record one epoch's logs of the joined model; True when every model is stopped."""
        for i, model in enumerate(self.models):
            if self.stopped[i]:
                continue
            loss = float(_per_model(logs, i, len(self.models))["val_loss"])
            if loss < self.best[i]:
                self.best[i], self.best_epoch[i] = loss, epoch
                self.weights[i] = model.get_weights()
            elif epoch - self.best_epoch[i] >= self.patience:
                self.stopped[i], self.stop_epoch[i] = True, epoch
        return all(self.stopped)

    def restore(self) -> None:
        """Give every model the weights of its best epoch."""
        for model, weights in zip(self.models, self.weights, strict=True):
            model.set_weights(weights)

    def callback(self, joined) -> "keras.callbacks.Callback":  # noqa: F821
        """A Keras callback that calls :meth:`update` every epoch and restores at the end."""
        import keras

        tracker = self

        class _Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                if tracker.update(epoch, logs or {}) and epoch + 1 >= tracker.min_epochs:
                    joined.stop_training = True

            def on_train_end(self, logs: dict | None = None) -> None:
                tracker.restore()

        return _Callback()


def _pipeline(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], batch_size: int,
              seeds: Sequence[int] | None):
    """Zip one ``tf.data`` pipeline per model (each reshuffled with its own seed) into one."""
    import tensorflow as tf

    from reglab.data import batches

    if len({len(x) for x in xs}) != 1:
        raise ValueError(f"every model needs as many examples, got {[len(x) for x in xs]}")
    parts = [batches(x, y, batch_size, seed=None if seeds is None else s)
             for x, y, s in zip(xs, ys, seeds or [None] * len(xs), strict=True)]
    return tf.data.Dataset.zip(tuple(parts)).map(
        lambda *pairs: (tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)))


def _return_freed_memory() -> None:
    """Collect a fit's garbage and give the freed memory back to the system (glibc: Linux).

    TensorFlow keeps part of every traced training step, and a chapter fits dozens of stacks
    in one kernel; collecting and trimming after each keeps its footprint in check.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # no glibc (macOS, Windows, musl): nothing to do
        pass


def fit_models(models: Sequence, splits: Sequence[dict], shuffle_seeds: Sequence[int],
               epochs: int, patience: int, batch_size: int = 32,
               optimizer: Callable | None = None, loss: str = "sparse_categorical_crossentropy",
               metrics: Sequence[str] = ("accuracy",), min_epochs: int = 0) -> list[dict]:
    """Train uncompiled ``models`` side by side, model ``i`` on ``splits[i]``, early-stopped.

    ``splits[i]`` holds ``x_train, y_train, x_val, y_val`` (as :func:`reglab.data.digits`
    returns them); ``shuffle_seeds[i]`` reshuffles model ``i``'s training data every epoch.
    ``optimizer()`` makes the optimizer (Adam by default). Training goes on to ``min_epochs``
    even when every model has stopped, which records the curves past the stops without
    changing what each model keeps. Returns one dict per model: ``model`` (with its best
    epoch's weights), ``history`` (its per-epoch logs, Keras style), ``best_epoch`` (counted
    from 0), ``epochs`` (how many were trained) and ``stopped_after`` (the epochs that counted
    for it: up to its early stop, else all).
    """
    import keras

    if not len(models) == len(splits) == len(shuffle_seeds):
        raise ValueError(f"{len(models)} models, {len(splits)} splits, "
                         f"{len(shuffle_seeds)} seeds: need one of each per model")
    if not 0 <= min_epochs <= epochs:
        raise ValueError(f"min_epochs must be between 0 and epochs={epochs}, got {min_epochs}")
    joined = join(models)
    joined.compile(optimizer=optimizer() if optimizer else keras.optimizers.Adam(),
                   loss=[loss] * len(models), metrics=[list(metrics)] * len(models))
    train = _pipeline([s["x_train"] for s in splits], [s["y_train"] for s in splits],
                      batch_size, shuffle_seeds)
    val = _pipeline([s["x_val"] for s in splits], [s["y_val"] for s in splits], 1024, None)
    tracker = BestEpochs(models, patience, min_epochs)
    history = joined.fit(train, validation_data=val, epochs=epochs, shuffle=False, verbose=0,
                         callbacks=[tracker.callback(joined)])
    trained = len(history.history["loss"])
    _return_freed_memory()
    return [{"model": m, "history": _per_model(history.history, i, len(models)),
             "best_epoch": tracker.best_epoch[i], "epochs": trained,
             "stopped_after": trained if stop is None else stop + 1}
            for i, (m, stop) in enumerate(zip(models, tracker.stop_epoch, strict=True))]


def fit_seeds(build: Callable[[int], "keras.Model"], splits: Sequence[dict],  # noqa: F821
        seeds: Sequence[int], epochs: int, patience: int, **options) -> list[dict]:
    """:func:`fit_models` for ``build(seed)``, one model per seed, each on its own split.

    Before building, the global Keras seed is set to that seed, so model ``i``'s initial
    weights, and the masks of its ``Dropout`` layers without a seed, depend on ``seeds[i]``
    only; its batch order depends on ``seeds[i]`` and ``seeds[0]``. ``options`` go to
    :func:`fit_models`.
    """
    import keras

    models = []
    for s in seeds:
        keras.utils.set_random_seed(s)
        models.append(build(s))
    keras.utils.set_random_seed(seeds[0])  # tf.data's shuffles also read the global seed
    return fit_models(models, splits, seeds, epochs, patience, **options)


def accuracy(model, x: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``labels`` that ``model`` predicts on ``x``, in inference mode (no dropout,
    no augmentation, BatchNormalization with its moving statistics)."""
    import keras

    if len(x) != len(labels):
        raise ValueError(f"{len(x)} examples but {len(labels)} labels")
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.mean(probabilities.argmax(axis=-1) == np.asarray(labels)))


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """``"mean ± std"`` of ``values`` (population std, as NumPy's default), rounded."""
    values = np.asarray(values, dtype="float64")
    if values.size == 0:
        raise ValueError("mean_std needs at least one value")
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def compare(before: Sequence[float], after: Sequence[float],
            higher_is_better: bool = True) -> tuple[float, float, str]:
    """Change of the mean from ``before`` to ``after`` (one score per seed), judged by the spread.

    Returns ``(change, spread, verdict)``: ``spread`` is the larger of the two standard
    deviations over seeds; the verdict is ``"better"`` or ``"worse"`` only when the change of
    the mean exceeds the spread, and ``"within seed noise"`` otherwise. For a loss, pass
    ``higher_is_better=False``: a lower mean is then "better".
    """
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if before.size < 2 or after.size < 2:
        raise ValueError("compare needs at least two scores (seeds) on each side")
    change = float(after.mean() - before.mean())
    spread = float(max(before.std(), after.std()))
    if abs(change) <= spread:
        return change, spread, "within seed noise"
    return change, spread, "better" if (change > 0) == higher_is_better else "worse"
