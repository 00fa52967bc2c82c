"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 02_weight_penalties. Each is appended to the cell that defines the function."""

MUTANTS = {
    "l1_penalty": {
        "only the first array summed": '''
def l1_penalty(weights, l1):
    return float(l1 * np.sum(np.abs(weights[0])))
''',
        "missing absolute value": '''
def l1_penalty(weights, l1):
    return float(l1 * sum(np.sum(w) for w in weights))
''',
        "squares instead of absolute values": '''
def l1_penalty(weights, l1):
    return float(l1 * sum(np.sum(np.square(w)) for w in weights))
''',
        "mean instead of sum": '''
def l1_penalty(weights, l1):
    return float(l1 * sum(np.mean(np.abs(w)) for w in weights))
''',
        "calls keras.regularizers.L1": '''
def l1_penalty(weights, l1):
    return float(sum(float(keras.regularizers.L1(l1)(w)) for w in weights))
''',
    },
    "l2_penalty": {
        "the ½ convention": '''
def l2_penalty(weights, l2):
    return float(0.5 * l2 * sum(np.sum(np.square(w)) for w in weights))
''',
        "missing square": '''
def l2_penalty(weights, l2):
    return float(l2 * sum(np.sum(np.abs(w)) for w in weights))
''',
        "only the first array summed": '''
def l2_penalty(weights, l2):
    return float(l2 * np.sum(np.square(weights[0])))
''',
        "norm instead of squared norm": '''
def l2_penalty(weights, l2):
    return float(l2 * np.sqrt(sum(np.sum(np.square(w)) for w in weights)))
''',
    },
    "l2_penalty_gradient": {
        "the ½ convention (l2·w)": '''
def l2_penalty_gradient(weights, l2):
    return [l2 * np.asarray(w, dtype=float) for w in weights]
''',
        "l2 forgotten (2·w)": '''
def l2_penalty_gradient(weights, l2):
    return [2.0 * np.asarray(w, dtype=float) for w in weights]
''',
        "one flat array for everything": '''
def l2_penalty_gradient(weights, l2):
    return 2.0 * l2 * np.concatenate([np.ravel(w) for w in weights])
''',
        "scales the inputs in place": '''
def l2_penalty_gradient(weights, l2):
    for w in weights:
        w *= 2.0 * l2
    return list(weights)
''',
        "sign of the weights (the L1 gradient)": '''
def l2_penalty_gradient(weights, l2):
    return [2.0 * l2 * np.sign(w) for w in weights]
''',
    },
    "sgd_step": {
        "updates w in place": '''
def sgd_step(w, grad, learning_rate, l2):
    w -= learning_rate * (grad + 2.0 * l2 * w)
    return w
''',
        "the ½ convention": '''
def sgd_step(w, grad, learning_rate, l2):
    return w - learning_rate * (grad + l2 * w)
''',
        "penalty ignored": '''
def sgd_step(w, grad, learning_rate, l2):
    return w - learning_rate * grad
''',
        "sign error (ascends)": '''
def sgd_step(w, grad, learning_rate, l2):
    return w + learning_rate * (grad + 2.0 * l2 * w)
''',
        "decay not scaled by the learning rate": '''
def sgd_step(w, grad, learning_rate, l2):
    return (1 - 2.0 * l2) * w - learning_rate * grad
''',
    },
    "ElasticNet": {
        "l1 and l2 swapped": '''
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2
    def __call__(self, x):
        return self.l2 * keras.ops.sum(keras.ops.abs(x)) + self.l1 * keras.ops.sum(keras.ops.square(x))
    def get_config(self):
        return {"l1": self.l2, "l2": self.l1}
''',
        "the ½ convention in the L2 part": '''
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2
    def __call__(self, x):
        return self.l1 * keras.ops.sum(keras.ops.abs(x)) + 0.5 * self.l2 * keras.ops.sum(keras.ops.square(x))
    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}
''',
        "no get_config": '''
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2
    def __call__(self, x):
        return self.l1 * keras.ops.sum(keras.ops.abs(x)) + self.l2 * keras.ops.sum(keras.ops.square(x))
''',
        "NumPy instead of keras.ops (breaks inside fit)": '''
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2
    def __call__(self, x):
        x = np.asarray(x)
        return self.l1 * np.sum(np.abs(x)) + self.l2 * np.sum(np.square(x))
    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}
''',
        "mean instead of sum": '''
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2
    def __call__(self, x):
        return self.l1 * keras.ops.mean(keras.ops.abs(x)) + self.l2 * keras.ops.mean(keras.ops.square(x))
    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}
''',
        "subclasses L1L2": '''
class ElasticNet(keras.regularizers.L1L2):
    def __init__(self, l1=0.0, l2=0.0):
        super().__init__(l1=l1, l2=l2)
''',
    },
    "sparsity": {
        "<= instead of <": '''
def sparsity(weights, threshold=1e-3):
    small = sum(int(np.sum(np.abs(w) <= threshold)) for w in weights)
    return small / sum(np.size(w) for w in weights)
''',
        "no absolute value": '''
def sparsity(weights, threshold=1e-3):
    small = sum(int(np.sum(np.asarray(w) < threshold)) for w in weights)
    return small / sum(np.size(w) for w in weights)
''',
        "mean of per-array fractions": '''
def sparsity(weights, threshold=1e-3):
    return float(np.mean([np.mean(np.abs(w) < threshold) for w in weights]))
''',
        "only the first array": '''
def sparsity(weights, threshold=1e-3):
    return float(np.mean(np.abs(weights[0]) < threshold))
''',
        "a count instead of a fraction": '''
def sparsity(weights, threshold=1e-3):
    return float(sum(int(np.sum(np.abs(w) < threshold)) for w in weights))
''',
    },
}

ALTERNATIVES = {
    "plain Python loops": {
        "l1_penalty": '''
def l1_penalty(weights, l1):
    total = 0.0
    for w in weights:
        for value in np.asarray(w, dtype=float).ravel().tolist():
            total += abs(value)
    return l1 * total
''',
        "l2_penalty": '''
def l2_penalty(weights, l2):
    total = 0.0
    for w in weights:
        for value in np.asarray(w, dtype=float).flat:
            total += float(value) * float(value)
    return l2 * total
''',
        "l2_penalty_gradient": '''
def l2_penalty_gradient(weights, l2):
    grads = []
    for w in weights:
        g = np.empty(np.shape(w))
        for index, value in np.ndenumerate(np.asarray(w, dtype=float)):
            g[index] = 2 * l2 * value
        grads.append(g)
    return grads
''',
        "sgd_step": '''
def sgd_step(w, grad, learning_rate, l2):
    new = np.array(w, dtype=float, copy=True)
    new *= 1.0 - 2.0 * learning_rate * l2
    new -= learning_rate * np.asarray(grad, dtype=float)
    return new
''',
        "ElasticNet": '''
class ElasticNet(keras.regularizers.Regularizer):
    """Elastic net."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = l1
        self.l2 = l2

    def __call__(self, x):
        penalty = keras.ops.zeros((), dtype=x.dtype)
        if self.l1:
            penalty = penalty + keras.ops.cast(self.l1, x.dtype) * keras.ops.sum(keras.ops.abs(x))
        if self.l2:
            penalty = penalty + keras.ops.cast(self.l2, x.dtype) * keras.ops.sum(x * x)
        return penalty

    def get_config(self):
        return dict(l1=float(self.l1), l2=float(self.l2))
''',
        "sparsity": '''
def sparsity(weights, threshold=1e-3):
    small = total = 0
    for w in weights:
        for value in np.asarray(w).ravel():
            total += 1
            if -threshold < value < threshold:
                small += 1
    return small / total
''',
    },
    "keras.ops and tensors, with a warning": {
        "l1_penalty": '''
import warnings

def l1_penalty(weights, l1):
    warnings.warn("computing with keras.ops", UserWarning)
    parts = [keras.ops.sum(keras.ops.abs(keras.ops.convert_to_tensor(w, dtype="float64")))
             for w in weights]
    return float(l1 * keras.ops.sum(keras.ops.stack(parts)))
''',
        "l2_penalty": '''
def l2_penalty(weights, l2):
    flat = keras.ops.concatenate([keras.ops.reshape(keras.ops.convert_to_tensor(w, dtype="float64"), (-1,))
                                  for w in weights])
    return l2 * keras.ops.convert_to_numpy(keras.ops.dot(flat, flat))
''',
        "l2_penalty_gradient": '''
def l2_penalty_gradient(weights, l2):
    variables = [tf.Variable(np.asarray(w, dtype="float64")) for w in weights]
    with tf.GradientTape() as tape:
        loss = l2 * tf.add_n([tf.reduce_sum(tf.square(v)) for v in variables])
    return [g.numpy() for g in tape.gradient(loss, variables)]
''',
        "sgd_step": '''
import warnings

def sgd_step(w, grad, learning_rate, l2):
    warnings.warn("one SGD step", RuntimeWarning)
    w = keras.ops.convert_to_tensor(w, dtype="float64")
    g = keras.ops.convert_to_tensor(grad, dtype="float64")
    return keras.ops.convert_to_numpy(w - learning_rate * (g + 2 * l2 * w))
''',
        "ElasticNet": '''
@keras.saving.register_keras_serializable(package="students")
class ElasticNet(keras.regularizers.Regularizer):
    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x):
        x = keras.ops.convert_to_tensor(x)
        flat = keras.ops.reshape(x, (-1,))
        return self.l1 * keras.ops.norm(flat, ord=1) + self.l2 * keras.ops.sum(flat ** 2)

    def get_config(self):
        config = {}
        config["l1"] = self.l1
        config["l2"] = self.l2
        return config
''',
        "sparsity": '''
def sparsity(weights, threshold=1e-3):
    flat = np.concatenate([np.ravel(w) for w in weights])
    return float(np.count_nonzero(np.abs(flat) < threshold) / flat.size)
''',
    },
}
