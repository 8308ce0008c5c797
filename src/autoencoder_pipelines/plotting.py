"""Figures of the evaluation nodes, returned as matplotlib ``Figure`` objects.

Figures are built with the object API (no ``pyplot`` state, no ``show``); the catalog
saves them as PNG.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def health_map_figure(train_latent: pd.DataFrame, test_latent: pd.DataFrame, max_rul: float) -> Figure:
    """The 2-D latent space (health map) of training and test windows, coloured by RUL.

    Args:
        train_latent: columns ``z_1``, ``z_2``, ``RUL`` (one row per training window).
        test_latent: columns ``z_1``, ``z_2``, ``true_rul_capped`` (last window of each
            test engine).
        max_rul: upper end of the colour scale.
    """
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    panels = (
        (axes[0], train_latent, "RUL", "training windows", 4),
        (axes[1], test_latent, "true_rul_capped", "test engines (last window), true RUL", 22),
    )
    # The training windows, in grey, give the test engines their context.
    axes[1].scatter(train_latent["z_1"], train_latent["z_2"], c="lightgrey", s=3)
    for ax, frame, column, title, size in panels:
        points = ax.scatter(
            frame["z_1"], frame["z_2"], c=frame[column], cmap="viridis", vmin=0, vmax=max_rul, s=size,
            edgecolors="black" if size > 10 else "none", linewidths=0.4,
        )
        ax.set_title(f"Health map: {title}")
        ax.set_xlabel("z_1")
    axes[0].set_ylabel("z_2")
    fig.colorbar(points, ax=axes, label="RUL (cycles)")
    return fig


def rul_per_engine_figure(predictions: pd.DataFrame) -> Figure:
    """Predicted and true RUL of every test engine, engines sorted by true RUL."""
    ordered = predictions.sort_values("true_rul_capped").reset_index(drop=True)
    x = np.arange(len(ordered))
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, ordered["true_rul_capped"], color="black", lw=2, label="true RUL (capped)")
    ax.scatter(x, ordered["predicted_rul"], color="tab:red", s=14, label="predicted RUL", zorder=3)
    ax.vlines(x, ordered["true_rul_capped"], ordered["predicted_rul"], color="tab:red", alpha=0.3)
    ax.set_xlabel("test engine (sorted by true RUL)")
    ax.set_ylabel("RUL (cycles)")
    ax.set_title("Predicted vs true RUL per test engine")
    ax.legend()
    return fig
