"""Many small MLPs stacked into one set of Keras weights and trained by one ``fit``.

Network ``k`` of a stack owns slice ``k`` of every kernel and bias (``EinsumDense`` with a
model axis): it reads input column ``k`` of a batch shaped (batch, models, features) and
writes output column ``k``. Keras averages the loss over that axis too, so each network's
data loss enters with the factor 1/n; :class:`SlicePenalty` divides the penalty by n as well.
Each network then minimizes its own loss plus its own penalty, times the common factor 1/n,
which Adam's update does not see (apart from its ε): training in the stack is training alone.
Compared with joining separate models (:mod:`reglab.train`), one step costs a few tensor
operations instead of a few per network.
"""

from collections.abc import Callable, Sequence

import keras
import numpy as np

Score = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _strengths(values: float | Sequence[float], n_models: int, name: str) -> np.ndarray:
    out = np.broadcast_to(np.asarray(values, dtype="float64"), (n_models,)).copy()
    if np.any(out < 0):
        raise ValueError(f"{name} strengths must be non-negative, got {values}")
    return out


def slice_penalty(kernel, l2: np.ndarray, l1: np.ndarray):
    """``l1[k]·Σ|W_k| + l2[k]·ΣW_k²`` for every slice ``W_k = kernel[k]``: shape (models,)."""
    ops = keras.ops
    axes = tuple(range(1, len(kernel.shape)))
    return (ops.convert_to_tensor(l1, kernel.dtype) * ops.sum(ops.abs(kernel), axis=axes)
            + ops.convert_to_tensor(l2, kernel.dtype) * ops.sum(ops.square(kernel), axis=axes))


class SlicePenalty(keras.regularizers.Regularizer):
    """Network ``k``'s penalty is Keras's ``L1L2(l1[k], l2[k])`` on its slice ``kernel[k]``;
    the regularizer returns their mean, as the loss is the mean over the stack."""

    def __init__(self, n_models: int, l2: float | Sequence[float] = 0.0,
                 l1: float | Sequence[float] = 0.0) -> None:
        self.n_models = n_models
        self.l2 = _strengths(l2, n_models, "l2")
        self.l1 = _strengths(l1, n_models, "l1")

    def __call__(self, kernel):
        return keras.ops.mean(slice_penalty(kernel, self.l2, self.l1))

    def get_config(self) -> dict:
        return {"n_models": self.n_models, "l2": self.l2.tolist(), "l1": self.l1.tolist()}


def mlp(n_models: int, n_inputs: int, widths: Sequence[int], n_outputs: int,
        activation: str = "relu", l2: float | Sequence[float] = 0.0,
        l1: float | Sequence[float] = 0.0) -> keras.Sequential:
    """``n_models`` independent MLPs (hidden ``widths``) side by side in one Keras model.

    Input (batch, n_models, n_inputs), output (batch, n_models, n_outputs). ``l2`` and ``l1``
    (one value, or one per network) put network ``k``'s penalty on each of its kernels (not
    on the biases), scaled as described in the module docstring.
    """
    if n_models < 1 or not widths:
        raise ValueError("need at least one network and one hidden layer")
    regularize = np.any(_strengths(l2, n_models, "l2") > 0) or \
        np.any(_strengths(l1, n_models, "l1") > 0)
    layers = [keras.Input((n_models, n_inputs))]
    sizes = [n_inputs, *widths, n_outputs]
    for i, width in enumerate([*widths, n_outputs]):
        reg = SlicePenalty(n_models, l2, l1) if regularize else None
        # Glorot uniform with one network's fans (Keras would count the model axis in them)
        limit = float(np.sqrt(6.0 / (sizes[i] + width)))
        layers.append(keras.layers.EinsumDense(
            "bmi,mio->bmo", (n_models, width), bias_axes="mo", kernel_regularizer=reg,
            kernel_initializer=keras.initializers.RandomUniform(-limit, limit),
            activation=activation if i < len(widths) else None,
            name=f"dense_{i}"))
    return keras.Sequential(layers)


def columns(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Stack one array per network along a new axis 1, the stack's model axis."""
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"every network needs as many examples, got {[len(a) for a in arrays]}")
    return np.stack(list(arrays), axis=1)


def cross_entropy(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Mean cross-entropy per network: ``y`` (batch, models) labels, logits (batch, models, C)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0].mean(axis=0)


def accuracy(y: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Fraction of correct labels per network."""
    return (logits.argmax(axis=-1) == y).mean(axis=0)


def curves(model, sets: dict[str, tuple[np.ndarray, np.ndarray]],
           scores: dict[str, Score]) -> tuple[keras.callbacks.Callback, dict]:
    """A callback that scores every network on every set after each epoch, and its record.

    ``record[f"{set}_{score}"]`` becomes an array (epochs, models) when training ends.
    ``model`` is a Keras model, run in inference mode through its compiled
    ``predict_on_batch`` (an eager call per epoch would hold on to far more memory), or any
    callable ``model(x, training=False)``, such as a ``tf.function``.
    """
    predict = getattr(model, "predict_on_batch", None) or (lambda x: model(x, training=False))
    record: dict[str, list] = {f"{s}_{n}": [] for s in sets for n in scores}

    class _Curves(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for set_name, (x, y) in sets.items():
                out = keras.ops.convert_to_numpy(predict(x))
                for score_name, score in scores.items():
                    record[f"{set_name}_{score_name}"].append(score(y, out))

        def on_train_end(self, logs: dict | None = None) -> None:
            for key in record:
                record[key] = np.array(record[key])

    return _Curves(), record
