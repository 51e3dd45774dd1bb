"""TensorBoard logging beyond Keras' own callback: configuration and sample predictions as text."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf


def config_markdown(config: Mapping[str, Any], data: str) -> str:
    rows = ["| setting | value |", "|---|---|", f"| data | {data} |"]
    rows += [f"| {key} | {value} |" for key, value in config.items()]
    return "\n".join(rows)


class TextSummaries(keras.callbacks.Callback):
    """Writes the resolved configuration once and sample predictions after each epoch.

    Both land in `<log_dir>/text` under the tags "config" and "samples".
    """

    def __init__(self, log_dir: Path, config_text: str, samples: Callable[[], str]):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir / "text"))
        self.config_text = config_text
        self.make_samples = samples

    def on_train_begin(self, logs=None):
        with self.writer.as_default():
            tf.summary.text("config", self.config_text, step=0)
        self.writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default():
            tf.summary.text("samples", self.make_samples(), step=epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()
