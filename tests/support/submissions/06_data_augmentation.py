"""Plausible wrong answers (MUTANTS) and correct answers in other styles (ALTERNATIVES)
for assignment 06_data_augmentation. Each is appended to the cell that defines the function."""

MUTANTS = {
    "random_flip_horizontal": {
        "vertical instead of horizontal flip": '''
def random_flip_horizontal(images, rng, p=0.5):
    images = np.asarray(images)
    flip = rng.random(len(images)) < p
    return np.where(flip[:, None, None], images[:, ::-1, :], images)
''',
        "one draw for the whole batch": '''
def random_flip_horizontal(images, rng, p=0.5):
    images = np.asarray(images)
    return images[:, :, ::-1].copy() if rng.random() < p else images.copy()
''',
        "flips with probability 1 - p": '''
def random_flip_horizontal(images, rng, p=0.5):
    images = np.asarray(images)
    flip = rng.random(len(images)) > p
    return np.where(flip[:, None, None], images[:, :, ::-1], images)
''',
        "flips in place": '''
def random_flip_horizontal(images, rng, p=0.5):
    flip = rng.random(len(images)) < p
    images[flip] = images[flip][:, :, ::-1]
    return images
''',
    },
    "random_translate": {
        "wrap-around (np.roll) instead of zero fill": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    out = np.empty_like(images)
    for i in range(len(images)):
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        out[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
    return out
''',
        "upper bound excluded (rng.integers(-m, m))": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    n, h, w = images.shape
    out = np.zeros_like(images)
    if max_shift == 0:
        return images.copy()
    for i in range(n):
        dy, dx = rng.integers(-max_shift, max_shift, size=2)
        out[i, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \\
            images[i, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out
''',
        "one shift for the whole batch": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    n, h, w = images.shape
    out = np.zeros_like(images)
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \\
        images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out
''',
        "same value for dy and dx": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    n, h, w = images.shape
    out = np.zeros_like(images)
    for i in range(n):
        dy = dx = int(rng.integers(-max_shift, max_shift + 1))
        out[i, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \\
            images[i, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out
''',
        "edge fill instead of zeros": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    n, h, w = images.shape
    m = max_shift
    out = np.empty_like(images)
    for i in range(n):
        dy, dx = rng.integers(-m, m + 1, size=2)
        padded = np.pad(images[i], m, mode="edge")
        out[i] = padded[m - dy:m - dy + h, m - dx:m - dx + w]
    return out
''',
    },
    "add_gaussian_noise": {
        "noise not clipped": '''
def add_gaussian_noise(images, stddev, rng):
    images = np.asarray(images)
    return images + rng.normal(0.0, stddev, size=images.shape)
''',
        "stddev used as the variance": '''
def add_gaussian_noise(images, stddev, rng):
    images = np.asarray(images)
    return np.clip(images + rng.normal(0.0, np.sqrt(stddev), size=images.shape), 0, 1)
''',
        "uniform noise of the same standard deviation": '''
def add_gaussian_noise(images, stddev, rng):
    images = np.asarray(images)
    half = stddev * np.sqrt(3.0)
    return np.clip(images + rng.uniform(-half, half, size=images.shape), 0, 1)
''',
        "one noise map for every image": '''
def add_gaussian_noise(images, stddev, rng):
    images = np.asarray(images)
    return np.clip(images + rng.normal(0.0, stddev, size=images.shape[1:]), 0, 1)
''',
        "noise added in place": '''
def add_gaussian_noise(images, stddev, rng):
    images += rng.normal(0.0, stddev, size=images.shape)
    np.clip(images, 0, 1, out=images)
    return images
''',
    },
    "augment_dataset": {
        "labels repeated element-wise (np.repeat)": '''
def augment_dataset(images, labels, rng, copies):
    parts = [np.asarray(images)]
    for _ in range(copies):
        parts.append(add_gaussian_noise(random_translate(images, 1, rng), 0.05, rng))
    return np.concatenate(parts), np.repeat(labels, copies + 1)
''',
        "augmented copies before the originals": '''
def augment_dataset(images, labels, rng, copies):
    parts = []
    for _ in range(copies):
        parts.append(add_gaussian_noise(random_translate(images, 1, rng), 0.05, rng))
    parts.append(np.asarray(images))
    return np.concatenate(parts), np.tile(labels, copies + 1)
''',
        "one augmented copy repeated": '''
def augment_dataset(images, labels, rng, copies):
    once = add_gaussian_noise(random_translate(images, 1, rng), 0.05, rng)
    return np.concatenate([images] + [once] * copies), np.tile(labels, copies + 1)
''',
        "no noise": '''
def augment_dataset(images, labels, rng, copies):
    parts = [np.asarray(images)] + [random_translate(images, 1, rng) for _ in range(copies)]
    return np.concatenate(parts), np.tile(labels, copies + 1)
''',
        "images shuffled within copies, labels not": '''
def augment_dataset(images, labels, rng, copies):
    parts = [np.asarray(images)]
    for _ in range(copies):
        order = rng.permutation(len(images))
        parts.append(add_gaussian_noise(random_translate(images[order], 1, rng), 0.05, rng))
    return np.concatenate(parts), np.tile(labels, copies + 1)
''',
        "shift of up to 2 pixels": '''
def augment_dataset(images, labels, rng, copies):
    parts = [np.asarray(images)]
    for _ in range(copies):
        parts.append(add_gaussian_noise(random_translate(images, 2, rng), 0.05, rng))
    return np.concatenate(parts), np.tile(labels, copies + 1)
''',
    },
    "build_augmentation": {
        "includes a horizontal flip": '''
def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed),
    ])
''',
        "augmentation active at inference (Lambda noise)": '''
def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed),
        keras.layers.Lambda(lambda x: keras.ops.clip(
            x + 0.05 * keras.random.normal(keras.ops.shape(x), seed=seed), 0.0, 1.0)),
    ])
''',
        "RandomContrast with the default value_range (0, 255)": '''
def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed),
        keras.layers.RandomContrast(0.3, seed=seed),
    ])
''',
        "large rotation (half a turn)": '''
def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomRotation(0.5, fill_mode="constant", seed=seed),
    ])
''',
        "seed ignored": '''
def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant"),
        keras.layers.RandomZoom(0.1, fill_mode="constant"),
    ])
''',
        "no random layer (identity)": '''
def build_augmentation(seed=None):
    return keras.Sequential([keras.layers.Identity()])
''',
        "a left-right flip in a custom layer": '''
class MirrorSome(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        coin = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1), seed=self.generator)
        return keras.ops.where(coin < 0.5, keras.ops.flip(images, axis=2), images)


def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed),
        keras.layers.RandomRotation(0.04, fill_mode="constant", seed=seed),
        MirrorSome(seed=seed),
    ])
''',
        "quarter turns in a custom layer": '''
class QuarterTurns(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        coin = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1), seed=self.generator)
        turned = keras.ops.flip(keras.ops.transpose(images, (0, 2, 1, 3)), axis=1)
        return keras.ops.where(coin < 0.5, turned, images)


def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant", seed=seed),
        QuarterTurns(seed=seed),
    ])
''',
    },
}

ALTERNATIVES = {
    "a custom random layer of its own, larger shifts": {
        "build_augmentation": '''
class RandomDimming(keras.layers.Layer):
    """Scale each image's brightness by a random factor in [0.8, 1]."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        factor = keras.random.uniform((keras.ops.shape(images)[0], 1, 1, 1), 0.8, 1.0,
                                      seed=self.generator)
        return images * factor


def build_augmentation(seed=None):
    return keras.Sequential([
        keras.layers.RandomRotation(0.1, fill_mode="constant", seed=seed),
        keras.layers.RandomTranslation(0.25, 0.25, fill_mode="constant", seed=seed),
        RandomDimming(seed=seed),
    ])
''',
    },
    "loops, pad and slices": {
        "random_flip_horizontal": '''
def random_flip_horizontal(images, rng, p=0.5):
    out = np.array(images, copy=True)
    for i in range(len(out)):
        if rng.uniform() < p:
            out[i] = out[i][:, ::-1]
    return out
''',
        "random_translate": '''
def random_translate(images, max_shift, rng):
    images = np.asarray(images)
    n, h, w = images.shape
    m = max_shift
    out = np.empty_like(images)
    for i in range(n):
        dx = int(rng.integers(-m, m + 1))   # dx first: the order of draws does not matter
        dy = int(rng.integers(-m, m + 1))
        padded = np.pad(images[i], m)       # zeros all around
        out[i] = padded[m - dy:m - dy + h, m - dx:m - dx + w]
    return out
''',
        "add_gaussian_noise": '''
def add_gaussian_noise(images, stddev, rng):
    noisy = np.array(images, dtype=float) + stddev * rng.standard_normal(np.shape(images))
    return np.minimum(np.maximum(noisy, 0.0), 1.0)
''',
        "augment_dataset": '''
def augment_dataset(images, labels, rng, copies):
    new_images, new_labels = list(images), list(labels)
    for _ in range(copies):
        shifted = random_translate(images, 1, rng)
        new_images.extend(add_gaussian_noise(shifted, 0.05, rng))
        new_labels.extend(labels)
    return np.stack(new_images), np.array(new_labels)
''',
        "build_augmentation": '''
import warnings

def build_augmentation(seed=None):
    warnings.warn("building the augmentation stack", UserWarning)
    s = (lambda k: None if seed is None else seed + k)
    return keras.Sequential([
        keras.layers.RandomZoom(0.15, fill_mode="constant", seed=s(0)),
        keras.layers.RandomTranslation(1 / 8, 1 / 8, fill_mode="nearest", seed=s(1)),
    ])
''',
    },
    "vectorized, binomial draws, with warnings": {
        "random_flip_horizontal": '''
def random_flip_horizontal(images, rng, p=0.5):
    images = np.asarray(images)
    out = images.copy()
    flip = rng.binomial(1, p, size=len(images)).astype(bool)
    out[flip] = np.flip(images[flip], axis=-1)
    return out
''',
        "random_translate": '''
import warnings

def random_translate(images, max_shift, rng):
    warnings.warn("vectorized translation", RuntimeWarning)
    images = np.asarray(images)
    n, h, w = images.shape
    dy = rng.choice(np.arange(-max_shift, max_shift + 1), size=n)
    dx = rng.choice(np.arange(-max_shift, max_shift + 1), size=n)
    rows = np.arange(h)[None, :] - dy[:, None]          # source row of each target row
    cols = np.arange(w)[None, :] - dx[:, None]
    valid = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    gathered = images[np.arange(n)[:, None, None], np.clip(rows, 0, h - 1)[:, :, None],
                      np.clip(cols, 0, w - 1)[:, None, :]]
    return np.where(valid, gathered, 0).astype(images.dtype)
''',
        "add_gaussian_noise": '''
def add_gaussian_noise(images, stddev, rng):
    x = keras.ops.convert_to_tensor(np.asarray(images, dtype="float64"))
    noise = keras.ops.convert_to_tensor(rng.normal(size=np.shape(images)) * stddev)
    return np.asarray(keras.ops.clip(x + noise, 0.0, 1.0))
''',
        "augment_dataset": '''
def augment_dataset(images, labels, rng, copies):
    images = np.asarray(images)
    stacked = np.concatenate([images] * copies) if copies else images[:0]
    augmented = add_gaussian_noise(random_translate(stacked, 1, rng), 0.05, rng)
    return (np.concatenate([images.astype(augmented.dtype), augmented]),
            np.concatenate([np.asarray(labels)] * (copies + 1)))
''',
        "build_augmentation": '''
def build_augmentation(seed=None):
    model = keras.Sequential(name="digits_augmentation")
    model.add(keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed))
    model.add(keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed))
    model.add(keras.layers.RandomContrast(0.3, value_range=(0, 1), seed=seed))
    return model
''',
    },
}
