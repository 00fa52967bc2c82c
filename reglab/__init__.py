"""Helpers shared by the notebooks of *Regularization in Deep Learning*.

Importing ``reglab`` first, before TensorFlow or Keras, keeps TensorFlow quiet:
it sets ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0``, which must be
in the environment before TensorFlow loads.
"""

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from reglab import data, explore, plots  # noqa: E402
from reglab.env import setup  # noqa: E402

__all__ = ["data", "explore", "plots", "setup"]
__version__ = "0.1.0"
