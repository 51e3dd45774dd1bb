"""The README's tables of settings state the code's defaults, for every setting."""

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from pipelines.runner.config import coerce, field_types
from tasks.abstractive_summarization import Config as AbstractiveSummarizationConfig
from tasks.base import TaskConfig
from tasks.chatbot import Config as ChatbotConfig
from tasks.extractive_summarization import Config as ExtractiveSummarizationConfig
from tasks.forecasting import Config as ForecastingConfig
from tasks.image_captioning import Config as ImageCaptioningConfig
from tasks.text_classification import Config as TextClassificationConfig
from tasks.translation import Config as TranslationConfig

README = Path(__file__).resolve().parents[1] / "README.md"
SECTIONS = {
    "### Text classification variants": TextClassificationConfig,
    "### Forecasting": ForecastingConfig,
    "### Translation": TranslationConfig,
    "### Extractive summarization": ExtractiveSummarizationConfig,
    "### Abstractive summarization": AbstractiveSummarizationConfig,
    "### Image captioning": ImageCaptioningConfig,
    "### Chatbot": ChatbotConfig,
}
SHARED = "Every task also has these settings:"


def _table_after(heading: str) -> list[list[str]]:
    """The cells of the first table after `heading`, header and rule left out."""
    text = README.read_text(encoding="utf-8")
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| setting"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _documented(heading: str) -> dict[str, str]:
    """Setting name -> default as written, from the `setting` and `default` columns."""
    documented = {}
    for row in _table_after(heading):
        names = re.findall(r"`([^`]+)`", row[0])
        defaults = re.findall(r"`([^`]+)`", row[1])
        assert len(names) == len(defaults), row
        documented |= dict(zip(names, defaults, strict=True))
    return documented


def _task_fields(config_class) -> set[str]:
    shared = {field.name for field in dataclasses.fields(TaskConfig)}
    return {field.name for field in dataclasses.fields(config_class)} - (
        shared - {"epochs", "batch_size", "learning_rate", "patience"}
    )


def _check(config_class, documented: dict[str, str]) -> None:
    types = field_types(config_class)
    config = config_class()
    for name, written in documented.items():
        kind = types[name]
        value = "" if written == '""' else coerce(name, written, kind)
        default = getattr(config, name)
        if kind is float or typing.get_origin(kind) is tuple:
            assert value == pytest.approx(default), name
        else:
            assert value == default, name


@pytest.mark.parametrize("heading", SECTIONS)
def test_each_task_table_documents_every_setting_with_its_default(heading):
    config_class = SECTIONS[heading]
    documented = _documented(heading)
    assert set(documented) == _task_fields(config_class)
    _check(config_class, documented)


@pytest.mark.parametrize("config_class", SECTIONS.values())
def test_the_shared_table_states_every_task_s_defaults(config_class):
    documented = _documented(SHARED)
    assert set(documented) == {
        "seed",
        "clipnorm",
        "max_batches",
        "schedule",
        "warmup",
    }
    _check(config_class, documented)
