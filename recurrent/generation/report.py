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
    outputs: Mapping[str, np.ndarray],
    titles: Sequence[str],
    prefix="attention",
    widest: int | None = None,
) -> dict:
    """Heat maps of an attention endpoint's outputs ("source_tokens",
    "output_tokens", "weights"), one per row, named `<prefix>_<row>`.

    A copying model's endpoint also gives "p_gen": each output word's label
    then shows its generation probability (near 1 generated from the
    vocabulary, near 0 copied from the source). With `widest`, a longer
    source shows only the span the attention visits (`attended_span`).
    """
    from recurrent.plots import attention_figure

    figures = {}
    for index, title in enumerate(titles):
        source = texts(t for t in outputs["source_tokens"][index] if t)
        output = texts(t for t in outputs["output_tokens"][index] if t)
        weights = np.asarray(outputs["weights"][index])[: len(output), : len(source)]
        labels = output
        first = 0
        if "p_gen" in outputs:
            p_gen = outputs["p_gen"][index][: len(output)]
            labels = [f"{word}  {p:.2f}" for word, p in zip(output, p_gen, strict=True)]
        if widest is not None:
            first, last = attended_span(weights, widest)
            weights, source = weights[:, first:last], source[first:last]
        figures[f"{prefix}_{index}"] = attention_figure(
            weights,
            source,
            labels,
            title=title[:100] + (f" (source from token {first + 1})" if first else ""),
        )
    return figures


def copy_figures(
    outputs: Mapping[str, np.ndarray], titles: Sequence[str], prefix="copied"
) -> dict:
    """For each row of a copying model's attention endpoint, its source with
    every word shaded by how much the summary copied it: sum over output
    steps of (1 - p_gen) times the step's attention on the word (capped at
    1), named `<prefix>_<row>`."""
    from recurrent.plots import highlighted_text_figure

    figures = {}
    for index, title in enumerate(titles):
        source = texts(t for t in outputs["source_tokens"][index] if t)
        steps = len(texts(t for t in outputs["output_tokens"][index] if t))
        weights = np.asarray(outputs["weights"][index])[:steps, : len(source)]
        copying = 1.0 - np.asarray(outputs["p_gen"][index])[:steps]
        copied = np.minimum((copying[:, None] * weights).sum(axis=0), 1.0)
        summary = texts(outputs["summary"][index : index + 1])[0]
        figures[f"{prefix}_{index}"] = highlighted_text_figure(
            source, copied, title=f"{title[:60]} -> {summary[:80]}", label="copied"
        )
    return figures


def attended_span(weights: np.ndarray, widest: int) -> tuple[int, int]:
    """`(first, last)`: at most `widest` source positions around those that
    some output step attends with weight >= 0.05 (the start of the source if
    none does)."""
    columns = weights.shape[1]
    if columns <= widest:
        return 0, columns
    attended = np.flatnonzero(weights.max(axis=0, initial=0.0) >= 0.05)
    first = int(attended.min()) if attended.size else 0
    first = max(0, min(first, columns - widest))
    return first, first + widest
