"""Small image models for the 8×8 digits, and a way to train several of them side by side.

:func:`conv_net` is an ordinary Keras model. :func:`side_by_side` joins several such models
into one whose data carry a model axis, as the stacks of :mod:`reglab.stack` do: input
(batch, models, *image), output (batch, models, classes), network ``k`` reading and writing
column ``k``. Keras averages the loss over that axis, so each network's gradient is its own
loss's gradient times 1/models, which Adam's update does not see (apart from its ε).
"""

from collections.abc import Sequence

import keras


def conv_net(num_classes: int = 10, input_shape: tuple[int, ...] = (8, 8, 1),
             filters: Sequence[int] = (16, 32), upsample: int = 1, seed: int = 0,
             name: str | None = None, dense: int = 0) -> keras.Sequential:
    """A small convolutional classifier with a softmax output.

    Each entry of ``filters`` adds a 3×3 ``Conv2D`` (same padding, ReLU) and a 2×2 max
    pooling; a ``Dense(num_classes)`` softmax head reads the flattened maps, through a hidden
    ``Dense(dense)`` ReLU layer when ``dense > 0``. ``upsample > 1``
    first enlarges the images by that factor (bilinear). ``seed`` (pass ``reglab.seed(k)``)
    fixes every initial weight, whatever the global seed, so models built with different
    seeds differ and the same seed rebuilds the same model.
    """
    if not filters or min(filters) < 1 or upsample < 1 or num_classes < 2 or dense < 0:
        raise ValueError(f"need filters >= 1, upsample >= 1, num_classes >= 2 and dense >= 0, got "
                         f"filters={filters}, upsample={upsample}, num_classes={num_classes}, "
                         f"dense={dense}")
    size = min(input_shape[:2]) * upsample
    if size < 2 ** len(filters):
        raise ValueError(f"{len(filters)} poolings do not fit images of {size} pixels")
    layers = keras.layers
    seeds = keras.random.SeedGenerator(seed)
    stack: list = [keras.Input(input_shape)]
    if upsample > 1:
        stack.append(layers.UpSampling2D(upsample, interpolation="bilinear"))
    for width in filters:
        stack += [layers.Conv2D(width, 3, padding="same", activation="relu",
                                kernel_initializer=keras.initializers.GlorotUniform(seeds)),
                  layers.MaxPooling2D(2)]
    stack.append(layers.Flatten())
    if dense:
        stack.append(layers.Dense(dense, activation="relu",
                                  kernel_initializer=keras.initializers.GlorotUniform(seeds)))
    stack += [layers.Dense(num_classes, activation="softmax",
                           kernel_initializer=keras.initializers.GlorotUniform(seeds))]
    return keras.Sequential(stack, name=name)


def side_by_side(models: Sequence[keras.Model]) -> keras.Model:
    """One Keras model running ``models`` independently on the columns of a model axis.

    All models need the same input shape ``s`` and output shape ``o``; the joined model maps
    (batch, len(models), *s) to (batch, len(models), *o). Labels for ``fit`` then have the
    shape (batch, len(models)); data for network ``k`` go in column ``k``.
    """
    if not models:
        raise ValueError("side_by_side needs at least one model")
    shapes = {tuple(m.input_shape[1:]) for m in models}
    if len(shapes) != 1:
        raise ValueError(f"the models need one input shape, got {sorted(shapes)}")
    inputs = keras.Input((len(models), *shapes.pop()))
    outputs = [m(inputs[:, k]) for k, m in enumerate(models)]
    return keras.Model(inputs, keras.ops.stack(outputs, axis=1))
