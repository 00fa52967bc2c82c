"""Helpers shared by the notebooks of *Regularization in Deep Learning*.

Importing ``reglab`` first, before TensorFlow or Keras, keeps TensorFlow quiet:
it sets the variables of :mod:`reglab.tf_env`, which must be in the environment before
TensorFlow loads, and runs TensorFlow on one thread.
"""

import os

from reglab.tf_env import TF_ENV

os.environ.update(TF_ENV)
# One thread per TensorFlow process: the course's models are too small to gain from more,
# and notebooks that run side by side (the book build, the grader's pool) would otherwise
# fight over the cores. Set the variables before `import reglab` to choose otherwise.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import importlib  # noqa: E402

from reglab.env import rng, seed, seeds, setup  # noqa: E402

__all__ = ["data", "explore", "plots", "rng", "seed", "seeds", "setup", "train"]
__version__ = "0.1.0"
_SUBMODULES = {"data", "explore", "plots", "train"}


def __getattr__(name: str):  # noqa: ANN202 - a module's attribute hook (PEP 562)
    """Load ``reglab.data`` and the other helpers on first use: the grader needs none."""
    if name in _SUBMODULES:
        return importlib.import_module(f"reglab.{name}")
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")
