"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 04_early_stopping. Each is appended to the cell that defines the function."""

_ESE = '''
def early_stopping_epoch(val_losses, patience, min_delta=0.0, start_from_epoch=0):
    delta = abs(min_delta)
    best, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(val_losses):
        if epoch < start_from_epoch:
            continue
        wait += 1
        if best is None or {improved}:
            best, best_epoch, wait = value, epoch, 0
            continue
        if {stop} and epoch > 0:
            return epoch{shift}, best_epoch{shift}
    return None, best_epoch{shift}
'''


def _ese(improved="value + delta < best", stop="wait >= patience", shift=""):
    return _ESE.format(improved=improved, stop=stop, shift=shift)


_PES = '''
class PatienceEarlyStopping(keras.callbacks.Callback):
    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, restore_best_weights=False):
        super().__init__()
        self.monitor, self.patience = monitor, patience
        self.min_delta, self.restore_best_weights = abs(min_delta), restore_best_weights
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        if {reset}:
            self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
            self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get(self.monitor)
        self.wait += 1
        if self.best is None or {improved}:
            self.best, self.best_epoch, self.wait = current, epoch{shift}, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if {stop} and epoch > 0:
            self.stopped_epoch = epoch{shift}
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None and {restore}:
            self.model.set_weights(self.best_weights)
'''


def _pes(improved="current + self.min_delta < self.best", stop="self.wait >= self.patience",
         shift="", reset="True", restore="True"):
    return _PES.format(improved=improved, stop=stop, shift=shift, reset=reset, restore=restore)


_BCR = '''
def best_checkpoint_report(history, monitor="val_loss"):
    logs = getattr(history, "history", history)
    if monitor not in logs:
        raise KeyError(monitor)
    values = [float(v) for v in logs[{key}]]
    if not values:
        raise ValueError("empty")
    best = {best}
    return {{"best_epoch": best{shift}, "best_value": values[best], "epochs_run": {run}}}
'''


def _bcr(key="monitor", best="values.index(min(values))", shift="", run="len(values)"):
    return _BCR.format(key=key, best=best, shift=shift, run=run)


MUTANTS = {
    "early_stopping_epoch": {
        "off-by-one patience (wait > patience)": _ese(stop="wait > patience"),
        ">= instead of strict improvement": _ese(improved="value + delta <= best"),
        "min_delta applied with the wrong sign": _ese(improved="value - delta < best"),
        "1-based epochs": _ese(shift=" + 1"),
        "warm-up epochs still count for the best": '''
def early_stopping_epoch(val_losses, patience, min_delta=0.0, start_from_epoch=0):
    delta = abs(min_delta)
    best, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(val_losses):
        if best is None or value + delta < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        wait += 1
        if epoch >= start_from_epoch and wait >= patience:
            return epoch, best_epoch
    return None, best_epoch
''',
        "compares with the previous epoch, not the best": '''
def early_stopping_epoch(val_losses, patience, min_delta=0.0, start_from_epoch=0):
    delta = abs(min_delta)
    prev, best, best_epoch, wait = None, None, 0, 0
    for epoch, value in enumerate(val_losses):
        if epoch < start_from_epoch:
            continue
        wait += 1
        if prev is None or value + delta < prev:
            wait = 0
            if best is None or value < best:
                best, best_epoch = value, epoch
        elif wait >= patience and epoch > 0:
            return epoch, best_epoch
        prev = value
    return None, best_epoch
''',
    },
    "PatienceEarlyStopping": {
        "off-by-one patience (wait > patience)": _pes(stop="self.wait > self.patience"),
        ">= instead of strict improvement": _pes(improved="current + self.min_delta <= self.best"),
        "min_delta applied with the wrong sign": _pes(
            improved="current - self.min_delta < self.best"),
        "1-based epochs": _pes(shift=" + 1"),
        "last weights kept: restores only after an early stop (old tf.keras)": _pes(
            restore="self.stopped_epoch > 0"),
        "last weights kept: never restores": _pes(restore="False"),
        "state not reset in on_train_begin": _pes(reset="False"),
    },
    "best_checkpoint_report": {
        "1-based epochs": _bcr(shift=" + 1"),
        "latest epoch on ties": _bcr(best="len(values) - 1 - values[::-1].index(min(values))"),
        "epochs_run off by one (last index)": _bcr(run="len(values) - 1"),
        "always reads val_loss": _bcr(key='"val_loss"'),
        "highest value instead of lowest": _bcr(best="values.index(max(values))"),
        "no error on a missing monitor": '''
def best_checkpoint_report(history, monitor="val_loss"):
    logs = getattr(history, "history", history)
    values = [float(v) for v in logs.get(monitor, [])]
    if not values:
        raise ValueError("empty")
    best = values.index(min(values))
    return {"best_epoch": best, "best_value": values[best], "epochs_run": len(values)}
''',
    },
}

ALTERNATIVES = {
    "while loops, keras.ops comparisons, variable snapshots": {
        "early_stopping_epoch": '''
def early_stopping_epoch(val_losses, patience, min_delta=0.0, start_from_epoch=0):
    values = np.array(val_losses, dtype="float64")
    epoch = max(int(start_from_epoch), 0)
    if epoch >= len(values):
        return None, 0
    best, best_epoch, since = values[epoch], epoch, 0
    epoch += 1
    while epoch < len(values):
        if bool(keras.ops.less(values[epoch] + abs(min_delta), best)):
            best, best_epoch, since = values[epoch], epoch, 0
        else:
            since += 1
            if since >= patience:
                return int(epoch), int(best_epoch)
        epoch += 1
    return None, int(best_epoch)
''',
        "PatienceEarlyStopping": '''
class PatienceEarlyStopping(keras.callbacks.Callback):
    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, restore_best_weights=False):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.best_epoch = 0
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self._history = []
        self._snapshot = None
        self.best_epoch = 0
        self.stopped_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = float(logs[self.monitor])
        if not self._history or value + abs(self.min_delta) < self._best:
            self._best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self._snapshot = [np.array(v) for v in self.model.weights]
        self._history.append(value)
        if len(self._history) - 1 - self.best_epoch >= self.patience and epoch != self.best_epoch:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._snapshot is not None:
            for variable, value in zip(self.model.weights, self._snapshot):
                variable.assign(value)
''',
        "best_checkpoint_report": '''
def best_checkpoint_report(history, monitor="val_loss"):
    if isinstance(history, dict):
        logs = history
    else:
        logs = history.history
    try:
        values = np.asarray(logs[monitor], dtype="float64")
    except KeyError:
        raise KeyError(f"no {monitor} in the history") from None
    if values.size == 0:
        raise ValueError("nothing recorded")
    i = int(np.argmin(values))
    return dict(best_epoch=i, best_value=float(values[i]), epochs_run=int(values.size))
''',
    },
    "functional style, with a warning": {
        "early_stopping_epoch": '''
import warnings

def early_stopping_epoch(val_losses, patience, min_delta=0.0, start_from_epoch=0):
    warnings.warn("reproducing EarlyStopping by hand", UserWarning)
    monitored = list(enumerate(list(val_losses)))[start_from_epoch:]
    best = None
    best_epoch = 0
    last_improvement = None
    for epoch, value in monitored:
        if best is None or value < best - abs(min_delta):
            best, best_epoch, last_improvement = value, epoch, epoch
        elif epoch - last_improvement >= patience:
            return epoch, best_epoch
    return None, best_epoch
''',
        "PatienceEarlyStopping": '''
import warnings

class PatienceEarlyStopping(keras.callbacks.Callback):
    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, restore_best_weights=False):
        super().__init__()
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best_weights = restore_best_weights
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best, self.best_epoch, self.stopped_epoch, self.wait = float("inf"), 0, 0, 0
        self.started = False
        self.kept = None

    def on_epoch_end(self, epoch, logs=None):
        value = logs[self.monitor]
        if not self.started or self.best - value > abs(self.min_delta):
            self.started = True
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.kept = self.model.get_weights() if self.restore_best_weights else None
        else:
            self.wait += 1
            if self.wait >= self.patience:
                warnings.warn(f"stopping at epoch {epoch}")
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.kept:
            self.model.set_weights(self.kept)
''',
        "best_checkpoint_report": '''
def best_checkpoint_report(history, monitor="val_loss"):
    logs = history.history if hasattr(history, "history") else history
    series = logs[monitor]
    if len(series) == 0:
        raise ValueError("empty history")
    best_epoch = sorted(range(len(series)), key=lambda i: (float(series[i]), i))[0]
    return {"best_epoch": best_epoch, "best_value": float(series[best_epoch]),
            "epochs_run": len(series)}
''',
    },
}
