"""Extractive summarization: pick the sentences of a document that summarize it.

The model is SummaRuNNer (Nallapati et al. 2017): a word-level BiGRU reads
each sentence into a vector (pooled), a sentence-level BiGRU reads the
sentences, and each sentence gets a probability from its content, salience,
novelty against the summary so far, and absolute and relative position.
Each term can be switched off (`--set novelty=false`), for ablations.

Labels are graded by each sentence's own ROUGE against the reference, the
greedy ROUGE oracle's sentences, or human highlights where the data has them
(`aclsum`); the oracle is computed once and cached. The test split is scored
with ROUGE-1/2/L/Lsum F1 and 95% bootstrap intervals, beside Lead-1, Lead-3,
TextRank, random sentences and the oracle, on the same documents.
"""

import dataclasses
import json
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.auto import tqdm

from recurrent.baselines.summarization import (
    greedy_oracle,
    lead,
    random_sentences,
    sentence_rouge,
    textrank,
)
from recurrent.data.cache import cached_json, digest
from recurrent.data.hierarchical import document_batches, nested_ids, sentence_targets
from recurrent.data.sentences import sentences, split_sentences
from recurrent.data.sources import fingerprint, load_splits, parse_spec
from recurrent.data.tokenizers import fit_vocabulary, word_vectorizer
from recurrent.data.word_vectors import read_word_vectors
from recurrent.errors import UserInputError
from recurrent.layers import CELLS
from recurrent.layers.extractive import TERMS, SentenceExtractor
from recurrent.layers.hierarchical import POOLINGS, HierarchicalEncoder
from recurrent.losses import MaskedBinaryCrossentropy
from recurrent.metrics.summarization import (
    paired_difference,
    rouge_per_document,
    rouge_table,
    sentence_f1,
    summarized,
)
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    existing_file,
    inherited_or,
    optimizer,
    read_lines,
)

LABELS = ("auto", "oracle", "soft", "highlights")
# Bumped when the oracle or the sentence splitter changes, so caches renew.
ORACLE_VERSION = "greedy-rouge12-v2"


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of extractive summarization (see `TaskConfig` for the shared ones).

    Attributes:
        document_column: column (or TFDS feature) holding the document.
        summary_column: column holding the reference summary (on
            `bbc_summaries`, `headline` makes the title the target).
        labels: what the model learns to pick: "oracle" (the greedy ROUGE
            oracle's sentences), "soft" (each sentence's own ROUGE-1 + ROUGE-2
            F1 against the reference, divided by the document's best: graded
            targets in [0, 1]), "highlights" (human labels, one 0/1 per line
            of the document, from `highlights_column`), or "auto" (highlights
            on `aclsum`, soft labels elsewhere).
        highlights_column: column holding the human highlights.
        max_tokens: vocabulary size, padding and out-of-vocabulary ids included.
        max_sentences: sentences of a document the model reads and can pick.
        max_words: words of a sentence the model reads.
        embedding_dim: size of the word embeddings.
        embeddings: a word2vec or GloVe text file whose vectors start the
            embeddings ("" starts them at random).
        freeze_embeddings: keep the embeddings fixed while training (the
            file's vectors, or the random start: random vectors keep words
            apart, and a thousand documents overfit trained ones).
        cell: "simple", "lstm" or "gru", at both levels.
        units: hidden size of each direction, at both levels.
        pooling: word states to sentence vector: "mean", "max", "last" or
            "attention".
        word_means: append each sentence's mean word embedding (its bag of
            words) to its pooled vector.
        dropout: dropout on embeddings, sentence vectors and sentence states.
        content, salience, novelty, position, relative_position: the score
            terms of SummaRuNNer that are on.
        position_buckets: segments of a document for the relative position.
        summary_sentences: sentences in a summary; 0 takes the median number
            the oracle picks per training document.
        summary_words: if positive, a summary is the best sentences that fit
            in this many words (at least one) instead of a sentence count.
    """

    epochs: int = 20
    batch_size: int = 16
    learning_rate: float = 1e-3
    patience: int = 3
    document_column: str = "document"
    summary_column: str = "summary"
    labels: str = "auto"
    highlights_column: str = "highlights"
    max_tokens: int = 20000
    max_sentences: int = 50
    max_words: int = 50
    embedding_dim: int = 100
    embeddings: str = ""
    freeze_embeddings: bool = True
    cell: str = "gru"
    units: int = 64
    pooling: str = "mean"
    word_means: bool = False
    dropout: float = 0.3
    content: bool = True
    salience: bool = True
    novelty: bool = True
    position: bool = True
    relative_position: bool = True
    position_buckets: int = 10
    summary_sentences: int = 0
    summary_words: int = 0

    TINY = {
        "max_tokens": 2000,
        "max_sentences": 20,
        "max_words": 20,
        "embedding_dim": 16,
        "units": 8,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            max_tokens=3,
            max_sentences=1,
            max_words=1,
            embedding_dim=1,
            units=1,
            position_buckets=1,
            summary_sentences=0,
            summary_words=0,
        )
        self.in_unit_interval("dropout")
        self.choose(labels=LABELS, cell=CELLS, pooling=POOLINGS)
        if self.summary_sentences and self.summary_words:
            raise UserInputError(
                "a summary is cut by a sentence count or a word budget, not both; "
                "--set summary_sentences=0 or summary_words=0"
            )
        if not self.terms:
            raise UserInputError(
                "every score term is off; turn one on, e.g. --set content=true"
            )

    @property
    def terms(self) -> tuple[str, ...]:
        """The score terms that are on."""
        return tuple(term for term in TERMS if getattr(self, term))


def _document_sentences(documents: Sequence[str]) -> list[list[list[str]]]:
    """Per document, per line, its sentences: a line always ends a sentence,
    so these are the sentences `split_sentences` finds in the whole document."""
    lines = [
        document.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for document in documents
    ]
    flat = sentences([line for row in lines for line in row])
    grouped, start = [], 0
    for row in lines:
        grouped.append(flat[start : start + len(row)])
        start += len(row)
    return grouped


def _highlight_labels(per_line, highlights, row: int, source) -> list[int]:
    """Human 0/1 labels for the sentences of one document: given one per
    non-blank line, copied to every sentence of the line."""
    if isinstance(highlights, str):
        try:
            highlights = json.loads(highlights)
        except ValueError:
            highlights = highlights.split()
    lines = [line for line in per_line if line]
    if len(highlights) != len(lines):
        raise UserInputError(
            f"{source}: document {row} has {len(lines)} non-blank lines but "
            f"{len(highlights)} highlight labels; give one 0/1 label per line"
        )
    return [
        int(label) for line, label in zip(lines, highlights, strict=True) for _ in line
    ]


def _oracle_labels(frames: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, list]]:
    """Per split, the greedy ROUGE oracle's indices (`oracle`) and each
    sentence's own ROUGE-1 + ROUGE-2 F1 (`sentence_rouge`) of every document,
    computed once and cached."""
    key = digest(
        [ORACLE_VERSION]
        + [
            "\n".join(document) + "\0" + summary
            for frame in frames.values()
            for document, summary in zip(
                frame["sentences"], frame["summary"], strict=True
            )
        ]
    )

    def compute():
        labels = {}
        for name, frame in frames.items():
            pairs = zip(frame["sentences"], frame["summary"], strict=True)
            oracle, graded = [], []
            for document, summary in tqdm(
                pairs, total=len(frame), desc=f"oracle labels ({name})", unit="doc"
            ):
                oracle.append(greedy_oracle(document, summary))
                graded.append(sentence_rouge(document, summary))
            labels[name] = {"oracle": oracle, "sentence_rouge": graded}
        return labels

    labels, path = cached_json("oracle", key, compute)
    print(f"oracle labels: {path}")
    return labels


def _indicator(indices: Sequence[int], length: int) -> list[int]:
    chosen = set(indices)
    return [int(i in chosen) for i in range(length)]


class ExtractiveSummarization(Task):
    name = "extractive_summarization"
    summary = TASKS["extractive_summarization"].summary
    default_data = "bbc_summaries"
    Config = Config
    input_help = TASKS["extractive_summarization"].input_help
    serving_endpoint = "summarize"
    inherited_assets = ("vectorizer",)

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        spec = parse_spec(data)
        labels = config.labels
        if labels == "auto":
            bundled_acl = spec.kind == "bundled" and spec.name.startswith("aclsum")
            labels = "highlights" if bundled_acl else "soft"
        columns = {"document": config.document_column, "summary": config.summary_column}
        if labels == "highlights":
            columns["highlights"] = config.highlights_column
        splits = load_splits(
            spec,
            columns,
            key="document",
            hint="Name the columns with --set document_column=NAME "
            "summary_column=NAME (for tfds:cnn_dailymail: document_column=article "
            "summary_column=highlights).",
        )
        splits = {
            name: frame.astype({"document": str, "summary": str})
            for name, frame in splits.items()
        }
        data_fingerprint = fingerprint(splits)
        for name, frame in splits.items():
            per_line = _document_sentences(frame["document"].tolist())
            frame = frame.assign(
                sentences=[[s for line in doc for s in line] for doc in per_line]
            )
            if labels == "highlights":
                frame = frame.assign(
                    highlight_labels=[
                        _highlight_labels(doc, marks, row, f"{spec} ({name} split)")
                        for row, (doc, marks) in enumerate(
                            zip(per_line, frame["highlights"], strict=True)
                        )
                    ]
                )
            empty = frame["sentences"].map(len) == 0
            if empty.any():
                print(f"{name}: dropped {int(empty.sum())} documents with no sentence")
            splits[name] = frame[~empty].reset_index(drop=True)
            if splits[name].empty:
                raise UserInputError(
                    f"{data} has no {name} documents with a sentence; add rows or a "
                    "'split' column"
                )
        oracle = _oracle_labels(splits)
        for name, frame in splits.items():
            splits[name] = frame.assign(**oracle[name])

        def targets(frame: pd.DataFrame) -> list[list[int]]:
            if labels == "highlights":
                return frame["highlight_labels"].tolist()
            if labels == "soft":
                return [
                    [score / max(max(row), 1e-9) for score in row]
                    for row in frame["sentence_rouge"]
                ]
            return [
                _indicator(indices, len(document))
                for indices, document in zip(
                    frame["oracle"], frame["sentences"], strict=True
                )
            ]

        train_sentences = [s for doc in splits["train"]["sentences"] for s in doc]
        if not inherited:
            print(
                f"building the vocabulary from {len(train_sentences)} training "
                "sentences"
            )
        vectorizer = inherited_or(
            inherited,
            "vectorizer",
            lambda: fit_vocabulary(
                word_vectorizer(config.max_tokens, None), train_sentences
            ),
        )
        count = config.summary_sentences
        if not count and not config.summary_words:
            # The oracle's count suits the references, whatever the labels.
            per_document = [len(row) for row in splits["train"]["oracle"]]
            count = max(1, int(np.median(per_document)))
            print(
                f"summaries take {count} sentences: the median number the oracle "
                "picks per training document (--set summary_sentences=N to choose)"
            )

        def dataset(name: str, shuffle: bool) -> tf.data.Dataset:
            frame = splits[name]
            return document_batches(
                nested_ids(
                    vectorizer,
                    frame["sentences"].tolist(),
                    config.max_sentences,
                    config.max_words,
                ),
                sentence_targets(targets(frame), config.max_sentences),
                config.batch_size,
                shuffle,
                config.seed,
                config.max_batches,
            )

        return Prepared(
            train=dataset("train", shuffle=True),
            validation=dataset("validation", shuffle=False),
            splits=splits,
            fingerprint=data_fingerprint,
            assets={
                "vectorizer": vectorizer,
                "labels": labels,
                "summary_sentences": count,
                "summary_words": config.summary_words,
                "max_sentences": config.max_sentences,
                "max_words": config.max_words,
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        vectorizer = prepared.assets["vectorizer"]
        tokens = keras.Input((None, None), dtype="int32", name="tokens")
        embedding = keras.layers.Embedding(
            vectorizer.vocabulary_size(),
            config.embedding_dim,
            mask_zero=True,
            trainable=not config.freeze_embeddings,
            name="embedding",
        )
        x = keras.layers.Dropout(config.dropout)(embedding(tokens))
        states, _ = HierarchicalEncoder(
            config.units,
            cell=config.cell,
            bidirectional=True,
            pooling=config.pooling,
            dropout=config.dropout,
            word_means=config.word_means,
            name="encoder",
        )(x)
        states = keras.layers.Dropout(config.dropout)(states)
        logits = SentenceExtractor(
            config.terms,
            max_positions=config.max_sentences,
            position_buckets=config.position_buckets,
            name="extractor",
        )(states)
        model = keras.Model(tokens, logits, name="summarunner")
        if config.embeddings:
            vectors = read_word_vectors(
                config.embeddings,
                vectorizer.get_vocabulary(),
                config.embedding_dim,
                seed=config.seed,
            )
            print(vectors.summary(config.embeddings))
            embedding.set_weights([vectors.weights])
        model.compile(
            optimizer=optimizer(config, prepared.train), loss=MaskedBinaryCrossentropy()
        )
        return model

    def endpoints(self, model, prepared):
        vectorizer = prepared.assets["vectorizer"]
        max_sentences = prepared.assets["max_sentences"]
        max_words = prepared.assets["max_words"]
        count = prepared.assets["summary_sentences"]
        budget = prepared.assets["summary_words"]

        def summarize(documents):
            """The summary of each raw document (its chosen sentences in
            document order, joined by spaces), and per sentence (the first
            `max_sentences`, split by the rules the model was trained with;
            padded with "" to the longest document): the text, its score
            (probability of belonging to the summary) and whether it was
            chosen. `sentence_count` gives each document's real count."""
            split = split_sentences(documents)[:, :max_sentences]
            words = vectorizer(split.flat_values)[:, :max_words]
            words = tf.RaggedTensor.from_tensor(words, padding=0)
            ids = tf.RaggedTensor.from_row_splits(words, split.row_splits)
            tokens = tf.cast(ids.to_tensor(0), tf.int32)
            # At least one sentence of one word, so an empty batch or document runs.
            shape = tf.shape(tokens)
            tokens = tf.pad(
                tokens,
                [
                    [0, 0],
                    [0, tf.maximum(1 - shape[1], 0)],
                    [0, tf.maximum(1 - shape[2], 0)],
                ],
            )
            texts = split.to_tensor("")
            texts = tf.pad(
                texts, [[0, 0], [0, tf.shape(tokens)[1] - tf.shape(texts)[1]]]
            )
            real = tf.sequence_mask(split.row_lengths(), tf.shape(tokens)[1])
            logits = model(tokens, training=False)
            scores = tf.where(real, tf.sigmoid(logits), 0.0)
            chosen = _chosen(scores, texts, real, count, budget)
            picked = tf.ragged.boolean_mask(texts, chosen)
            return {
                "summary": tf.strings.reduce_join(picked, axis=1, separator=" "),
                "sentences": texts,
                "scores": scores,
                "selected": chosen,
                "sentence_count": tf.cast(split.row_lengths(), tf.int32),
            }

        return {
            "summarize": (
                summarize,
                [tf.TensorSpec([None], tf.string, name="documents")],
            ),
        }

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test = prepared.splits["test"]
        references = test["summary"].tolist()
        documents = test["sentences"].tolist()
        count = prepared.assets["summary_sentences"] or None
        words = prepared.assets["summary_words"] or None
        outputs = predict(test["document"].tolist())
        chosen = {"model": [list(np.flatnonzero(row)) for row in outputs["selected"]]}
        mismatched = sum(
            int(n) != min(len(doc), config.max_sentences)
            for n, doc in zip(outputs["sentence_count"], documents, strict=True)
        )
        if mismatched:  # the export must split as the training data was split
            raise RuntimeError(f"the export split {mismatched} documents differently")
        print("scoring the baselines: Lead-1, Lead-3, TextRank, random, oracle")
        lead_counts = {"lead1": 1, "lead3": 3}
        for name, k in lead_counts.items():
            chosen[name] = [
                lead(doc, k if words is None else None, words) for doc in documents
            ]
        chosen["textrank"] = [textrank(doc, count, words) for doc in documents]
        chosen["random"] = [
            random_sentences(doc, count, words, seed=config.seed + i)
            for i, doc in enumerate(documents)
        ]
        chosen["oracle"] = [list(row) for row in test["oracle"]]
        results, per_document = {}, {}
        for system, indices in chosen.items():
            summaries = [
                "\n".join(doc[i] for i in row)
                for doc, row in zip(documents, indices, strict=True)
            ]
            per_document[system] = rouge_per_document(summaries, references)
            scores = summarized(per_document[system], seed=config.seed)
            scores["mean_sentences"] = float(np.mean([len(row) for row in indices]))
            scores["mean_words"] = float(
                np.mean([len(summary.split()) for summary in summaries])
            )
            if "highlight_labels" in test:
                scores |= sentence_f1(indices, test["highlight_labels"].tolist())
            results[system] = scores
        for system, scores in results.items():
            if system != "model":  # the model's ROUGE-2 gain over this baseline
                gain = paired_difference(
                    per_document["model"]["rouge2"],
                    per_document[system]["rouge2"],
                    seed=config.seed,
                )
                scores |= {
                    "model_rouge2_gain": gain["difference"],
                    "model_rouge2_gain_low": gain["difference_low"],
                    "model_rouge2_gain_high": gain["difference_high"],
                    "documents_model_higher": gain["documents_first_higher"],
                    "documents_baseline_higher": gain["documents_second_higher"],
                }
        metrics = dict(results.pop("model"))
        oracle_rouge2 = results["oracle"]["rouge2"]
        metrics["share_of_oracle_rouge2"] = (
            metrics["rouge2"] / oracle_rouge2 if oracle_rouge2 else float("nan")
        )
        metrics["test_documents"] = len(test)
        metrics["labels"] = prepared.assets["labels"]
        lines = [
            f"test split: {len(test)} documents; summaries of "
            + (f"{count} sentences" if count else f"at most {words} words")
            + f"; model trained on {prepared.assets['labels']} labels",
            "ROUGE F1 (0-100) with 95% bootstrap intervals over documents\n"
            + rouge_table({"model": metrics, **results}),
            f"the model reaches {100 * metrics['share_of_oracle_rouge2']:.1f}% of "
            "the oracle's ROUGE-2",
            "model ROUGE-2 minus each baseline's, paired 95% interval, and the "
            "documents where each is higher:\n"
            + "\n".join(
                f"  {name:<10} {scores['model_rouge2_gain']:+6.2f} "
                f"[{scores['model_rouge2_gain_low']:+.2f}, "
                f"{scores['model_rouge2_gain_high']:+.2f}]  model higher on "
                f"{scores['documents_model_higher']}, {name} on "
                f"{scores['documents_baseline_higher']}"
                for name, scores in results.items()
            ),
        ]
        if "sentence_f1" in metrics:
            lines.append(
                "sentence F1 against the human highlights: "
                + ", ".join(
                    f"{name} {scores['sentence_f1']:.1f}"
                    for name, scores in {"model": metrics, **results}.items()
                )
                + " (the oracle's is its agreement with the annotators)"
            )
        return Evaluation(metrics=metrics, baselines=results, report="\n\n".join(lines))

    def read_inputs(self, values: Sequence[str], input_file=None, metadata=None):
        documents = [value for value in values if value.strip()]
        if input_file:
            text = "\n".join(read_lines(str(existing_file(input_file))))
            if text.strip():
                documents.append(text)
        if not documents:
            raise UserInputError(
                "nothing to summarize: pass one or more documents, or --input FILE "
                "holding one document"
            )
        return documents

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        blocks = []
        for index, summary in enumerate(outputs["summary"]):
            count = int(outputs["sentence_count"][index])
            lines = [f"document {index + 1}: {count} sentences"]
            for text, score, chosen in zip(
                outputs["sentences"][index][:count],
                outputs["scores"][index][:count],
                outputs["selected"][index][:count],
                strict=True,
            ):
                mark = "*" if chosen else " "
                lines.append(f" {mark} {score:.3f}  {text.decode('utf-8')[:100]}")
            lines.append(f"  => {summary.decode('utf-8')}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def samples(self, predict, prepared, count: int = 3, shown: int = 15) -> str:
        frame = prepared.splits["validation"].head(count)
        outputs = predict(frame["document"].tolist())
        blocks = []
        for index, reference in enumerate(frame["summary"]):
            sentences_count = int(outputs["sentence_count"][index])
            rows = [
                f"**Document {index + 1}** ({sentences_count} sentences). "
                f"Reference: {' '.join(reference.split())}",
                "",
                "| | score | sentence |",
                "|---|---|---|",
            ]
            for position in range(min(sentences_count, shown)):
                text = outputs["sentences"][index][position].decode("utf-8")
                text = text.replace("|", "/")[:200]
                score = outputs["scores"][index][position]
                if outputs["selected"][index][position]:
                    rows.append(f"| ✔ {position + 1} | **{score:.3f}** | **{text}** |")
                else:
                    rows.append(f"| {position + 1} | {score:.3f} | {text} |")
            if sentences_count > shown:
                rows.append(f"| ... | | {sentences_count - shown} more sentences |")
            rows.append("")
            rows.append(f"Summary: {outputs['summary'][index].decode('utf-8')}")
            blocks.append("\n".join(rows))
        return "\n\n".join(blocks)

    def sample_inputs(self, prepared, count: int = 2) -> list[str]:
        return prepared.splits["test"]["document"].head(count).tolist()


def _chosen(scores, texts, real, count: int, budget: int) -> tf.Tensor:
    """`[batch, sentences]` booleans: the `count` best-scored real sentences,
    or the best that fit in `budget` words (at least one), as
    `recurrent.baselines.summarization.select` chooses them."""
    ranked_scores = tf.where(real, scores, -1.0)
    order = tf.argsort(ranked_scores, axis=1, direction="DESCENDING", stable=True)
    rank = tf.argsort(order, axis=1, stable=True)  # each sentence's place
    if budget:
        lengths = tf.strings.split(tf.reshape(texts, [-1])).row_lengths()
        lengths = tf.reshape(tf.cast(lengths, tf.int32), tf.shape(texts))
        in_order = tf.gather(lengths, order, batch_dims=1)
        fits = tf.logical_or(
            tf.cumsum(in_order, axis=1) <= budget,
            tf.range(tf.shape(order)[1])[None, :] == 0,
        )
        keep = tf.gather(fits, rank, batch_dims=1)
    else:
        keep = rank < count
    return tf.logical_and(keep, real)


TASK = ExtractiveSummarization()
