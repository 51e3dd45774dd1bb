"""Batch-1 latency of an exported text classifier for a short and a long text.

Loads the SavedModel with TensorFlow alone (as a server would) and calls its
`serve` signature with one text of 10 words and one of 400 words, alternating,
after a warm-up call of each. Prints the median and fastest milliseconds of each
and their ratio.

    python benchmarks/classifier_latency.py saved_models/text_classification/1 [--calls 200]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

WORDS = ["the", "government", "said", "shares", "in", "the", "company", "rose"]


def text_of(words: int) -> tf.Tensor:
    return tf.constant([" ".join(WORDS[i % len(WORDS)] for i in range(words))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("--calls", type=int, default=200)
    arguments = parser.parse_args()
    serve = tf.saved_model.load(arguments.export).signatures["serve"]
    texts = {10: text_of(10), 400: text_of(400)}
    for text in texts.values():
        serve(texts=text)
    times = {words: [] for words in texts}
    for _ in range(arguments.calls):
        for words, text in texts.items():
            start = time.perf_counter()
            serve(texts=text)
            times[words].append(1000 * (time.perf_counter() - start))
    for words, values in times.items():
        print(
            f"{words:>3} words: median {np.median(values):.2f} ms, "
            f"fastest {np.min(values):.2f} ms"
        )
    print(
        f"400 words / 10 words: {np.median(times[400]) / np.median(times[10]):.1f}x "
        "by median"
    )


if __name__ == "__main__":
    main()
