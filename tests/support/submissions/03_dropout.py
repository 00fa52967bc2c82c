"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 03_dropout. Each is appended to the cell that defines the function."""

MUTANTS = {
    "dropout_forward": {
        "no rescaling of the survivors": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) >= rate).astype(float)
    return x * mask, mask
''',
        "keep probability used as the drop rate": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) < rate) / (1 - rate)
    return x * mask, mask
''',
        "drops at inference too": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask
''',
        "modifies x in place": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    if not training or rate == 0:
        return x, np.ones_like(x)
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    x *= mask
    return x, mask
''',
        "boolean mask returned (scaling only in out)": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x.copy(), np.ones_like(x)
    keep = rng.random(x.shape) >= rate
    return x * keep / (1 - rate), keep.astype(float)
''',
        "scales at inference instead (old-style dropout)": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x * (1 - rate), np.full(x.shape, 1 - rate)
    mask = (rng.random(x.shape) >= rate).astype(float)
    return x * mask, mask
''',
        "global np.random instead of rng": '''
def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x.copy(), np.ones_like(x)
    mask = (np.random.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask
''',
        "rate only checked while training": '''
def dropout_forward(x, rate, training, rng):
    x = np.asarray(x, dtype=float)
    if not training or rate == 0:
        return x.copy(), np.ones_like(x)
    if not 0 <= rate < 1:
        raise ValueError("rate")
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask
''',
    },
    "dropout_backward": {
        "mask ignored (gradient passed through)": '''
def dropout_backward(dout, mask):
    return np.array(dout, dtype=float)
''',
        "mask without its scaling": '''
def dropout_backward(dout, mask):
    return np.asarray(dout) * (np.asarray(mask) != 0)
''',
        "modifies dout in place": '''
def dropout_backward(dout, mask):
    dout *= mask
    return dout
''',
        "fresh mask instead of the forward one": '''
def dropout_backward(dout, mask):
    dout = np.asarray(dout, dtype=float)
    rate = 1 - 1 / np.max(mask) if np.max(mask) > 1 else 0.0
    fresh = (np.random.default_rng().random(dout.shape) >= rate) / (1 - rate)
    return dout * fresh
''',
        "divides by the mask": '''
def dropout_backward(dout, mask):
    mask = np.asarray(mask, dtype=float)
    return np.where(mask != 0, np.asarray(dout) / np.where(mask != 0, mask, 1.0), 0.0)
''',
    },
    "InvertedDropout": {
        "no rescaling of the survivors": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs * keras.ops.cast(u >= self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "keep probability used as the drop rate": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs * keras.ops.cast(u < self.rate, inputs.dtype) / (1 - self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "drops at inference too": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs * keras.ops.cast(u >= self.rate, inputs.dtype) / (1 - self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "switched off by trainable=False": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or not self.trainable:
            return inputs
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs * keras.ops.cast(u >= self.rate, inputs.dtype) / (1 - self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "integer seed: the same mask at every call": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed or 0)
        return inputs * keras.ops.cast(u >= self.rate, inputs.dtype) / (1 - self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "wraps keras.random.dropout (forbidden)": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "wraps keras.layers.Dropout (forbidden)": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.inner = keras.layers.Dropout(rate, seed=seed)

    def call(self, inputs, training=None):
        return self.inner(inputs, training=training)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "NumPy draws: one mask frozen into the graph that model.fit compiles": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        keep = np.random.random(tuple(inputs.shape)) >= self.rate
        return inputs * (keep / (1 - self.rate)).astype("float32")

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "get_config that drops the parent's config (name lost)": '''
class InvertedDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("rate")
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        u = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        return inputs * keras.ops.cast(u >= self.rate, inputs.dtype) / (1 - self.rate)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed}
''',
    },
    "mc_dropout_predict": {
        "dropout off (training=False)": '''
def mc_dropout_predict(model, x, n_samples):
    p = np.stack([np.asarray(model(x, training=False)) for _ in range(n_samples)])
    return p.mean(axis=0), p.std(axis=0)
''',
        "variance instead of standard deviation": '''
def mc_dropout_predict(model, x, n_samples):
    p = np.stack([np.asarray(model(x, training=True)) for _ in range(n_samples)])
    return p.mean(axis=0), p.var(axis=0)
''',
        "sample standard deviation (ddof=1)": '''
def mc_dropout_predict(model, x, n_samples):
    p = np.stack([np.asarray(model(x, training=True)) for _ in range(n_samples)])
    return p.mean(axis=0), p.std(axis=0, ddof=1)
''',
        "one pass too few": '''
def mc_dropout_predict(model, x, n_samples):
    p = np.stack([np.asarray(model(x, training=True)) for _ in range(n_samples - 1)])
    return p.mean(axis=0), p.std(axis=0)
''',
        "mean and std swapped": '''
def mc_dropout_predict(model, x, n_samples):
    p = np.stack([np.asarray(model(x, training=True)) for _ in range(n_samples)])
    return p.std(axis=0), p.mean(axis=0)
''',
    },
}

ALTERNATIVES = {
    "a helper method of its own (self._apply_dropout), its SeedGenerator kept in a dict": {
        "InvertedDropout": '''
class InvertedDropout(keras.layers.Layer):
    """The mask is drawn by a helper method, with a generator the layer keeps in a dict."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}")
        self.rate, self.seed = float(rate), seed
        self._random = {"mask": keras.random.SeedGenerator(seed)}

    def _apply_dropout(self, inputs):
        noise = keras.random.uniform(keras.ops.shape(inputs), seed=self._random["mask"])
        return keras.ops.where(noise < self.rate, keras.ops.zeros_like(inputs),
                               inputs / (1.0 - self.rate))

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return self._apply_dropout(inputs)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
    },
    "binomial draws, np.where, keras.random.binomial, a running mean": {
        "dropout_forward": '''
def dropout_forward(x, rate, training, rng):
    if rate < 0 or rate >= 1:
        raise ValueError("rate must be in [0, 1)")
    x = np.array(x, dtype=np.float64)  # a copy
    if training and rate > 0:
        keep = rng.binomial(1, 1.0 - rate, size=x.shape)
        mask = np.where(keep == 1, 1.0 / (1.0 - rate), 0.0)
    else:
        mask = np.ones(x.shape)
    return x * mask, mask
''',
        "dropout_backward": '''
def dropout_backward(dout, mask):
    dout = np.asarray(dout, dtype=np.float64)
    return np.where(np.asarray(mask) == 0, 0.0, dout * np.asarray(mask))
''',
        "InvertedDropout": '''
class InvertedDropout(keras.layers.Layer):
    """Masks drawn with keras.random.binomial."""

    def __init__(self, rate, seed=None, **kwargs):
        if rate < 0 or rate >= 1:
            raise ValueError("rate must be in [0, 1)")
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed=seed)

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            keep = keras.random.binomial(keras.ops.shape(inputs), counts=1.0,
                                         probabilities=1.0 - self.rate, seed=self._generator,
                                         dtype=inputs.dtype)
            return keras.ops.where(keep > 0, inputs / (1.0 - self.rate),
                                   keras.ops.zeros_like(inputs))
        return inputs

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        config["seed"] = self.seed
        return config
''',
        "mc_dropout_predict": '''
def mc_dropout_predict(model, x, n_samples):
    total = total_sq = 0.0
    for _ in range(n_samples):
        y = keras.ops.convert_to_numpy(model(x, training=True)).astype(np.float64)
        total = total + y
        total_sq = total_sq + y * y
    mean = total / n_samples
    return mean, np.sqrt(np.maximum(total_sq / n_samples - mean * mean, 0.0))
''',
    },
    "other draw orders, loops, keras.ops, with warnings": {
        "dropout_forward": '''
import warnings

def dropout_forward(x, rate, training, rng):
    warnings.warn("dropout_forward: drawing column-major", UserWarning)
    if not (0.0 <= rate < 1.0):
        raise ValueError(f"bad rate {rate}")
    x = np.asarray(x)
    mask = np.ones(x.shape)
    if training and rate != 0:
        # uniforms drawn for the transposed shape, compared the other way round
        u = rng.uniform(size=x.shape[::-1]).T
        mask = (u < 1.0 - rate).astype(float) * (1.0 / (1.0 - rate))
    return x * mask, mask
''',
        "dropout_backward": '''
def dropout_backward(dout, mask):
    dout, mask = np.asarray(dout, dtype=float), np.asarray(mask, dtype=float)
    grad = np.empty_like(dout)
    for index in np.ndindex(dout.shape):
        grad[index] = dout[index] * mask[index]
    return grad
''',
        "InvertedDropout": '''
import warnings

class InvertedDropout(keras.layers.Layer):
    """Masks from uniforms drawn for the transposed shape, compared the other way round."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not (0.0 <= float(rate) < 1.0):
            raise ValueError(f"bad rate {rate}")
        self.rate, self.seed = float(rate), seed
        self.rng = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        warnings.warn("InvertedDropout is dropping", UserWarning)
        shape = keras.ops.shape(inputs)
        u = keras.random.uniform(tuple(reversed(shape)), seed=self.rng)
        u = keras.ops.transpose(u)
        keep = keras.ops.cast(u < 1.0 - self.rate, inputs.dtype)
        return keras.ops.multiply(inputs, keep) * (1.0 / (1.0 - self.rate))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
''',
        "mc_dropout_predict": '''
def mc_dropout_predict(model, x, n_samples):
    outs = keras.ops.stack([model(x, training=True) for _ in range(n_samples)], axis=0)
    mean = keras.ops.mean(outs, axis=0)
    std = keras.ops.sqrt(keras.ops.mean(keras.ops.square(outs - mean), axis=0))
    return keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(std)
''',
    },
}
