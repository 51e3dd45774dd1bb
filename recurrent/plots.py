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


def attention_figure(weights, source_tokens, target_tokens, title: str = "") -> Figure:
    """Heat map of attention weights: one row per target token, one column per source token.

    Args:
        weights: `[target, source]` weights.
        source_tokens: labels of the columns.
        target_tokens: labels of the rows.
        title: shown above the map.
    """
    weights = np.asarray(weights, dtype=float)
    rows, columns = weights.shape
    figure = Figure(
        figsize=(min(3 + 0.28 * columns, 16), min(2 + 0.26 * rows, 14)), dpi=100
    )
    axes = figure.add_subplot()
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(columns), list(source_tokens), rotation=90, fontsize=8)
    axes.set_yticks(range(rows), list(target_tokens), fontsize=8)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.04)
    figure.tight_layout()
    return figure


def highlighted_text_figure(
    tokens, weights, title: str = "", per_line: int = 16, label: str = "weight"
) -> Figure:
    """Tokens as running text, each on a background as dark as its weight
    (e.g. how much a summary copied each source word), with a colour bar.

    Args:
        tokens: the words, in order.
        weights: one weight per token, in [0, 1].
        title: shown above the text.
        per_line: tokens per line.
        label: the colour bar's label.
    """
    from matplotlib import cm, colormaps, colors

    weights = np.clip(np.asarray(weights, dtype=float), 0.0, 1.0)
    lines = max(1, -(-len(tokens) // per_line))
    figure = Figure(figsize=(12, 0.9 + 0.32 * lines), dpi=100)
    axes = figure.add_axes((0.01, 0.02, 0.86, 0.9 - 0.25 / (1 + lines)))
    axes.set_axis_off()
    axes.set_xlim(0, per_line)
    axes.set_ylim(lines, 0)
    palette = colormaps["Oranges"]
    for index, (token, weight) in enumerate(zip(tokens, weights, strict=True)):
        row, column = divmod(index, per_line)
        axes.text(
            column + 0.05,
            row + 0.5,
            str(token)[:14],
            fontsize=8,
            va="center",
            color="white" if weight > 0.6 else "black",
            bbox={"facecolor": palette(weight), "edgecolor": "none", "pad": 1.5},
        )
    scale = cm.ScalarMappable(norm=colors.Normalize(0.0, 1.0), cmap=palette)
    bar = figure.add_axes((0.9, 0.1, 0.015, 0.75))
    figure.colorbar(scale, cax=bar, label=label)
    figure.suptitle(title, fontsize=9)
    return figure


def image_attention_figure(
    image, words, maps, title: str = "", boxes=None, per_row: int = 6
) -> Figure:
    """Where each word of a caption looked (Show, Attend and Tell, figure 3):
    the image, then one panel per word, the image lit by the word's
    attention map (stretched over it, bilinear; darker where the weight is
    lower), titled with the word and its highest weight.

    Args:
        image: `[height, width, 3]` pixels in 0..255.
        words: the caption's words (the end token included, if shown).
        maps: `[len(words), rows, cols]` attention weights.
        title: shown above the panels.
        boxes: optional `[x0, y0, x1, y1]` boxes in 0..1 of the image (the
            objects of a scene), outlined on the first panel.
        per_row: panels per row.
    """
    from matplotlib.patches import Rectangle

    image = np.asarray(image, dtype=float) / 255.0
    height, width = image.shape[:2]
    maps = np.asarray(maps, dtype=float)
    panels = 1 + len(words)
    rows = -(-panels // per_row)
    columns = min(panels, per_row)
    figure = Figure(figsize=(1.9 * columns, 2.1 * rows + 0.4), dpi=100)
    for index in range(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.set_axis_off()
        if index == 0:
            axes.imshow(image, extent=(0, width, height, 0))
            axes.set_title("image", fontsize=8)
            for x0, y0, x1, y1 in boxes if boxes is not None else []:
                axes.add_patch(
                    Rectangle(
                        (x0 * width, y0 * height),
                        (x1 - x0) * width,
                        (y1 - y0) * height,
                        fill=False,
                        edgecolor="tab:red",
                        linewidth=1,
                    )
                )
            continue
        weights = maps[index - 1]
        peak = weights.max()
        shade = stretched(weights / peak if peak > 0 else weights, width, height)
        axes.imshow(
            image * (0.2 + 0.8 * shade[:, :, None]), extent=(0, width, height, 0)
        )
        axes.set_title(f"{words[index - 1]} ({peak:.2f})", fontsize=8)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure


def stretched(weights, width: int, height: int) -> np.ndarray:
    """A `[rows, cols]` map in 0..1 resized to `[height, width]`, bilinear."""
    from PIL import Image

    small = Image.fromarray(np.asarray(weights, dtype=np.float32), mode="F")
    return np.clip(np.asarray(small.resize((width, height), Image.BILINEAR)), 0, 1)
