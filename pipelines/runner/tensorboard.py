"""TensorBoard logging beyond Keras' own callback: the configuration, sample
predictions as text, and the task's figures (e.g. forecast plots) as images."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf


def config_markdown(
    config: Mapping[str, Any], data: str, source: Mapping[str, str] | None = None
) -> str:
    rows = ["| setting | value |", "|---|---|", f"| data | {data} |"]
    if source:
        rows.append(
            f"| init_from | {source['kind']} {source['path']} "
            f"(model {source['fingerprint'][:12]}) |"
        )
    rows += [f"| {key} | {value} |" for key, value in config.items()]
    return "\n".join(rows)


class SampleSummaries(keras.callbacks.Callback):
    """Writes the resolved configuration once, then samples after each epoch.

    Text lands in `<log_dir>/text` under the tags "config" and "samples"; each
    figure (PNG bytes, by name) in `<log_dir>/images` under its name.
    """

    def __init__(
        self,
        log_dir: Path,
        config_text: str,
        samples: Callable[[], str],
        figures: Callable[[], Mapping[str, bytes]],
    ):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir / "text"))
        self.image_writer = tf.summary.create_file_writer(str(log_dir / "images"))
        self.config_text = config_text
        self.make_samples = samples
        self.make_figures = figures

    def on_train_begin(self, logs=None):
        with self.writer.as_default():
            tf.summary.text("config", self.config_text, step=0)
        self.writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default():
            tf.summary.text("samples", self.make_samples(), step=epoch)
        self.writer.flush()
        figures = self.make_figures()
        if figures:
            with self.image_writer.as_default():
                for name, png in figures.items():
                    image = tf.image.decode_png(png, channels=4)[None]
                    tf.summary.image(name, image, step=epoch)
            self.image_writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()
        self.image_writer.close()
