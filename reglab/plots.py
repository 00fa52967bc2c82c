"""Figures the chapters share."""

import matplotlib.pyplot as plt


def learning_curves(history, metric: str = "loss", ax=None, title: str | None = None):
    """Plot training and validation ``metric`` per epoch from a Keras History (or its dict)."""
    logs = getattr(history, "history", history)
    if metric not in logs:
        raise KeyError(f"{metric!r} is not in the history; it has {sorted(logs)}")
    if ax is None:
        _, ax = plt.subplots()
    epochs = range(1, len(logs[metric]) + 1)
    ax.plot(epochs, logs[metric], label=f"training {metric}")
    if f"val_{metric}" in logs:
        ax.plot(epochs, logs[f"val_{metric}"], label=f"validation {metric}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
