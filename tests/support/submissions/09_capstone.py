"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 09_capstone. Each is appended to the cell that holds the recipe (HP,
build_model and train), replacing what it redefines."""

MUTANTS = {
    "recipe": {
        "no regularization (the baseline itself)": '''
HP = dict(capstone.BASELINE_HP)
build_model = capstone.baseline_model
train = capstone.baseline_train
''',
        "regularization so strong it underfits": '''
HP = {**HP, "dropout": 0.85, "label_smoothing": 0.7}
''',
        "fits the validation data too": '''
_fit_alone = train


def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    return _fit_alone(model, np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val]),
                      x_val, y_val, epochs_budget)
''',
        "stops early on the test set": '''
def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    test = capstone.case(0)
    one_hot = np.eye(10, dtype="float32")
    stop = keras.callbacks.EarlyStopping("val_accuracy", patience=HP["patience"],
                                         restore_best_weights=True)
    return model.fit(x_train, one_hot[y_train], batch_size=HP["batch_size"],
                     validation_data=(test["x_test"], one_hot[test["y_test"]]),
                     epochs=epochs_budget, callbacks=[stop], verbose=0)
''',
        "fine-tunes past the budget": '''
_fit_budget = train


def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    _fit_budget(model, x_train, y_train, x_val, y_val, epochs_budget)
    model.optimizer.learning_rate.assign(1e-4)
    return model.fit(x_train, np.eye(10, dtype="float32")[y_train], batch_size=HP["batch_size"],
                     epochs=10, verbose=0)
''',
        "states a batch size it does not use": '''
HP = {**HP, "batch_size": 128}
_fit_stated = train


def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    HP["batch_size"], stated = 32, HP["batch_size"]
    try:
        return _fit_stated(model, x_train, y_train, x_val, y_val, epochs_budget)
    finally:
        HP["batch_size"] = stated
''',
        "outputs logits, not probabilities": '''
_with_softmax = build_model


def build_model(hp):
    inner = _with_softmax(hp)
    logits = keras.Sequential(inner.layers[:-1] + [keras.layers.Dense(10)])
    loss = keras.losses.CategoricalCrossentropy(from_logits=True,
                                                label_smoothing=hp["label_smoothing"])
    logits.compile(optimizer=keras.optimizers.Adam(hp["learning_rate"]), loss=loss,
                   metrics=["accuracy"])
    return logits
''',
    },
}

ALTERNATIVES = {
    "L2 and dropout, NumPy arrays and sparse labels, a warning": {"recipe": '''
import warnings

HP = {"batch_size": 64, "l2": 1e-3, "dropout": 0.4, "patience": 20}


def build_model(hp):
    penalty = keras.regularizers.L2(hp["l2"])
    model = keras.Sequential([keras.Input((8, 8, 1))])
    for width in (32, 64):
        model.add(keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                      kernel_regularizer=penalty))
        model.add(keras.layers.MaxPooling2D(2))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dropout(hp["dropout"]))
    model.add(keras.layers.Dense(128, activation="relu", kernel_regularizer=penalty))
    model.add(keras.layers.Dropout(hp["dropout"]))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    warnings.warn("no augmentation in this recipe", stacklevel=1)
    best = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=HP["patience"],
                                         restore_best_weights=True)
    return model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs_budget,
                     batch_size=HP["batch_size"], callbacks=[best], verbose=0)
'''},
    "shifts drawn in NumPy by a generator, functional model, best epoch kept by hand": {"recipe": '''
import math

HP = {"batch_size": 32, "max_shift": 1, "noise": 0.1, "dropout": 0.3}


def build_model(hp):
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.GaussianNoise(hp["noise"])(inputs)
    for width in (32, 64):
        h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Dropout(hp["dropout"])(keras.layers.Flatten()(h))
    h = keras.layers.Dropout(hp["dropout"])(keras.layers.Dense(128, activation="relu")(h))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _shifted_batches(x, y, batch_size, max_shift, rng):
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            batch = np.zeros_like(x[idx])
            for k, i in enumerate(idx):
                dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
                batch[k] = np.roll(x[i], (dy, dx), axis=(0, 1))
            yield batch, y[idx]


class _KeepBest(keras.callbacks.Callback):
    def __init__(self, x_val, y_val):
        super().__init__()
        self.x_val, self.y_val, self.best, self.weights = x_val, y_val, -1.0, None

    def on_epoch_end(self, epoch, logs=None):
        accuracy = np.mean(self.model.predict(self.x_val, verbose=0).argmax(1) == self.y_val)
        if accuracy > self.best:
            self.best, self.weights = accuracy, self.model.get_weights()

    def on_train_end(self, logs=None):
        self.model.set_weights(self.weights)


def train(model, x_train, y_train, x_val, y_val, epochs_budget):
    rng = np.random.default_rng(int(np.random.randint(1 << 30)))
    steps = math.ceil(len(x_train) / HP["batch_size"])
    batches = _shifted_batches(x_train, y_train, HP["batch_size"], HP["max_shift"], rng)
    return model.fit(batches, steps_per_epoch=steps, epochs=epochs_budget,
                     callbacks=[_KeepBest(x_val, y_val)], verbose=0)
'''},
}
