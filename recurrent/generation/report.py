"""Readable views of generated text: examples, Markdown tables, attention maps."""

from collections.abc import Mapping, Sequence

import numpy as np


def texts(values) -> list[str]:
    """UTF-8 byte strings (a serving function's outputs) as Python strings."""
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def examples(columns: Mapping[str, Sequence[str]], count: int = 3) -> str:
    """The first `count` rows, one labelled line per column, blank-line apart."""
    width = max(len(name) for name in columns) + 2
    rows = list(zip(*columns.values(), strict=True))[:count]
    return "\n\n".join(
        "\n".join(
            f"{name + ':':<{width}}{value}"
            for name, value in zip(columns, row, strict=True)
        )
        for row in rows
    )


def markdown_table(columns: Mapping[str, Sequence[str]]) -> str:
    """A Markdown table of the columns (a "|" in a cell becomes "/")."""
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for row in zip(*columns.values(), strict=True):
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in row) + " |")
    return "\n".join(lines)


def attention_figures(
    outputs: Mapping[str, np.ndarray], titles: Sequence[str], prefix="attention"
) -> dict:
    """Heat maps of an attention endpoint's outputs ("source_tokens",
    "output_tokens", "weights"), one per row, named `<prefix>_<row>`."""
    from recurrent.plots import attention_figure

    figures = {}
    for index, title in enumerate(titles):
        source = texts(t for t in outputs["source_tokens"][index] if t)
        output = texts(t for t in outputs["output_tokens"][index] if t)
        weights = outputs["weights"][index][: len(output), : len(source)]
        figures[f"{prefix}_{index}"] = attention_figure(
            weights, source, output, title=title[:100]
        )
    return figures
