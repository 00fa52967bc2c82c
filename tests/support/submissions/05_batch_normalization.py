"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 05_batch_normalization. Each is appended to the cell that defines the function."""

MUTANTS = {
    "batchnorm_forward": {
        "unbiased batch variance (ddof=1)": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var, new_mean, new_var = moving_mean, moving_var, moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''',
        "momentum applied the other way round": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = moving_mean * (1 - momentum) + mean * momentum
        new_var = moving_var * (1 - momentum) + var * momentum
    else:
        mean, var, new_mean, new_var = moving_mean, moving_var, moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''',
        "batch statistics at inference": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    mean, var = x.mean(axis=0), x.var(axis=0)
    if training:
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        new_mean, new_var = moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''',
        "moving statistics updated at inference": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    mean, var = x.mean(axis=0), x.var(axis=0)
    new_mean = moving_mean * momentum + mean * (1 - momentum)
    new_var = moving_var * momentum + var * (1 - momentum)
    if not training:
        mean, var = moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''',
        "epsilon outside the square root": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var, new_mean, new_var = moving_mean, moving_var, moving_mean, moving_var
    return gamma * (x - mean) / (np.sqrt(var) + epsilon) + beta, new_mean, new_var
''',
        "moving statistics updated in place": '''
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    x = np.asarray(x, dtype=float)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        moving_mean *= momentum
        moving_mean += mean * (1 - momentum)
        moving_var *= momentum
        moving_var += var * (1 - momentum)
        return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, moving_mean, moving_var
    out = gamma * (x - moving_mean) / np.sqrt(moving_var + epsilon) + beta
    return out, moving_mean, moving_var
''',
    },
    "batchnorm_backward": {
        "dgamma missing the normalized input": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    n = x.shape[0]
    inv = 1 / np.sqrt(x.var(axis=0) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    dxh = dout * gamma
    dx = inv / n * (n * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))
    return dx, dout.sum(axis=0), dout.sum(axis=0)
''',
        "epsilon outside the square root": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    n = x.shape[0]
    inv = 1 / (np.sqrt(x.var(axis=0)) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    dxh = dout * gamma
    dx = inv / n * (n * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))
    return dx, (dout * xh).sum(axis=0), dout.sum(axis=0)
''',
        "dx ignores that the batch statistics depend on x": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    inv = 1 / np.sqrt(x.var(axis=0) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    return dout * gamma * inv, (dout * xh).sum(axis=0), dout.sum(axis=0)
''',
        "dx misses the variance term": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    inv = 1 / np.sqrt(x.var(axis=0) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    dxh = dout * gamma
    dx = inv * (dxh - dxh.mean(axis=0))
    return dx, (dout * xh).sum(axis=0), dout.sum(axis=0)
''',
        "unbiased variance": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    n = x.shape[0]
    inv = 1 / np.sqrt(x.var(axis=0, ddof=1) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    dxh = dout * gamma
    dx = inv / n * (n * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))
    return dx, (dout * xh).sum(axis=0), dout.sum(axis=0)
''',
        "dbeta and dgamma averaged instead of summed": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    n = x.shape[0]
    inv = 1 / np.sqrt(x.var(axis=0) + epsilon)
    xh = (x - x.mean(axis=0)) * inv
    dxh = dout * gamma
    dx = inv / n * (n * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))
    return dx, (dout * xh).mean(axis=0), dout.mean(axis=0)
''',
    },
    "freeze_batchnorm": {
        "top-level layers only": '''
def freeze_batchnorm(model):
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
            count += 1
    return count
''',
        "freezes the whole model": '''
def freeze_batchnorm(model):
    def walk(m):
        n = 0
        for layer in m.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                n += 1
            elif isinstance(layer, keras.Model):
                n += walk(layer)
        return n
    model.trainable = False
    return walk(model)
''',
        "recognizes BN layers by name": '''
def freeze_batchnorm(model):
    count = 0
    for layer in model.layers:
        if "batch_normalization" in layer.name:
            layer.trainable = False
            count += 1
        elif isinstance(layer, keras.Model):
            count += freeze_batchnorm(layer)
    return count
''',
        "momentum 1 instead of trainable=False": '''
def freeze_batchnorm(model):
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 1.0
            count += 1
        elif isinstance(layer, keras.Model):
            count += freeze_batchnorm(layer)
    return count
''',
        "returns the number of layers visited": '''
def freeze_batchnorm(model):
    count = 0
    for layer in model.layers:
        count += 1
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif isinstance(layer, keras.Model):
            count += freeze_batchnorm(layer)
    return count
''',
    },
}

ALTERNATIVES = {
    "loops, a staged backward pass and an explicit stack": {
        "batchnorm_forward": '''
import math

def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    rows = [[float(v) for v in row] for row in np.asarray(x)]
    n, d = len(rows), len(rows[0])
    out = [[0.0] * d for _ in range(n)]
    new_mean, new_var = [], []
    for j in range(d):
        column = [row[j] for row in rows]
        if training:
            mu = sum(column) / n
            var = sum((v - mu) ** 2 for v in column) / n
            new_mean.append(float(moving_mean[j]) * momentum + mu * (1 - momentum))
            new_var.append(float(moving_var[j]) * momentum + var * (1 - momentum))
        else:
            mu, var = float(moving_mean[j]), float(moving_var[j])
            new_mean.append(mu)
            new_var.append(var)
        scale = float(gamma[j]) / math.sqrt(var + epsilon)
        for i in range(n):
            out[i][j] = (column[i] - mu) * scale + float(beta[j])
    return np.array(out), np.array(new_mean), np.array(new_var)
''',
        "batchnorm_backward": '''
def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    # the computational graph, one node at a time, backwards
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    xc = x - mu
    var = (xc ** 2).sum(axis=0) / n
    std = np.sqrt(var + epsilon)
    istd = 1.0 / std
    xh = xc * istd
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xh).sum(axis=0)
    dxh = dout * gamma
    dxc = dxh * istd
    distd = (dxh * xc).sum(axis=0)
    dstd = -distd / std ** 2
    dvar = dstd * 0.5 / std
    dxc = dxc + 2.0 * xc * dvar / n
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / n
    return dx, dgamma, dbeta
''',
        "freeze_batchnorm": '''
def freeze_batchnorm(model):
    stack, frozen = list(model.layers), 0
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            if layer.trainable:
                layer.trainable = False
            frozen += 1
        elif hasattr(layer, "layers"):
            stack.extend(layer.layers)
    return frozen
''',
    },
    "keras.ops in float32, GradientTape, with a warning": {
        "batchnorm_forward": '''
import warnings

def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
                      epsilon=1e-3):
    warnings.warn("computing in float32 with keras.ops", UserWarning)
    ops = keras.ops
    xt = ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    mm = ops.convert_to_tensor(np.asarray(moving_mean, dtype="float32"))
    mv = ops.convert_to_tensor(np.asarray(moving_var, dtype="float32"))
    if training:
        mean, var = ops.moments(xt, axes=[0])
        new_mean = ops.convert_to_numpy(mm * momentum + mean * (1.0 - momentum))
        new_var = ops.convert_to_numpy(mv * momentum + var * (1.0 - momentum))
    else:
        mean, var = mm, mv
        new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    out = ops.batch_normalization(xt, mean, var, axis=-1,
                                  offset=np.asarray(beta, dtype="float32"),
                                  scale=np.asarray(gamma, dtype="float32"), epsilon=epsilon)
    return ops.convert_to_numpy(out), new_mean, new_var
''',
        "batchnorm_backward": '''
import warnings

def batchnorm_backward(dout, x, gamma, epsilon=1e-3):
    warnings.warn("gradients from tf.GradientTape", UserWarning)
    xv = tf.Variable(np.asarray(x, dtype="float64"))
    gv = tf.Variable(np.asarray(gamma, dtype="float64"))
    bv = tf.Variable(np.zeros(np.shape(gamma)))
    with tf.GradientTape() as tape:
        mean, var = tf.nn.moments(xv, axes=[0])
        out = tf.nn.batch_normalization(xv, mean, var, bv, gv, epsilon)
        loss = tf.reduce_sum(out * np.asarray(dout, dtype="float64"))
    dx, dg, db = tape.gradient(loss, [xv, gv, bv])
    return dx.numpy(), dg.numpy(), db.numpy()
''',
        "freeze_batchnorm": '''
def freeze_batchnorm(model):
    bns = [l for l in model._flatten_layers(include_self=False)
           if isinstance(l, keras.layers.BatchNormalization)]
    for layer in bns:
        layer.trainable = False
    return len(bns)
''',
    },
}
