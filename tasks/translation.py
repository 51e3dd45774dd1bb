"""Translation: a recurrent encoder-decoder with Luong global or local attention.

The source is read by a (bidirectional) LSTM or GRU; the decoder attends over
its outputs with global attention (score dot, general or concat), local
attention (local-m or local-p, window D) or none (Luong et al. 2015). Tokens
are words and punctuation marks, case kept (see `recurrent.data.tokenizers`).
The test split is translated with beam search and scored with sacrebleu's BLEU
and chrF, beside the copy-the-source baseline (the source sentence given as
its own translation, which scores the words the languages share: names,
numbers, punctuation).

The export translates raw strings with beam search inside the graph
(`translate`) and can return the attention weights too (`attention`).
"""

import dataclasses
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from recurrent.choices import lookup
from recurrent.data.sources import fingerprint, load_splits
from recurrent.data.tokenizers import join_tokens, split_punctuation
from recurrent.decoding import beam_search
from recurrent.errors import UserInputError
from recurrent.layers import CELLS
from recurrent.layers.attention import LOCAL_MODES, SCORES
from recurrent.layers.decoder import BRIDGES
from recurrent.metrics.generation import bleu_chrf
from recurrent.metrics.report import side_by_side
from recurrent.models import Seq2Seq
from recurrent.plots import attention_figure
from tasks import TASKS
from tasks.base import Evaluation, Prepared, Task, TaskConfig, optimizer, read_lines

ATTENTIONS = ("none", "global", "local")
START_TOKEN, END_TOKEN = "[START]", "[END]"
START_ID, END_ID = 2, 3  # after padding (0) and out-of-vocabulary (1)
BUCKET_WIDTH = 8


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of translation (see `TaskConfig` for the shared ones).

    Attributes:
        source_column: column (or TFDS feature) of the source sentences.
        target_column: column (or TFDS feature) of their translations.
        source_vocabulary: source vocabulary size, padding and unknown included.
        target_vocabulary: target vocabulary size, padding, unknown, start and
            end included.
        max_length: pairs with more tokens than this on either side are left
            out of every split.
        embedding_dim: size of the source and target embeddings.
        units: decoder state size and memory width (each encoder direction has
            half when bidirectional).
        cell: "lstm", "gru" or "simple".
        encoder_layers: stacked encoder layers.
        bidirectional: read the source in both directions.
        bridge: how encoder states start the decoder: "dense", "copy", "zero".
        attention: "global", "local" or "none".
        score: "dot", "general" or "concat".
        local_mode: "predictive" (local-p) or "monotonic" (local-m).
        window: half width D of the local window.
        input_feeding: feed the previous attentional vector into each step.
        dropout: dropout on source embeddings and attentional vectors.
        beam_size: beams kept while translating (1: greedy).
        length_penalty: GNMT length penalty exponent alpha (0: none).
        block_ngram: ban repeating n-grams of this size (0: off).
    """

    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    patience: int = 2
    source_column: str = "source"
    target_column: str = "target"
    source_vocabulary: int = 8000
    target_vocabulary: int = 10000
    max_length: int = 30
    embedding_dim: int = 256
    units: int = 256
    cell: str = "lstm"
    encoder_layers: int = 1
    bidirectional: bool = True
    bridge: str = "dense"
    attention: str = "global"
    score: str = "general"
    local_mode: str = "predictive"
    window: int = 10
    input_feeding: bool = False
    dropout: float = 0.1
    beam_size: int = 4
    length_penalty: float = 0.6
    block_ngram: int = 0

    TINY = {
        "source_vocabulary": 600,
        "target_vocabulary": 600,
        "max_length": 16,
        "embedding_dim": 16,
        "units": 16,
        "beam_size": 2,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            source_vocabulary=3,
            target_vocabulary=5,
            max_length=1,
            embedding_dim=1,
            units=2,
            encoder_layers=1,
            window=0,
            beam_size=1,
            block_ngram=0,
            length_penalty=0,
        )
        self.in_unit_interval("dropout")
        self.require(
            "units",
            not (self.bidirectional and self.units % 2),
            "even for a bidirectional encoder (each direction gets half)",
        )
        lookup(dict.fromkeys(ATTENTIONS), self.attention, "attention")
        lookup(dict.fromkeys(SCORES), self.score, "score")
        lookup(dict.fromkeys(LOCAL_MODES), self.local_mode, "local_mode")
        lookup(dict.fromkeys(BRIDGES), self.bridge, "bridge")
        lookup(CELLS, self.cell, "cell")

    def decode_length(self, longest_target: int) -> int:
        """Tokens the decoder may produce, the end token included: the longest
        training target (in tokens, at most `max_length`) and 10 more."""
        return min(self.max_length, longest_target) + 10


def token_counts(texts: Sequence[str]) -> np.ndarray:
    """Number of word and punctuation tokens of each text."""
    tokens = tf.strings.split(split_punctuation(tf.constant(list(texts), tf.string)))
    return tokens.row_lengths().numpy()


def fit_vectorizer(
    texts: Sequence[str], size: int, specials: Sequence[str] = ()
) -> keras.layers.TextVectorization:
    """A word vectorizer of at most `size` ids fitted on `texts`: padding 0,
    unknown 1, then `specials`, then the most frequent tokens."""
    counting = keras.layers.TextVectorization(
        max_tokens=size - len(specials), standardize=None, split="whitespace"
    )
    counting.adapt(
        tf.data.Dataset.from_tensor_slices(list(texts))
        .batch(512)
        .map(split_punctuation)
    )
    words = counting.get_vocabulary()[2:]
    return keras.layers.TextVectorization(
        standardize=None,
        split="whitespace",
        vocabulary=[*specials, *words],
        ragged=True,
    )


def encode_texts(vectorizer, spaced) -> tf.Tensor:
    """Strings with punctuation split off (`split_punctuation`) -> `[batch,
    tokens]` int32 ids, zero-padded."""
    return tf.cast(vectorizer(spaced).to_tensor(), tf.int32)


def bucket_boundaries(lengths: np.ndarray) -> list[int]:
    """Every `BUCKET_WIDTH` tokens up to the longest of `lengths`, the pairs'
    lengths: as many buckets as the data fills, whatever `max_length` allows."""
    return list(range(BUCKET_WIDTH, int(lengths.max(initial=0)) + 1, BUCKET_WIDTH))


def pairs_dataset(
    source_ids: tf.RaggedTensor,
    target_ids: tf.RaggedTensor,
    config: Config,
    shuffle: bool,
) -> tf.data.Dataset:
    """Teacher-forcing batches `({"source", "target_in"}, target_out, weights)`.

    Pairs of similar length are batched together (`bucket_boundaries`), so
    little of each batch is padding.
    """
    dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids))
    if shuffle:
        dataset = dataset.shuffle(
            int(source_ids.nrows()), seed=config.seed, reshuffle_each_iteration=True
        )

    def teacher_forcing(source, target):
        start = tf.constant([START_ID], tf.int64)
        end = tf.constant([END_ID], tf.int64)
        return source, tf.concat([start, target], 0), tf.concat([target, end], 0)

    # Each bucket yields full batches, then its remainder: a count known ahead.
    lengths = np.maximum(
        source_ids.row_lengths().numpy(), target_ids.row_lengths().numpy() + 1
    )
    boundaries = bucket_boundaries(lengths)
    per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"))
    batches = int(np.ceil(per_bucket / config.batch_size).sum())
    dataset = dataset.map(teacher_forcing).bucket_by_sequence_length(
        lambda source, target_in, _: tf.maximum(tf.size(source), tf.size(target_in)),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[config.batch_size] * (len(boundaries) + 1),
    )

    def model_inputs(source, target_in, target_out):
        weights = tf.cast(target_out > 0, tf.float32)
        inputs = {
            "source": tf.cast(source, tf.int32),
            "target_in": tf.cast(target_in, tf.int32),
        }
        return inputs, tf.cast(target_out, tf.int32), weights

    dataset = dataset.map(model_inputs).apply(
        tf.data.experimental.assert_cardinality(batches)
    )
    if config.max_batches > 0:
        dataset = dataset.take(config.max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def copy_source_scores(test) -> dict[str, float]:
    """The baseline: each source sentence offered as its own translation."""
    return bleu_chrf(test["source"].tolist(), test["target"].tolist())


class Translation(Task):
    name = "translation"
    summary = TASKS["translation"].summary
    default_data = "bible_parallel"
    Config = Config
    input_help = TASKS["translation"].input_help
    serving_endpoint = "translate"
    figure_endpoint = "attention"

    def prepare(self, config: Config, data: str) -> Prepared:
        splits = load_splits(
            data,
            {"source": config.source_column, "target": config.target_column},
            key="source",
            hint="Name the columns with --set source_column=NAME target_column=NAME "
            "(for tfds:ted_hrlr_translate/pt_to_en: source_column=pt target_column=en).",
            positional=True,
        )
        for name, frame in splits.items():
            frame = frame.astype({"source": str, "target": str})
            keep = (token_counts(frame["source"]) <= config.max_length) & (
                token_counts(frame["target"]) <= config.max_length
            )
            keep &= (frame["source"].str.strip() != "") & (
                frame["target"].str.strip() != ""
            )
            print(
                f"{name}: {int(keep.sum())} pairs of at most {config.max_length} tokens "
                f"({int((~keep).sum())} longer or empty left out)"
            )
            splits[name] = frame[keep].reset_index(drop=True)
            if splits[name].empty:
                raise UserInputError(
                    f"{data} has no {name} pairs of at most {config.max_length} tokens; "
                    "raise --set max_length or add data"
                )
        train = splits["train"]
        print(f"building vocabularies from {len(train)} training pairs")
        source_vectorizer = fit_vectorizer(train["source"], config.source_vocabulary)
        target_vectorizer = fit_vectorizer(
            train["target"], config.target_vocabulary, (START_TOKEN, END_TOKEN)
        )

        def dataset(frame, shuffle: bool) -> tf.data.Dataset:
            return pairs_dataset(
                source_vectorizer(split_punctuation(frame["source"].tolist())),
                target_vectorizer(split_punctuation(frame["target"].tolist())),
                config,
                shuffle,
            )

        return Prepared(
            train=dataset(train, shuffle=True),
            validation=dataset(splits["validation"], shuffle=False),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "source_vectorizer": source_vectorizer,
                "target_vectorizer": target_vectorizer,
                "decoding": {
                    "max_length": config.decode_length(
                        int(token_counts(train["target"]).max())
                    ),
                    "beam_size": config.beam_size,
                    "length_penalty": config.length_penalty,
                    "block_ngram": config.block_ngram,
                },
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        model = Seq2Seq(
            prepared.assets["source_vectorizer"].vocabulary_size(),
            prepared.assets["target_vectorizer"].vocabulary_size(),
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            encoder_layers=config.encoder_layers,
            bidirectional=config.bidirectional,
            bridge=config.bridge,
            attention=config.attention,
            score=config.score,
            local_mode=config.local_mode,
            window=config.window,
            input_feeding=config.input_feeding,
            dropout=config.dropout,
            name="translator",
        )
        model.build({"source": (None, None), "target_in": (None, None)})
        model.compile(
            optimizer=optimizer(config),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )
        return model

    def endpoints(self, model, prepared):
        decoding = prepared.assets["decoding"]
        source_vectorizer = prepared.assets["source_vectorizer"]
        target_words = tf.constant(
            prepared.assets["target_vectorizer"].get_vocabulary()
        )

        # Padding and the start token are never produced.
        never = tf.one_hot([0, START_ID], len(target_words.numpy()))
        banned = tf.reduce_sum(never, axis=0) * -1e9

        def step(tokens, state):
            log_probs, state = model.decode_step(tokens, state)
            return log_probs + banned, state

        def decode(source):
            """`[batch, source]` ids -> (`[batch, steps]` tokens, `[batch]` scores)."""
            state = model.encode(source)
            start = tf.fill(tf.shape(source)[:1], START_ID)
            tokens, scores = beam_search(
                step,
                state,
                start,
                END_ID,
                decoding["max_length"],
                beam_size=decoding["beam_size"],
                alpha=decoding["length_penalty"],
                block_ngram=decoding["block_ngram"],
            )
            # A text of no words translates to nothing: the end token, score 0.
            empty = tf.reduce_all(source == 0, axis=1)
            tokens = tf.where(empty[:, None], END_ID, tokens)
            return tokens, tf.where(empty, 0.0, scores)

        def output_words(tokens):
            """Target words of each step up to the end token; "" after it."""
            ended = tf.cumsum(tf.cast(tokens == END_ID, tf.int32), axis=1) > 0
            keep = tf.logical_and(tf.logical_not(ended), tokens > 0)
            return tf.where(keep, tf.gather(target_words, tokens), "")

        def translate(texts):
            spaced = split_punctuation(texts)
            tokens, scores = decode(encode_texts(source_vectorizer, spaced))
            return {"translation": join_tokens(output_words(tokens)), "score": scores}

        def attention(texts):
            spaced = split_punctuation(texts)
            source = encode_texts(source_vectorizer, spaced)
            tokens, scores = decode(source)
            start = tf.fill(tf.shape(tokens[:, :1]), START_ID)
            weights = model.attention_weights(
                source, tf.concat([start, tokens[:, :-1]], axis=1)
            )
            # Steps up to and including the first end token; none after it.
            is_end = tf.cast(tokens == END_ID, tf.int32)
            produced = tf.cumsum(is_end, axis=1, exclusive=True) == 0
            words = output_words(tokens)
            return {
                "translation": join_tokens(words),
                "score": scores,
                # The words as written (rare ones too, not the unknown token).
                "source_tokens": tf.strings.split(spaced).to_tensor(""),
                "output_tokens": tf.where(
                    tf.logical_and(produced, is_end > 0), END_TOKEN, words
                ),
                "weights": weights * tf.cast(produced, weights.dtype)[:, :, None],
            }

        texts = [tf.TensorSpec([None], tf.string, name="texts")]
        return {"translate": (translate, texts), "attention": (attention, texts)}

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test = prepared.splits["test"]
        print(
            f"translating {len(test)} test sentences (beam {config.beam_size}, "
            f"alpha {config.length_penalty})"
        )
        translations = [
            text.decode("utf-8")
            for text in predict(test["source"].tolist())["translation"]
        ]
        metrics = bleu_chrf(translations, test["target"].tolist())
        metrics["test_pairs"] = len(test)
        baselines = {"copy_source": copy_source_scores(test)}
        examples = "\n\n".join(
            f"source:      {source}\nreference:   {target}\ntranslation: {output}"
            for source, target, output in list(
                zip(test["source"], test["target"], translations, strict=True)
            )[:3]
        )
        report = "\n\n".join(
            [
                f"test split: {len(test)} sentence pairs",
                side_by_side(
                    {"model": metrics, "copy_source": baselines["copy_source"]}
                ),
                examples,
            ]
        )
        return Evaluation(metrics=metrics, baselines=baselines, report=report)

    def read_inputs(self, values, input_file=None, metadata=None) -> list[str]:
        lines = read_lines(input_file) if input_file else []
        texts = [value for value in [*values, *lines] if value.strip()]
        if not texts:
            raise UserInputError(
                "nothing to translate: pass one or more sentences, "
                "or --input FILE with one per line"
            )
        return texts

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        return "\n".join(
            f"{text}\n  => {translation.decode('utf-8')}"
            for text, translation in zip(inputs, outputs["translation"], strict=True)
        )

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        outputs = predict(shown["source"].tolist())["translation"]
        rows = ["| source | reference | translation |", "|---|---|---|"]
        for source, target, output in zip(
            shown["source"], shown["target"], outputs, strict=True
        ):
            cells = [source, target, output.decode("utf-8")]
            rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        return "\n".join(rows)

    def figures(self, predict, prepared, count: int = 3) -> dict:
        sources = prepared.splits["test"]["source"].head(count).tolist()
        outputs = predict(sources)
        figures = {}
        for index, source in enumerate(sources):
            source_tokens = [t.decode() for t in outputs["source_tokens"][index] if t]
            output_tokens = [t.decode() for t in outputs["output_tokens"][index] if t]
            weights = outputs["weights"][index][
                : len(output_tokens), : len(source_tokens)
            ]
            figures[f"attention_{index}"] = attention_figure(
                weights, source_tokens, output_tokens, title=source[:100]
            )
        return figures

    def sample_inputs(self, prepared, count: int = 3) -> list[str]:
        return prepared.splits["test"]["source"].head(count).tolist()


TASK = Translation()
