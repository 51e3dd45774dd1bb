"""Translation of software strings: do format placeholders survive?

Builds an English-Spanish set of user-interface strings from compiled gettext
catalogs (`.mo` files: msgid -> msgstr, read with the standard library's
`gettext`), such as those of a Django wheel (`pip download django --no-deps`)
and of the system (`/usr/share/locale/es/LC_MESSAGES`), and writes it as a
tab-separated file the translation pipeline reads.

1. Tokenizer round trip, no model: the share of test references whose
   placeholders survive splitting and joining, with the earlier tokenizer
   (every punctuation mark split, joined by rule) and with this one.
2. With `--train`: trains the translation model on the set with stand-ins and
   unknown-word replacement on (the defaults) and off, and scores each on the
   test split: BLEU, chrF and placeholder preservation.

    python benchmarks/software_strings.py --catalogs Django-5.1-py3-none-any.whl \\
        /usr/share/locale/es/LC_MESSAGES [--train] [--set key=value ...]
"""

import argparse
import gettext
import io
import os
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from pipelines.runner.config import resolve  # noqa: E402
from pipelines.runner.train import in_memory_predictor  # noqa: E402
from recurrent.data.tokenizers import join_tokens, split_punctuation  # noqa: E402
from recurrent.metrics.generation import placeholder_preservation  # noqa: E402
from tasks.translation import TASK, copy_source_scores  # noqa: E402

SYSTEMS = {
    "stand-ins + unknown replacement (default)": {},
    "neither": {"placeholders": "false", "replace_unknown": "false"},
}


def catalogs(paths):
    """(name, .mo bytes) of Spanish catalogs in folders, .mo files and wheels."""
    for path in map(Path, paths):
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if "/es/LC_MESSAGES/" in name and name.endswith(".mo"):
                        yield name, archive.read(name)
        elif path.is_dir():
            for file in sorted(path.rglob("*.mo")):
                yield str(file), file.read_bytes()
        else:
            yield str(path), path.read_bytes()


# strings pandas reads as missing values: a file holding them loses those rows
MISSING = {"", "NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "<NA>", "#N/A"}


def pairs(paths) -> dict[str, str]:
    """msgid -> msgstr, one line each; plural forms, headers and the ISO
    catalogs (names of countries and languages, not interface strings) left out."""
    found = {}
    for name, data in catalogs(paths):
        if Path(name).name.startswith("iso"):
            continue
        catalog = gettext.GNUTranslations(io.BytesIO(data))._catalog
        for source, target in catalog.items():
            if not isinstance(source, str) or not source or not target:
                continue
            source = source.split("\x04")[-1]  # drop a message context
            if "\n" in source or "\n" in target or "\t" in source + target:
                continue
            if source.strip() not in MISSING and target.strip() not in MISSING:
                found.setdefault(source.strip(), target.strip())
    return found


def old_round_trip(texts):
    """The earlier tokenizer: every punctuation mark split off, joined by rule."""
    spaced = tf.strings.regex_replace(texts, r"([\p{P}\p{S}])", r" \1 ")
    tokens = tf.strings.split(tf.strings.strip(spaced)).to_tensor("")
    text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
    text = tf.strings.regex_replace(text, r" ([.,;:!?)\]»])", r"\1")
    return tf.strings.regex_replace(text, r"([¿¡(\[«]) ", r"\1")


def new_round_trip(texts):
    """This tokenizer, joined by rule (no source spacing)."""
    tokens = tf.strings.split(split_punctuation(texts)).to_tensor("")
    return join_tokens(tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogs", nargs="+", required=True)
    parser.add_argument("--output", default="software_strings.tsv")
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--set", nargs="*", default=[], help="extra key=value settings")
    args = parser.parse_args()

    found = pairs(args.catalogs)
    Path(args.output).write_text(
        "".join(f"{s}\t{t}\n" for s, t in found.items()), encoding="utf-8"
    )
    print(f"{len(found)} English-Spanish strings written to {args.output}")
    base = resolve(TASK.Config, assignments=args.set)
    prepared = TASK.prepare(base, args.output)
    test = prepared.splits["test"]
    references = test["target"].tolist()
    for name, round_trip in [("earlier", old_round_trip), ("this", new_round_trip)]:
        joined = [t.decode() for t in round_trip(tf.constant(references)).numpy()]
        kept = placeholder_preservation(references, joined)
        exact = sum(a == b for a, b in zip(joined, references, strict=True))
        print(
            f"{name} tokenizer, test references split and joined: placeholders "
            f"kept {kept.get('placeholder_preservation', float('nan')):.1f}% of "
            f"{kept.get('placeholder_pairs', 0)}; text unchanged {exact}/{len(test)}"
        )
    print(f"copy the source: {copy_source_scores(test)}")
    if not args.train:
        return
    for system, settings in SYSTEMS.items():
        config = resolve(
            TASK.Config,
            base=base.to_dict(),
            assignments=[f"{key}={value}" for key, value in settings.items()],
        )
        prepared = TASK.prepare(config, args.output)
        keras.utils.set_random_seed(config.seed)
        model = TASK.build_model(config, prepared)
        start = time.perf_counter()
        stop = keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True
        )
        history = model.fit(
            prepared.train,
            validation_data=prepared.validation,
            epochs=config.epochs,
            callbacks=[stop],
            verbose=2,
            shuffle=False,
        )
        losses = history.history["val_loss"]
        predict = in_memory_predictor(TASK, model, prepared)
        scores = TASK.evaluate(predict, prepared, config).metrics
        print(
            f"{system}: {scores} best epoch {losses.index(min(losses)) + 1} of "
            f"{len(losses)} ({(time.perf_counter() - start) / 60:.1f} min)"
        )


if __name__ == "__main__":
    main()
