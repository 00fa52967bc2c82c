"""Figures the chapters share."""

import matplotlib.pyplot as plt
import numpy as np


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


def reliability_diagram(ax, confidence, correct, n_bins: int = 10, title: str | None = None):
    """Bars of the accuracy in equal-width confidence bins, the diagonal, each bin's count.

    ``confidence`` holds each example's top-class probability and ``correct`` whether its
    top class is right. The number of examples in a bin is written at the foot of its bar
    (a bar over a handful of examples says little). Returns the counts per bin.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.ndim != 1 or confidence.shape != correct.shape:
        raise ValueError(f"need one confidence per example and one correct flag per example, "
                         f"got shapes {confidence.shape} and {correct.shape}")
    if n_bins < 1:
        raise ValueError(f"need at least one bin, got n_bins={n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts, _ = np.histogram(confidence, edges)
    hits, _ = np.histogram(confidence, edges, weights=correct)
    accuracy = np.divide(hits, counts, out=np.zeros(n_bins), where=counts > 0)
    centers = (edges[:-1] + edges[1:]) / 2
    ax.bar(centers, accuracy, width=1 / n_bins, edgecolor="black", alpha=0.6,
           label="accuracy in bin")
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    for x, n in zip(centers, counts, strict=True):
        ax.text(x, 0.01, str(n), ha="center", va="bottom", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy (numbers: examples per bin)")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return counts


def plain_log_ticks(ax, axis: str = "y") -> None:
    """Label a log-scaled axis at 1, 2 and 5 times the powers of ten, as plain numbers.

    Matplotlib labels the minor ticks of a log axis that spans less than a decade or two as
    ``2×10⁻¹``, ``3×10⁻¹``, …, which crowd each other; this keeps a few readable labels.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    target.set_minor_formatter(NullFormatter())
