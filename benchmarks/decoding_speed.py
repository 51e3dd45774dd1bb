"""Compiled decoding against an eager Python loop over the same `decode_step`.

A `Seq2Seq` the size of the translation default (bidirectional LSTM encoder,
LSTM decoder with global attention, 256 units, 10,000 target words; weights
untrained, which does not change the work done) decodes a batch of 32 source
sentences of 30 tokens for 50 steps:

- greedy: a Python `for` loop calling `model.decode_step` eagerly, against
  `recurrent.decoding.greedy_search` traced into one `tf.function`;
- beam (size 4, length penalty 0.6): the same `beam_search` called eagerly (its
  `keras.ops.while_loop` then runs step by step in Python) and traced, with
  early exit (the default) and at full length (`early_exit=False`). The model
  is untrained, so its end token is no likelier than any other word and early
  exit rarely fires: both rows do about the same work, and the early-exit row
  measures what its check costs.

A last line times the floor under compiled beam search: the same 50
`decode_step` calls on 32 x 4 rows in a graph, with nothing else.

Each is compiled twice: as a TensorFlow graph (`tf.function`, what the
SavedModel exports run) and with XLA (`tf.function(jit_compile=True)`, which
fuses the element-wise work over the vocabulary). Rounds alternate eager, graph
and XLA in one process; the fastest round of each is compared (the least
disturbed, as `timeit` advises), and the median too.

    python benchmarks/decoding_speed.py [--rounds 5] [--batch 32] [--steps 50]
"""

import argparse
import functools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from recurrent import models  # noqa: E402
from recurrent.decoding import beam_search, greedy_search  # noqa: E402

START, END = 2, 3


def build_model():
    """The translation default's size, with global attention."""
    if hasattr(models, "token_seq2seq"):  # pluggable encoders
        return models.token_seq2seq(
            8000, 10000, 256, 256, decoder_options={"attention": "global"}
        )
    return models.Seq2Seq(8000, 10000, 256, 256, attention="global")


def step_function(model):
    """`step_fn(tokens, state, step)` over `decode_step`, which needs no step."""
    return lambda tokens, state, step: model.decode_step(tokens, state)


def eager_greedy(model, source, steps):
    """The baseline: one eager `decode_step` call per step from Python."""
    state = model.encode(source)
    tokens = ops.full((ops.shape(source)[0],), START, dtype="int32")
    outputs = []
    for _ in range(steps):
        log_probs, state = model.decode_step(tokens, state)
        tokens = ops.cast(ops.argmax(log_probs, axis=-1), "int32")
        outputs.append(tokens)
    return ops.stack(outputs, axis=1)


def greedy(model, source, steps):
    start = ops.full((ops.shape(source)[0],), START, dtype="int32")
    step_fn = step_function(model)
    return greedy_search(step_fn, model.encode(source), start, END, steps)


def beam(model, source, steps, early_exit=True):
    start = ops.full((ops.shape(source)[0],), START, dtype="int32")
    return beam_search(
        step_function(model),
        model.encode(source),
        start,
        END,
        steps,
        beam_size=4,
        early_exit=early_exit,
    )["tokens"]


def model_steps(model, source, steps, beam_size=4):
    """The floor under compiled beam search: `steps` calls of `decode_step` on
    `beam_size` copies of each row, arg-max fed back, nothing else."""
    state = model.encode(source)
    state = keras.tree.map_structure(lambda x: ops.repeat(x, beam_size, axis=0), state)
    tokens = ops.full((ops.shape(source)[0] * beam_size,), START, dtype="int32")

    def body(step, carry):
        tokens, state = carry
        log_probs, state = model.decode_step(tokens, state)
        return ops.cast(ops.argmax(log_probs, axis=-1), "int32"), state

    return ops.fori_loop(0, steps, body, (tokens, state))[0]


def seconds(function, *args) -> float:
    start = time.perf_counter()
    np.asarray(function(*args))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--source-length", type=int, default=30)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build_model()
    rng = np.random.default_rng(0)
    source = tf.constant(
        rng.integers(4, 8000, size=(args.batch, args.source_length)), tf.int32
    )
    steps = args.steps
    decoders = {
        "greedy": (
            functools.partial(eager_greedy, model, steps=steps),
            functools.partial(greedy, model, steps=steps),
        ),
        # The same function: called eagerly, its while_loop steps from Python.
        "beam 4, early exit": (
            functools.partial(beam, model, steps=steps),
            functools.partial(beam, model, steps=steps),
        ),
        "beam 4, full length": (
            functools.partial(beam, model, steps=steps, early_exit=False),
            functools.partial(beam, model, steps=steps, early_exit=False),
        ),
    }
    print(
        f"batch {args.batch}, {args.source_length} source tokens, {steps} steps, "
        f"{args.rounds} rounds; seconds per batch by round"
    )
    print(
        "| decoding | eager Python loop | graph | XLA "
        "| eager / graph (fastest, median) | eager / XLA (fastest, median) |"
    )
    print("|---|---|---|---|---|---|")
    for name, (eager, traced) in decoders.items():
        runners = {
            "eager": eager,
            "graph": tf.function(traced),
            "xla": tf.function(traced, jit_compile=True),
        }
        seconds(runners["graph"], source)  # trace (and compile) before timing
        seconds(runners["xla"], source)
        times = {key: [] for key in runners}
        for _ in range(args.rounds):
            for key, runner in runners.items():
                times[key].append(seconds(runner, source))

        def ratio(key, times=times):
            fastest = min(times["eager"]) / min(times[key])
            median = statistics.median(times["eager"]) / statistics.median(times[key])
            return f"**{fastest:.1f}x**, {median:.1f}x"

        rounds = {
            key: " ".join(f"{t:.2f}" for t in value) for key, value in times.items()
        }
        print(
            f"| {name} | {rounds['eager']} | {rounds['graph']} | {rounds['xla']} "
            f"| {ratio('graph')} | {ratio('xla')} |"
        )
    floor = tf.function(functools.partial(model_steps, model, steps=steps))
    seconds(floor, source)
    fastest = min(seconds(floor, source) for _ in range(args.rounds))
    print(
        f"\n{steps} `decode_step` calls on {args.batch} x 4 rows alone, graph, "
        f"fastest round: {fastest:.2f} s"
    )


if __name__ == "__main__":
    main()
