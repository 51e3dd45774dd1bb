"""Side-by-side tables of model and baseline scores."""

from collections.abc import Mapping


def side_by_side(results: Mapping[str, Mapping[str, object]]) -> str:
    """A text table: one row per scalar metric, one column per system.

    Args:
        results: system name -> metric name -> value; non-numeric values
            (e.g. confusion matrices) are left out.
    """
    systems = list(results)
    metrics = []
    for scores in results.values():
        for name, value in scores.items():
            if isinstance(value, int | float) and name not in metrics:
                metrics.append(name)
    width = max(12, *(len(system) + 2 for system in systems))
    first = max(8, *(len(metric) + 2 for metric in metrics)) if metrics else 8
    lines = ["metric".ljust(first) + "".join(system.rjust(width) for system in systems)]
    for metric in metrics:
        cells = []
        for system in systems:
            value = results[system].get(metric)
            cells.append(("-" if value is None else f"{value:.4f}").rjust(width))
        lines.append(metric.ljust(first) + "".join(cells))
    return "\n".join(lines)
