"""Overhead of `RecurrentEncoder` over Keras' own LSTM layer in a training step.

Both models are a many-to-one LSTM(256) over 128 features with a Dense(1) head,
trained with Adam on the same batches (batch 64). The two are timed in turn in
one process, `--rounds` rounds of `--steps` training steps each. On shared
virtual machines the wall time of a round can double when the host takes the
CPU away, so two robust figures are compared: the fastest round's wall time per
step (the least disturbed run, as `timeit` advises) and the median CPU time per
step of the process, which time taken by the host does not inflate.

    python benchmarks/encoder_overhead.py [--steps 100] [--rounds 10] [--time 50]
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


def seconds_per_step(model: keras.Model, batches: tf.data.Dataset, steps: int):
    """(wall seconds, process CPU seconds) per training step."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
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

    print(
        f"LSTM(256) many-to-one, batch {args.batch}, {args.time} steps x {args.features} "
        f"features, {args.rounds} rounds of {args.steps} training steps"
    )
    fastest, cpu = {}, {}
    for name, values in timings.items():
        walls = [wall for wall, _ in values]
        fastest[name] = min(walls)
        cpu[name] = statistics.median(cpu_time for _, cpu_time in values)
        rounds = " ".join(f"{1000 * wall:.0f}" for wall in walls)
        print(f"  {name:<18} wall ms/step by round: {rounds}")
        print(
            f"  {name:<18} fastest round {1000 * fastest[name]:.1f} ms/step, "
            f"median CPU {1000 * cpu[name]:.1f} ms/step"
        )
    for label, figures in (("fastest wall time", fastest), ("median CPU time", cpu)):
        ratio = figures["recurrent_encoder"] / figures["keras_lstm"]
        print(
            f"  RecurrentEncoder / LSTM, {label}: {ratio:.3f} ({100 * (ratio - 1):+.1f}%)"
        )


if __name__ == "__main__":
    main()
