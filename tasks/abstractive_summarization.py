"""Abstractive summarization: write a summary, copying rare words from the document.

A bidirectional LSTM reads the document (its first `max_source` tokens); an
attention decoder (Bahdanau ordering) writes the summary, and its output is
chosen by `output`: the pointer-generator of See et al. (2017), the switching
generator-pointer of Nallapati et al. (2016), or the plain vocabulary softmax
(the ablation). Coverage (See et al.) is switched on for the last epochs,
and `latent=gaussian` puts a VAE-style latent vector between encoder and
decoder. Source and summary share one vocabulary, so a copied word is the
same id on both sides, and out-of-vocabulary words are copied as written.

The test split is summarized with beam search (minimum length, length and
coverage penalties, trigram blocking) and scored with ROUGE-1/2/L/Lsum F1 and
95% bootstrap intervals, the share of novel n-grams, the repeated-trigram
rate and the mean length, beside Lead-1, TextRank and the extractive
summarizer's export when one is found. Model, decoding and serving are
`recurrent.models`, `recurrent.decoding` and `recurrent.generation`.
"""

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from recurrent import generation
from recurrent.baselines.summarization import lead, textrank
from recurrent.data.sentences import sentences
from recurrent.data.sources import fingerprint, load_splits
from recurrent.data.tokenizers import token_counts
from recurrent.errors import UserInputError
from recurrent.generation import report
from recurrent.generation.coverage import CoverageSchedule
from recurrent.generation.datasets import copy_texts_dataset, keep_filled_pairs
from recurrent.layers import CELLS
from recurrent.metrics.summarization import (
    generation_statistics,
    paired_difference,
    rouge_per_document,
    rouge_table,
    summarized,
)
from recurrent.models import token_seq2seq
from recurrent.models.seq2seq import OUTPUT_MODES
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    existing_file,
    inherited_or,
    latest_export,
    optimizer,
    read_lines,
)

SPECIALS = {"start": "[START]", "end": "[END]"}
LATENTS = ("none", "gaussian")


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of abstractive summarization (see `TaskConfig` for the shared
    ones; the README's table says what each does).

    Attributes:
        document_column: column (or TFDS feature) holding the document.
        target: column holding the summary to learn ("headline" on
            `bbc_summaries` learns the titles).
        vocabulary: ids of the one vocabulary of documents and summaries
            (padding, unknown, start and end included), from the training
            split.
        max_source: document tokens the encoder reads (the rest is cut).
        max_target: summary tokens trained on (the rest is cut).
        embedding_dim, units, cell, dropout: the encoder-decoder (units: the
            decoder state and the memory width, half per encoder direction).
        output: "pointer" (See et al. 2017), "switch" (Nallapati et al.
            2016) or "vocabulary" (no copying).
        coverage: the decoder carries coverage and trains with its loss.
        coverage_weight: lambda, the weight of the coverage loss.
        coverage_epoch: the first epoch trained with the coverage loss, or 0
            for the epoch after the validation likelihood first stops
            improving.
        latent: "none" or "gaussian" (a VAE-style latent vector).
        latent_dim, kl_anneal_steps, free_bits: the Gaussian latent's size,
            the training steps over which its KL weight rises to 1, and the
            floor of each dimension's KL in nats.
        beam_size, min_length, length_penalty, coverage_penalty, block_ngram:
            beam search (GNMT's alpha and beta; n-grams never repeated).
            `min_length` is lowered to the 5th percentile of the training
            summaries' lengths where they are shorter (headlines).
        extractive_model: an extractive summarization export (or the folder
            of its numbered exports: the latest is used) scored as a
            baseline when it exists ("" skips it).
    """

    epochs: int = 12
    batch_size: int = 16
    learning_rate: float = 1e-3
    patience: int = 3
    document_column: str = "document"
    target: str = "summary"
    vocabulary: int = 10000
    max_source: int = 400
    max_target: int = 50
    embedding_dim: int = 128
    units: int = 128
    cell: str = "lstm"
    dropout: float = 0.1
    output: str = "pointer"
    coverage: bool = True
    coverage_weight: float = 1.0
    coverage_epoch: int = 0
    latent: str = "none"
    latent_dim: int = 32
    kl_anneal_steps: int = 2000
    free_bits: float = 0.1
    beam_size: int = 4
    min_length: int = 8
    length_penalty: float = 0.6
    coverage_penalty: float = 0.0
    block_ngram: int = 3
    extractive_model: str = "saved_models/extractive_summarization"

    TINY = {
        "vocabulary": 800,
        "max_source": 60,
        "max_target": 16,
        "embedding_dim": 16,
        "units": 16,
        "latent_dim": 4,
        "beam_size": 2,
        "min_length": 2,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            vocabulary=6,
            max_source=1,
            max_target=1,
            embedding_dim=1,
            units=2,
            latent_dim=1,
            kl_anneal_steps=0,
            free_bits=0,
            coverage_weight=0,
            coverage_epoch=0,
            beam_size=1,
            min_length=0,
            length_penalty=0,
            coverage_penalty=0,
            block_ngram=0,
        )
        self.in_unit_interval("dropout")
        self.require(
            "units", self.units % 2 == 0, "even (each encoder direction gets half)"
        )
        self.choose(output=OUTPUT_MODES, cell=CELLS, latent=LATENTS)

    def decode_length(self, longest_target: int) -> int:
        """Tokens the decoder may produce, the end token included."""
        return min(self.max_target, longest_target) + 10


def summary_scores(summaries, references, documents) -> tuple[dict, dict]:
    """ROUGE with intervals and the generation statistics of `summaries`, and
    the per-document ROUGE (for paired differences)."""
    per_document = rouge_per_document(summaries, references)
    scores = summarized(per_document)
    return scores | generation_statistics(summaries, documents), per_document


def extractive_summaries(path: Path, documents: list[str]) -> list[str]:
    """The summaries an extractive summarization export writes (loaded as a
    plain SavedModel, its `summarize` signature), in batches."""
    loaded = tf.saved_model.load(str(path))
    summaries = []
    for start in range(0, len(documents), 64):
        outputs = loaded.summarize(tf.constant(documents[start : start + 64]))
        summaries += report.texts(outputs["summary"].numpy())
    return summaries


class AbstractiveSummarization(Task):
    name = "abstractive_summarization"
    summary = TASKS["abstractive_summarization"].summary
    default_data = "bbc_summaries"
    Config = Config
    input_help = TASKS["abstractive_summarization"].input_help
    serving_endpoint = "summarize"
    figure_endpoint = "attention"
    inherited_assets = ("vocabulary",)

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        splits = load_splits(
            data,
            {"document": config.document_column, "summary": config.target},
            key="document",
            hint="Name the columns with --set document_column=NAME target=NAME "
            "(on bbc_summaries, target=headline learns the titles; for "
            "tfds:cnn_dailymail: document_column=article target=highlights).",
        )
        splits = keep_filled_pairs(
            splits, ["document", "summary"], data, "documents or summaries"
        )
        train = splits["train"]
        if not inherited:
            print(f"building the vocabulary from {len(train)} training documents")
        texts = [*train["document"], *train["summary"]]
        vocabulary = inherited_or(
            inherited,
            "vocabulary",
            lambda: generation.Vocabulary.fit(texts, config.vocabulary, SPECIALS),
        )

        def dataset(frame, shuffle: bool = False):
            return copy_texts_dataset(
                frame["document"].tolist(),
                frame["summary"].tolist(),
                vocabulary,
                config.batch_size,
                max_source=config.max_source,
                max_target=config.max_target,
                copying=config.output != "vocabulary",
                shuffle=shuffle,
                seed=config.seed,
                max_batches=config.max_batches,
            )

        lengths = token_counts(train["summary"])
        longest = int(lengths.max())
        shortest_usual = int(np.percentile(lengths, 5))
        return Prepared(
            train=dataset(train, shuffle=True),
            validation=dataset(splits["validation"]),
            test=dataset(splits["test"]),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "vocabulary": vocabulary,
                "max_source": config.max_source,
                "decoding": {
                    "algorithm": "beam",
                    "max_length": config.decode_length(longest),
                    "beam_size": config.beam_size,
                    "alpha": config.length_penalty,
                    "min_length": min(config.min_length, shortest_usual),
                    "coverage_penalty": config.coverage_penalty,
                    "block_ngram": config.block_ngram,
                },
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        size = prepared.assets["vocabulary"].size
        latent = config.latent == "gaussian"
        model = token_seq2seq(
            size,
            size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            dropout=config.dropout,
            share_embeddings=True,
            decoder_options={
                "attention": "bahdanau",
                "ordering": "bahdanau",
                "coverage": config.coverage,
            },
            output_mode=config.output,
            coverage_weight=config.coverage_weight,
            coverage_active=False,
            latent_dim=config.latent_dim if latent else 0,
            latent_options={
                "anneal_steps": config.kl_anneal_steps,
                "free_bits": config.free_bits,
            },
            name="summarizer",
        )
        generation.compile_for_teacher_forcing(model, optimizer(config, prepared.train))
        return model

    def callbacks(self, config, prepared, model):
        if not config.coverage:
            return []
        return [CoverageSchedule(config.coverage_epoch)]

    def endpoints(self, model, prepared):
        assets = prepared.assets
        return generation.TextGenerator(
            model,
            assets["vocabulary"],
            assets["vocabulary"],
            assets["decoding"],
            output="summary",
            max_source=assets["max_source"],
        ).endpoints("summarize", "attention")

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test = prepared.splits["test"]
        documents = test["document"].tolist()
        references = test["summary"].tolist()
        print(f"summarizing {len(test)} test documents (beam {config.beam_size})")
        outputs = report.texts(predict(documents)["summary"])
        metrics, per_document = summary_scores(outputs, references, documents)
        metrics["test_documents"] = len(test)
        print("scoring the baselines: Lead-1, TextRank")
        split = sentences(documents)
        systems = {
            "lead1": [" ".join(doc[i] for i in lead(doc, 1)) for doc in split],
            "textrank": [
                " ".join(doc[i] for i in sorted(textrank(doc, 1))) for doc in split
            ],
        }
        extractive = (
            latest_export(config.extractive_model) if config.extractive_model else None
        )
        if extractive is not None:
            print(f"scoring the extractive summarizer {extractive}")
            systems["extractive"] = extractive_summaries(extractive, documents)
        baselines = {}
        for name, summaries in systems.items():
            scores, per_baseline = summary_scores(summaries, references, documents)
            gain = paired_difference(per_document["rouge2"], per_baseline["rouge2"])
            baselines[name] = scores | {
                "model_rouge2_gain": gain["difference"],
                "model_rouge2_gain_low": gain["difference_low"],
                "model_rouge2_gain_high": gain["difference_high"],
                "documents_model_higher": gain["documents_first_higher"],
                "documents_baseline_higher": gain["documents_second_higher"],
            }
        if extractive is not None:
            baselines["extractive"]["export"] = str(extractive)
        results = {"model": metrics, **baselines}
        statistics = ["novel_1grams", "novel_2grams", "repeated_trigrams", "mean_words"]
        lines = [f"{'system':<12}" + "".join(f"{name:>18}" for name in statistics)]
        for system, scores in results.items():
            cells = "".join(f"{scores[name]:18.2f}" for name in statistics)
            lines.append(f"{system:<12}{cells}")
        gains = [
            f"model ROUGE-2 minus {name}: {b['model_rouge2_gain']:+.2f} "
            f"[{b['model_rouge2_gain_low']:+.2f}, {b['model_rouge2_gain_high']:+.2f}] "
            f"(documents higher: model {b['documents_model_higher']}, "
            f"{name} {b['documents_baseline_higher']})"
            for name, b in baselines.items()
        ]
        shown = {"document": [d[:300] for d in documents], "reference": references}
        text = "\n\n".join(
            [
                f"test split: {len(test)} documents",
                "ROUGE F1 (0-100) with 95% bootstrap intervals over documents\n"
                + rouge_table(results),
                "novel n-grams and repeated trigrams (% of the summary's), length "
                "in words\n" + "\n".join(lines),
                "\n".join(gains),
                report.examples({**shown, "summary": outputs}),
            ]
        )
        return Evaluation(metrics=metrics, baselines=baselines, report=text)

    def read_inputs(self, values, input_file=None, metadata=None) -> list[str]:
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
        summaries = report.texts(outputs["summary"])
        return "\n\n".join(
            f"document {index + 1}: {' '.join(text.split())[:200]}\n  => {summary}"
            for index, (text, summary) in enumerate(zip(inputs, summaries, strict=True))
        )

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        outputs = report.texts(predict(shown["document"].tolist())["summary"])
        documents = [
            " ".join(text.split())[:300] + " ..." for text in shown["document"]
        ]
        columns = {"document": documents, "reference": shown["summary"]}
        return report.markdown_table({**columns, "summary": outputs})

    def figures(self, predict, prepared, count: int = 3) -> dict:
        documents = prepared.splits["validation"]["document"].head(count).tolist()
        outputs = predict(documents)
        figures = report.attention_figures(outputs, documents, widest=80)
        if "p_gen" in outputs:  # the source shaded by what the summary copied
            figures |= report.copy_figures(outputs, documents)
        return figures

    def sample_inputs(self, prepared, count: int = 2) -> list[str]:
        return prepared.splits["test"]["document"].head(count).tolist()


TASK = AbstractiveSummarization()
