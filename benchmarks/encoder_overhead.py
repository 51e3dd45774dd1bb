"""Overhead of `RecurrentEncoder` over Keras' own LSTM layer in a training step.

Both models are a many-to-one LSTM(256) over 128 features with a Dense(1) head,
trained with Adam on the same batches (batch 64). The two are timed in turn in
one process, several rounds of `--steps` training steps each, and the median
time per step of each is compared.

    python benchmarks/encoder_overhead.py [--steps 100] [--rounds 5] [--time 50]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from recurrent.layers import RecurrentEncoder  # noqa: E402


def plain_lstm(time_steps: int, features: int) -> keras.Model:
    inputs = keras.Input((time_steps, features))
    outputs = keras.layers.Dense(1)(keras.layers.LSTM(256)(inputs))
    return keras.Model(inputs, outputs, name="keras_lstm")


def recurrent_encoder(time_steps: int, features: int) -> keras.Model:
    inputs = keras.Input((time_steps, features))
    last, _ = RecurrentEncoder(256, cell="lstm", return_sequences=False)(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(last), name="recurrent_encoder")


def seconds_per_step(model: keras.Model, batches: tf.data.Dataset, steps: int) -> float:
    start = time.perf_counter()
    model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--time", type=int, default=50, help="time steps per sequence")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--features", type=int, default=128)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch * 8, args.time, args.features)).astype("float32")
    y = rng.normal(size=(args.batch * 8, 1)).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch).repeat()

    models = [
        plain_lstm(args.time, args.features),
        recurrent_encoder(args.time, args.features),
    ]
    for model in models:
        model.compile(optimizer="adam", loss="mse")
        seconds_per_step(model, batches, 5)  # trace and warm up
    timings = {model.name: [] for model in models}
    for round_index in range(args.rounds):
        order = models if round_index % 2 == 0 else models[::-1]
        for model in order:
            timings[model.name].append(seconds_per_step(model, batches, args.steps))

    medians = {name: statistics.median(values) for name, values in timings.items()}
    ratio = medians["recurrent_encoder"] / medians["keras_lstm"]
    print(
        f"LSTM(256) many-to-one, batch {args.batch}, {args.time} steps x {args.features} "
        f"features, {args.steps} training steps x {args.rounds} rounds (median)"
    )
    for name, median in medians.items():
        print(f"  {name:<18} {1000 * median:8.2f} ms/step")
    print(
        f"  overhead of RecurrentEncoder: {100 * (ratio - 1):+.1f}% (ratio {ratio:.3f})"
    )


if __name__ == "__main__":
    main()
