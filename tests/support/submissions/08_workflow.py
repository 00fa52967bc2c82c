"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 08_workflow. Each is appended to the cell that defines the function."""

MUTANTS = {
    "k_fold_indices": {
        "overlapping folds (each drawn independently)": '''
def k_fold_indices(n_samples, k, rng):
    if not 2 <= k <= n_samples:
        raise ValueError("k")
    pairs = []
    for _ in range(k):
        val = rng.choice(n_samples, size=n_samples // k, replace=False)
        pairs.append((np.setdiff1d(np.arange(n_samples), val), val))
    return pairs
''',
        "unshuffled folds": '''
def k_fold_indices(n_samples, k, rng):
    if not 2 <= k <= n_samples:
        raise ValueError("k")
    folds = np.array_split(np.arange(n_samples), k)
    return [(np.setdiff1d(np.arange(n_samples), f), f) for f in folds]
''',
        "remainder all in the last fold": '''
def k_fold_indices(n_samples, k, rng):
    if not 2 <= k <= n_samples:
        raise ValueError("k")
    order = rng.permutation(n_samples)
    size = n_samples // k
    folds = [order[i * size:(i + 1) * size] for i in range(k - 1)] + [order[(k - 1) * size:]]
    return [(np.setdiff1d(order, f), f) for f in folds]
''',
        "training set is every index": '''
def k_fold_indices(n_samples, k, rng):
    if not 2 <= k <= n_samples:
        raise ValueError("k")
    order = rng.permutation(n_samples)
    return [(order.copy(), f) for f in np.array_split(order, k)]
''',
        "shuffled with the global np.random": '''
def k_fold_indices(n_samples, k, rng):
    if not 2 <= k <= n_samples:
        raise ValueError("k")
    order = np.random.permutation(n_samples)
    return [(np.setdiff1d(order, f), f) for f in np.array_split(order, k)]
''',
        "no check of k": '''
def k_fold_indices(n_samples, k, rng):
    order = rng.permutation(n_samples)
    return [(np.setdiff1d(order, f), f) for f in np.array_split(order, max(k, 1))]
''',
    },
    "log_uniform": {
        "uniform instead of log-uniform": '''
def log_uniform(rng, low, high, size):
    if not 0 < low < high:
        raise ValueError("bounds")
    return rng.uniform(low, high, size=size)
''',
        "10 ** of a natural-log range": '''
def log_uniform(rng, low, high, size):
    if not 0 < low < high:
        raise ValueError("bounds")
    return 10 ** rng.uniform(np.log(low), np.log(high), size=size)
''',
        "returns the logarithms": '''
def log_uniform(rng, low, high, size):
    if not 0 < low < high:
        raise ValueError("bounds")
    return rng.uniform(np.log10(low), np.log10(high), size=size)
''',
        "global np.random instead of rng": '''
def log_uniform(rng, low, high, size):
    if not 0 < low < high:
        raise ValueError("bounds")
    return np.exp(np.random.uniform(np.log(low), np.log(high), size=size))
''',
        "no check of the bounds": '''
def log_uniform(rng, low, high, size):
    with np.errstate(all="ignore"):
        return np.exp(rng.uniform(np.log(abs(low) + 1e-300), np.log(high), size=size))
''',
    },
    "one_knob_configs": {
        "baseline mutated": '''
def one_knob_configs(baseline, knob, values):
    if knob not in baseline:
        raise ValueError("knob")
    out = []
    for v in values:
        baseline[knob] = v
        out.append(dict(baseline))
    return out
''',
        "the same dict appended for every value": '''
def one_knob_configs(baseline, knob, values):
    if knob not in baseline:
        raise ValueError("knob")
    config = dict(baseline)
    out = []
    for v in values:
        config[knob] = v
        out.append(config)
    return out
''',
        "unknown knob silently added": '''
def one_knob_configs(baseline, knob, values):
    return [{**baseline, knob: v} for v in values]
''',
        "values sorted": '''
def one_knob_configs(baseline, knob, values):
    if knob not in baseline:
        raise ValueError("knob")
    return [{**baseline, knob: v} for v in sorted(values, key=repr)]
''',
        "baseline included first": '''
def one_knob_configs(baseline, knob, values):
    if knob not in baseline:
        raise ValueError("knob")
    return [dict(baseline)] + [{**baseline, knob: v} for v in values]
''',
    },
    "summarize_seeds": {
        "sample std (ddof=1)": '''
def summarize_seeds(scores):
    return {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1
                else 0.0, "n": len(v)} for k, v in scores.items()}
''',
        "variance instead of std": '''
def summarize_seeds(scores):
    return {k: {"mean": float(np.mean(v)), "std": float(np.var(v)), "n": len(v)}
            for k, v in scores.items()}
''',
        "mean and std swapped": '''
def summarize_seeds(scores):
    return {k: {"mean": float(np.std(v)), "std": float(np.mean(v)), "n": len(v)}
            for k, v in scores.items()}
''',
        "n counts the configurations": '''
def summarize_seeds(scores):
    return {k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(scores)}
            for k, v in scores.items()}
''',
    },
    "select_config": {
        "ties go to the larger std": '''
def select_config(summary):
    best = max(e["mean"] for e in summary.values())
    tied = [n for n, e in summary.items() if e["mean"] >= best - 1e-12]
    return min(tied, key=lambda n: (-summary[n]["std"], n))
''',
        "ties go to the first name in dict order": '''
def select_config(summary):
    best = max(e["mean"] for e in summary.values())
    return next(n for n, e in summary.items() if e["mean"] >= best - 1e-12)
''',
        "exact comparison of means": '''
def select_config(summary):
    best = max(e["mean"] for e in summary.values())
    tied = [n for n, e in summary.items() if e["mean"] == best]
    return min(tied, key=lambda n: (summary[n]["std"], n))
''',
        "lowest mean": '''
def select_config(summary):
    best = min(e["mean"] for e in summary.values())
    tied = [n for n, e in summary.items() if e["mean"] <= best + 1e-12]
    return min(tied, key=lambda n: (summary[n]["std"], n))
''',
        "ties go to the name that sorts last": '''
def select_config(summary):
    best = max(e["mean"] for e in summary.values())
    tied = [n for n, e in summary.items() if e["mean"] >= best - 1e-12]
    low = min(summary[n]["std"] for n in tied)
    return max(n for n in tied if summary[n]["std"] == low)
''',
    },
}

ALTERNATIVES = {
    "loops and the statistics module": {
        "k_fold_indices": '''
def k_fold_indices(n_samples, k, rng):
    if k < 2 or k > n_samples:
        raise ValueError(f"k={k} must be between 2 and n_samples={n_samples}")
    order = list(range(n_samples))
    rng.shuffle(order)
    pairs = []
    for i in range(k):
        val = order[i::k]  # strided folds: sizes differ by at most one
        val_set = set(val)
        train = [j for j in range(n_samples) if j not in val_set]
        pairs.append((np.array(train, dtype=int), np.array(val, dtype=int)))
    return pairs
''',
        "log_uniform": '''
import math

def log_uniform(rng, low, high, size):
    if not (low > 0 and high > low):
        raise ValueError("need 0 < low < high")
    u = rng.random(size)
    return np.exp(math.log(low) + u * (math.log(high) - math.log(low)))
''',
        "one_knob_configs": '''
import copy

def one_knob_configs(baseline, knob, values):
    if knob not in baseline.keys():
        raise ValueError(f"unknown knob {knob}")
    result = []
    for v in values:
        c = copy.deepcopy(baseline)
        c[knob] = v
        result.append(c)
    return result
''',
        "summarize_seeds": '''
import statistics

def summarize_seeds(scores):
    out = {}
    for name in scores:
        vals = [float(v) for v in scores[name]]
        out[name] = {"mean": statistics.fmean(vals), "std": statistics.pstdev(vals),
                     "n": len(vals)}
    return out
''',
        "select_config": '''
def select_config(summary):
    top = max(entry["mean"] for entry in summary.values())
    best = None
    for name in sorted(summary):
        entry = summary[name]
        if entry["mean"] < top - 1e-12:
            continue
        if best is None or entry["std"] < summary[best]["std"]:
            best = name
    return best
''',
    },
    "keras.ops and other draws, with a warning": {
        "k_fold_indices": '''
import warnings

def k_fold_indices(n_samples, k, rng):
    warnings.warn("building folds", UserWarning)
    if not isinstance(k, (int, np.integer)) or not 2 <= k <= n_samples:
        raise ValueError("bad k")
    keys = rng.random(n_samples)
    order = np.argsort(keys, kind="stable")
    sizes = [n_samples // k + (1 if i < n_samples % k else 0) for i in range(k)][::-1]
    bounds = np.cumsum([0] + sizes)
    out = []
    for i in range(k):
        mask = np.zeros(n_samples, dtype=bool)
        mask[order[bounds[i]:bounds[i + 1]]] = True
        out.append((np.flatnonzero(~mask), np.flatnonzero(mask)))
    return out
''',
        "log_uniform": '''
import keras

def log_uniform(rng, low, high, size):
    if low <= 0 or high <= low:
        raise ValueError("bounds")
    exponents = rng.uniform(np.log10(low), np.log10(high), size=size)
    return keras.ops.convert_to_numpy(keras.ops.power(10.0, keras.ops.convert_to_tensor(
        exponents, dtype="float64")))
''',
        "one_knob_configs": '''
def one_knob_configs(baseline, knob, values):
    if knob not in baseline:
        raise ValueError("no such knob")
    return [baseline | {knob: value} for value in values]
''',
        "summarize_seeds": '''
import keras

def summarize_seeds(scores):
    np.log(np.array(0.0))  # a RuntimeWarning on every call
    out = {}
    for name, vals in scores.items():
        t = keras.ops.convert_to_tensor(np.asarray(vals, dtype="float64"))
        out[name] = {"mean": float(keras.ops.mean(t)), "std": float(keras.ops.std(t)),
                     "n": int(t.shape[0])}
    return out
''',
        "select_config": '''
def select_config(summary):
    names = sorted(summary, key=lambda n: (-summary[n]["mean"], summary[n]["std"], n))
    top = summary[names[0]]["mean"]
    tied = [n for n in names if summary[n]["mean"] >= top - 1e-12]
    return sorted(tied, key=lambda n: (summary[n]["std"], n))[0]
''',
    },
}
