"""Figures the pipelines show in TensorBoard and save beside an export.

Figures are built with matplotlib's object API (no pyplot, no display needed).
"""

import io

import numpy as np
from matplotlib.figure import Figure


def forecast_figure(
    history, actual, forecast, lower=None, upper=None, title: str = ""
) -> Figure:
    """The last observed values, then actual values against the forecast and its interval."""
    history, actual, forecast = (
        np.asarray(a, dtype=float) for a in (history, actual, forecast)
    )
    figure = Figure(figsize=(8, 3.2), dpi=100)
    axes = figure.add_subplot()
    past = np.arange(-len(history) + 1, 1)
    leads = np.arange(1, len(actual) + 1)
    axes.plot(past, history, color="0.4", label="observed")
    axes.plot(leads, actual, color="black", label="actual")
    axes.plot(leads, forecast, color="tab:blue", label="forecast")
    if lower is not None and upper is not None:
        axes.fill_between(
            leads, lower, upper, color="tab:blue", alpha=0.25, label="80% interval"
        )
    axes.axvline(0.5, color="0.7", linestyle=":")
    axes.set_xlabel("hours from the forecast origin")
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
