"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 01_bias_variance. Each is appended to the cell that defines the function."""

MUTANTS = {
    "bias_variance_decomposition": {
        "sample variance (ddof=1)": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    if predictions.ndim != 2 or y_true.shape != (predictions.shape[1],):
        raise ValueError("shapes")
    bias2 = np.mean((predictions.mean(axis=0) - y_true) ** 2)
    return float(bias2), float(np.mean(predictions.var(axis=0, ddof=1)))
''',
        "bias not squared": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    if predictions.ndim != 2 or y_true.shape != (predictions.shape[1],):
        raise ValueError("shapes")
    bias = np.mean(np.abs(predictions.mean(axis=0) - y_true))
    return float(bias), float(np.mean(predictions.var(axis=0)))
''',
        "swapped return order": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    if predictions.ndim != 2 or y_true.shape != (predictions.shape[1],):
        raise ValueError("shapes")
    bias2 = np.mean((predictions.mean(axis=0) - y_true) ** 2)
    return float(np.mean(predictions.var(axis=0))), float(bias2)
''',
        "mean squared error instead of bias² (error of each model)": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    if predictions.ndim != 2 or y_true.shape != (predictions.shape[1],):
        raise ValueError("shapes")
    return float(np.mean((predictions - y_true) ** 2)), float(np.mean(predictions.var(axis=0)))
''',
        "no shape check": '''
def bias_variance_decomposition(predictions, y_true):
    predictions, y_true = np.asarray(predictions), np.asarray(y_true)
    bias2 = np.mean((predictions.mean(axis=0) - y_true) ** 2)
    return float(bias2), float(np.mean(predictions.var(axis=0)))
''',
    },
    "diagnose": {
        ">= instead of >": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    for v in (train_error, val_error, baseline_error, tolerance):
        if not np.isfinite(v) or v < 0:
            raise ValueError("bad input")
    b = train_error - baseline_error >= tolerance
    v = val_error - train_error >= tolerance
    return {(True, True): "high bias and high variance", (True, False): "high bias",
            (False, True): "high variance", (False, False): "good fit"}[(b, v)]
''',
        "variance gap measured from the baseline": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    for v in (train_error, val_error, baseline_error, tolerance):
        if not np.isfinite(v) or v < 0:
            raise ValueError("bad input")
    b = train_error - baseline_error > tolerance
    v = val_error - baseline_error > tolerance
    return {(True, True): "high bias and high variance", (True, False): "high bias",
            (False, True): "high variance", (False, False): "good fit"}[(b, v)]
''',
        "labels swapped": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    for v in (train_error, val_error, baseline_error, tolerance):
        if not np.isfinite(v) or v < 0:
            raise ValueError("bad input")
    b = train_error - baseline_error > tolerance
    v = val_error - train_error > tolerance
    return {(True, True): "high bias and high variance", (True, False): "high variance",
            (False, True): "high bias", (False, False): "good fit"}[(b, v)]
''',
        "NaN not rejected": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    for v in (train_error, val_error, baseline_error, tolerance):
        if v < 0:
            raise ValueError("bad input")
    b = train_error - baseline_error > tolerance
    v = val_error - train_error > tolerance
    return {(True, True): "high bias and high variance", (True, False): "high bias",
            (False, True): "high variance", (False, False): "good fit"}[(b, v)]
''',
    },
    "best_polynomial_degree": {
        "chosen on training error": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    tr, va = [], []
    for d in degrees:
        c = np.polyfit(x_train, y_train, d)
        tr.append(float(np.mean((np.polyval(c, x_train) - y_train) ** 2)))
        va.append(float(np.mean((np.polyval(c, x_val) - y_val) ** 2)))
    return int(degrees[int(np.argmin(tr))]), tr, va
''',
        "refit on the validation set": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    tr, va = [], []
    for d in degrees:
        c = np.polyfit(x_train, y_train, d)
        tr.append(float(np.mean((np.polyval(c, x_train) - y_train) ** 2)))
        cv = np.polyfit(x_val, y_val, d)
        va.append(float(np.mean((np.polyval(cv, x_val) - y_val) ** 2)))
    return int(degrees[int(np.argmin(va))]), tr, va
''',
        "first degree in list order on ties": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    tr, va = [], []
    for d in degrees:
        c = np.polyfit(x_train, y_train, d)
        tr.append(float(np.mean((np.polyval(c, x_train) - y_train) ** 2)))
        va.append(float(np.mean((np.polyval(c, x_val) - y_val) ** 2)))
    return int(degrees[int(np.argmin(va))]), tr, va
''',
        "sum of squared errors instead of mean": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    tr, va = [], []
    for d in degrees:
        c = np.polyfit(x_train, y_train, d)
        tr.append(float(np.sum((np.polyval(c, x_train) - y_train) ** 2)))
        va.append(float(np.sum((np.polyval(c, x_val) - y_val) ** 2)))
    best = min(d for d, v in zip(degrees, va) if v == min(va))
    return int(best), tr, va
''',
    },
}

ALTERNATIVES = {
    "loops and the statistics module": {
        "bias_variance_decomposition": '''
import statistics

def bias_variance_decomposition(predictions, y_true):
    if np.ndim(predictions) != 2 or np.shape(y_true) != (np.shape(predictions)[1],):
        raise ValueError("predictions must be 2-D with one column per target")
    rows = [list(map(float, row)) for row in np.asarray(predictions)]
    bias2 = var = 0.0
    for j, target in enumerate(y_true):
        column = [row[j] for row in rows]
        bias2 += (statistics.fmean(column) - target) ** 2
        var += statistics.pvariance(column)
    return bias2 / len(y_true), var / len(y_true)
''',
        "diagnose": '''
import math

def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    for x in (train_error, val_error, baseline_error, tolerance):
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"invalid input {x}")
    problems = []
    if train_error - baseline_error > tolerance:
        problems.append("high bias")
    if val_error - train_error > tolerance:
        problems.append("high variance")
    return " and ".join(problems) or "good fit"
''',
        "best_polynomial_degree": '''
def best_polynomial_degree(x_train, y_train, x_val, y_val, degrees):
    results = []
    for degree in degrees:
        A = np.vander(np.asarray(x_train, float), degree + 1)
        coef, *_ = np.linalg.lstsq(A, y_train, rcond=None)
        train = float(np.mean((A @ coef - y_train) ** 2))
        val = float(np.mean((np.vander(np.asarray(x_val, float), degree + 1) @ coef - y_val) ** 2))
        results.append((degree, train, val))
    best = sorted(results, key=lambda r: (r[2], r[0]))[0][0]
    return best, [r[1] for r in results], [r[2] for r in results]
''',
    },
    "keras.ops, with a warning": {
        "bias_variance_decomposition": '''
import warnings
import keras

def bias_variance_decomposition(predictions, y_true):
    warnings.warn("computing with keras.ops", UserWarning)
    p = keras.ops.convert_to_tensor(np.asarray(predictions, dtype="float64"))
    y = keras.ops.convert_to_tensor(np.asarray(y_true, dtype="float64"))
    if len(p.shape) != 2 or tuple(y.shape) != (p.shape[1],):
        raise ValueError("shape mismatch")
    mean = keras.ops.mean(p, axis=0)
    bias2 = keras.ops.mean(keras.ops.square(mean - y))
    var = keras.ops.mean(keras.ops.var(p, axis=0))
    return float(bias2), float(var)
''',
        "diagnose": '''
def diagnose(train_error, val_error, baseline_error=0.0, tolerance=0.02):
    arr = np.array([train_error, val_error, baseline_error, tolerance], dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("inputs must be finite and non-negative")
    np.log(np.array(0.0))  # a RuntimeWarning (divide by zero) on every call
    labels = ["good fit", "high variance", "high bias", "high bias and high variance"]
    return labels[2 * int(arr[0] - arr[2] > arr[3]) + int(arr[1] - arr[0] > arr[3])]
''',
    },
}
