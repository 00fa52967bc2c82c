"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 07_label_smoothing_and_stochastic_depth. Each is appended to the cell that
defines the function (or class)."""

_SD_HEAD = '''
class StochasticDepth(keras.layers.Layer):
    def __init__(self, survival_probability=0.8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = survival_probability
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_config(self):
        config = super().get_config()
        config.update({"survival_probability": self.survival_probability, "seed": self.seed})
        return config
'''


def _sd(call: str, head: str = _SD_HEAD) -> str:
    return head + "\n" + call


MUTANTS = {
    "smooth_labels": {
        "s/(K-1) instead of s/K": '''
def smooth_labels(y_onehot, smoothing):
    if not 0 <= smoothing <= 1:
        raise ValueError("smoothing")
    y = np.asarray(y_onehot, dtype=float)
    return y * (1 - smoothing) + smoothing / (y.shape[-1] - 1)
''',
        "K taken from the batch axis": '''
def smooth_labels(y_onehot, smoothing):
    if not 0 <= smoothing <= 1:
        raise ValueError("smoothing")
    y = np.asarray(y_onehot, dtype=float)
    return y * (1 - smoothing) + smoothing / y.shape[0]
''',
        "modifies the input in place": '''
def smooth_labels(y_onehot, smoothing):
    if not 0 <= smoothing <= 1:
        raise ValueError("smoothing")
    y_onehot *= (1 - smoothing)
    y_onehot += smoothing / y_onehot.shape[-1]
    return y_onehot
''',
        "no range check": '''
def smooth_labels(y_onehot, smoothing):
    y = np.asarray(y_onehot, dtype=float)
    return y * (1 - smoothing) + smoothing / y.shape[-1]
''',
        "range check misses NaN": '''
def smooth_labels(y_onehot, smoothing):
    if smoothing < 0 or smoothing > 1:
        raise ValueError("smoothing")
    y = np.asarray(y_onehot, dtype=float)
    return y * (1 - smoothing) + smoothing / y.shape[-1]
''',
        "target lowered but no mass spread": '''
def smooth_labels(y_onehot, smoothing):
    if not 0 <= smoothing <= 1:
        raise ValueError("smoothing")
    return np.asarray(y_onehot, dtype=float) * (1 - smoothing)
''',
    },
    "smoothed_categorical_crossentropy": {
        "s/(K-1) instead of s/K": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    y = np.asarray(y_onehot, dtype=float)
    t = y * (1 - smoothing) + smoothing / (y.shape[-1] - 1)
    p = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    return float(np.mean(-np.sum(t * np.log(p), axis=-1)))
''',
        "no clipping": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    t = smooth_labels(y_onehot, smoothing)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(-np.sum(t * np.log(np.asarray(probs, dtype=float)), axis=-1)))
''',
        "clipped with 1e-12": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    t = smooth_labels(y_onehot, smoothing)
    p = np.clip(np.asarray(probs, dtype=float), 1e-12, 1 - 1e-12)
    return float(np.mean(-np.sum(t * np.log(p), axis=-1)))
''',
        "sum over the batch instead of mean": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    t = smooth_labels(y_onehot, smoothing)
    p = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    return float(np.sum(-np.sum(t * np.log(p), axis=-1)))
''',
        "smoothing ignored": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    t = np.asarray(y_onehot, dtype=float)
    p = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    return float(np.mean(-np.sum(t * np.log(p), axis=-1)))
''',
    },
    "expected_calibration_error": {
        "bins weighted equally": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(labels)).astype(float)
    gaps = []
    for b in range(n_bins):
        m = (conf > b / n_bins) & (conf <= (b + 1) / n_bins)
        if m.any():
            gaps.append(abs(correct[m].mean() - conf[m].mean()))
    return float(np.mean(gaps))
''',
        "bins closed on the left, open on the right": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(labels)).astype(float)
    idx = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)
''',
        "signed difference": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(labels)).astype(float)
    ece = 0.0
    for b in range(n_bins):
        m = (conf > b / n_bins) & (conf <= (b + 1) / n_bins)
        if m.any():
            ece += m.mean() * (conf[m].mean() - correct[m].mean())
    return float(abs(ece))
''',
        "probability of the true class as the confidence": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    conf = probs[np.arange(len(labels)), labels]
    correct = (probs.argmax(axis=1) == labels).astype(float)
    ece = 0.0
    for b in range(n_bins):
        m = (conf > b / n_bins) & (conf <= (b + 1) / n_bins)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)
''',
        "gap of the overall averages (no bins)": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(labels)).astype(float)
    return float(abs(correct.mean() - conf.mean()))
''',
    },
    "StochasticDepth": {
        "one draw per batch instead of per example": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        draw = keras.random.uniform((), seed=self.seed_generator)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability
'''),
        "one draw per element (plain dropout on the branch)": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        draw = keras.random.uniform(keras.ops.shape(residual), seed=self.seed_generator)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability
'''),
        "no rescaling in training": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        shape = (keras.ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep
'''),
        "original formulation: scaled by p at inference": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual * self.survival_probability
        shape = (keras.ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability
'''),
        "keeps with probability 1 - p": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        shape = (keras.ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        keep = keras.ops.cast(draw >= self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability
'''),
        "fixed integer seed: the same mask on every call": _sd('''
    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        shape = (keras.ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(shape, seed=1234)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability
'''),
        "get_config without super(): the base config (name) is lost": '''
class StochasticDepth(keras.layers.Layer):
    def __init__(self, survival_probability=0.8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = survival_probability
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        shape = (keras.ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        keep = keras.ops.cast(draw < self.survival_probability, residual.dtype)
        return shortcut + residual * keep / self.survival_probability

    def get_config(self):
        return {"survival_probability": self.survival_probability, "seed": self.seed}
''',
    },
}

ALTERNATIVES = {
    "loops, math and keras.random.binomial": {
        "smooth_labels": '''
import math

def smooth_labels(y_onehot, smoothing):
    if math.isnan(smoothing) or smoothing < 0 or smoothing > 1:
        raise ValueError("smoothing must lie in [0, 1]")
    y = np.array(y_onehot, dtype=float)  # a copy
    k = y.shape[-1]
    flat = y.reshape(-1)
    for i in range(flat.size):
        flat[i] = flat[i] * (1 - smoothing) + smoothing / k
    return flat.reshape(y.shape)
''',
        "smoothed_categorical_crossentropy": '''
import math

def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    targets = smooth_labels(y_onehot, smoothing)
    total = 0.0
    for t_row, p_row in zip(targets, np.asarray(probs, dtype=float)):
        for t, p in zip(t_row, p_row):
            total -= t * math.log(min(max(p, 1e-7), 1 - 1e-7))
    return total / len(targets)
''',
        "expected_calibration_error": '''
def expected_calibration_error(probs, labels, n_bins=10):
    bins = {}
    rows = np.asarray(probs, dtype=float)
    for row, label in zip(rows, labels):
        top = int(np.argmax(row))
        conf = float(row[top])
        b = 0
        while conf > (b + 1) / n_bins and b < n_bins - 1:
            b += 1
        count, hits, total = bins.get(b, (0, 0, 0.0))
        bins[b] = (count + 1, hits + int(top == int(label)), total + conf)
    n = len(rows)
    return sum(c / n * abs(h / c - t / c) for c, h, t in bins.values())
''',
        "StochasticDepth": '''
class StochasticDepth(keras.layers.Layer):
    def __init__(self, survival_probability=0.8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = float(survival_probability)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed=seed)

    def call(self, inputs, training=None):
        shortcut, residual = inputs[0], inputs[1]
        if training:
            batch = keras.ops.shape(residual)[0]
            b = keras.random.binomial((batch,), counts=1, probabilities=self.survival_probability,
                                      seed=self.generator)
            b = keras.ops.reshape(keras.ops.cast(b, residual.dtype),
                                  (batch,) + (1,) * (len(residual.shape) - 1))
            residual = residual * (b / self.survival_probability)
        return keras.ops.add(shortcut, residual)

    def get_config(self):
        return {**super().get_config(), "survival_probability": self.survival_probability,
                "seed": self.seed}
''',
    },
    "vectorized, keras.ops, other draw order, with a warning": {
        "smooth_labels": '''
import warnings

def smooth_labels(y_onehot, smoothing):
    if not (smoothing >= 0 and smoothing <= 1):
        raise ValueError(f"bad smoothing {smoothing}")
    warnings.warn("smoothing labels", UserWarning)
    y = np.asarray(y_onehot, dtype=np.float64)
    return np.full_like(y, smoothing / y.shape[-1]) + (1 - smoothing) * y
''',
        "smoothed_categorical_crossentropy": '''
def smoothed_categorical_crossentropy(y_onehot, probs, smoothing):
    t = keras.ops.convert_to_tensor(smooth_labels(y_onehot, smoothing), dtype="float64")
    p = keras.ops.clip(keras.ops.convert_to_tensor(np.asarray(probs, dtype="float64")),
                       1e-7, 1 - 1e-7)
    return float(keras.ops.mean(-keras.ops.sum(t * keras.ops.log(p), axis=-1)))
''',
        "expected_calibration_error": '''
def expected_calibration_error(probs, labels, n_bins=10):
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    edges = np.arange(n_bins + 1) / n_bins
    idx = np.searchsorted(edges, conf, side="left") - 1  # (edge_b, edge_b+1] -> b
    idx = np.clip(idx, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    acc = np.bincount(idx, weights=correct, minlength=n_bins)
    tot = np.bincount(idx, weights=conf, minlength=n_bins)
    nz = counts > 0
    return float(np.sum(np.abs(acc[nz] - tot[nz])) / len(conf))
''',
        "StochasticDepth": '''
class StochasticDepth(keras.layers.Layer):
    def __init__(self, survival_probability=0.8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = survival_probability
        self.seed = seed
        self.rng = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + residual
        shape = [keras.ops.shape(residual)[0]] + [1] * (len(residual.shape) - 1)
        u = keras.random.uniform(shape, seed=self.rng)
        scale = keras.ops.where(u > 1 - self.survival_probability,
                                1 / self.survival_probability, 0.0)
        return shortcut + residual * keras.ops.cast(scale, residual.dtype)

    def get_config(self):
        config = super().get_config()
        config["survival_probability"] = self.survival_probability
        config["seed"] = self.seed
        return config
''',
    },
}
