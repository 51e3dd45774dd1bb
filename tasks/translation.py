"""Translation: a recurrent encoder-decoder with Luong global or local attention.

A (bidirectional) LSTM or GRU reads the source; the decoder attends over it
with global (dot, general, concat), local (local-m, local-p) or no attention
(Luong et al. 2015). Tokens are words and punctuation marks, case kept;
format placeholders, URLs, e-mail addresses, paths and numbers stay whole and
travel as numbered stand-ins that get the source's own text back, and unknown
output words are replaced by the source word attended to most (Luong et al.,
"Addressing the Rare Word Problem", 2015). The test split is translated with
beam search and scored with BLEU and chrF (and placeholder preservation where
sources hold placeholders) beside copy-the-source (names, numbers and
punctuation the languages share). Model,
vocabularies, datasets and serving are `recurrent.models` and
`recurrent.generation`; the export translates raw strings (`translate`), with
the attention weights on request (`attention`).
"""

import dataclasses
from collections.abc import Mapping

import keras
import numpy as np

from recurrent import generation
from recurrent.data.sources import fingerprint, load_splits
from recurrent.data.tokenizers import token_counts
from recurrent.generation import report
from recurrent.layers import CELLS
from recurrent.layers.attention import LOCAL_MODES, NAMES, SCORES
from recurrent.layers.decoder import BRIDGES
from recurrent.metrics.generation import bleu_chrf, placeholder_preservation
from recurrent.metrics.report import side_by_side
from recurrent.models import token_seq2seq
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    inherited_or,
    optimizer,
    text_inputs,
)

CHOICES = ("attention", "score", "local_mode", "bridge", "cell")
SPECIALS = {"start": "[START]", "end": "[END]"}
COLUMNS = ("source", "target")
MODEL_SETTINGS = ("embedding_dim", "units", "cell", "encoder_layers", "bidirectional")
MODEL_SETTINGS += ("bridge", "dropout")


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of translation (see `TaskConfig` for the shared ones; the
    README's table says what each does).

    Pairs with more than `max_length` tokens on either side are left out of
    every split; vocabulary sizes count padding and unknown (and the target's
    start and end); `units` is the decoder's state size and the memory width
    (half per direction of a bidirectional encoder); attention, score,
    local_mode, window and input_feeding configure the `AttentionDecoder`;
    beam_size, length_penalty (GNMT alpha) and block_ngram the beam search;
    placeholders masks atomic spans as numbered stand-ins
    (`recurrent.generation.placeholders`) and replace_unknown replaces unknown
    output words by their most attended source words.
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
    placeholders: bool = True
    replace_unknown: bool = True

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
        tables = (NAMES, SCORES, LOCAL_MODES, BRIDGES, CELLS)
        self.choose(**dict(zip(CHOICES, tables, strict=True)))

    def decoder_options(self) -> dict:
        """The `AttentionDecoder` settings, for `Seq2Seq(decoder_options=...)`."""
        names = ("attention", "score", "local_mode", "window", "input_feeding")
        return {name: getattr(self, name) for name in names}

    def decode_length(self, longest_target: int) -> int:
        """Tokens the decoder may produce, the end token included: the longest
        training target (in tokens, at most `max_length`) and 10 more."""
        return min(self.max_length, longest_target) + 10


def scores(outputs, test) -> dict[str, float]:
    """BLEU and chrF against the references, and placeholder preservation if
    any source holds placeholders."""
    sources = test["source"].tolist()
    return {
        **bleu_chrf(outputs, test["target"].tolist()),
        **placeholder_preservation(sources, outputs),
    }


def copy_source_scores(test) -> dict[str, float]:
    """The baseline: each source sentence offered as its own translation."""
    return scores(test["source"].tolist(), test)


class Translation(Task):
    name = "translation"
    summary = TASKS["translation"].summary
    default_data = "bible_parallel"
    Config = Config
    input_help = TASKS["translation"].input_help
    serving_endpoint = "translate"
    figure_endpoint = "attention"
    inherited_assets = ("source_vocabulary", "target_vocabulary")

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        splits = load_splits(
            data,
            {"source": config.source_column, "target": config.target_column},
            key="source",
            hint="Name the columns with --set source_column=NAME target_column=NAME "
            "(for tfds:ted_hrlr_translate/pt_to_en: source_column=pt target_column=en).",
            positional=True,
        )
        splits = generation.keep_short_pairs(splits, COLUMNS, config.max_length, data)
        train = splits["train"]
        if not inherited:
            print(f"building vocabularies from {len(train)} training pairs")
        spaced = generation.spaced_pairs(
            train["source"], train["target"], config.placeholders
        )
        source = inherited_or(
            inherited,
            "source_vocabulary",
            lambda: generation.Vocabulary.fit(
                spaced[0], config.source_vocabulary, split=None
            ),
        )
        target = inherited_or(
            inherited,
            "target_vocabulary",
            lambda: generation.Vocabulary.fit(
                spaced[1], config.target_vocabulary, SPECIALS, split=None
            ),
        )

        def dataset(frame, shuffle: bool = False):
            return generation.texts_dataset(
                frame["source"],
                frame["target"],
                source,
                target,
                config.batch_size,
                placeholders=config.placeholders,
                shuffle=shuffle,
                seed=config.seed,
                max_batches=config.max_batches,
            )

        longest = int(token_counts(train["target"]).max())
        return Prepared(
            train=dataset(train, shuffle=True),
            validation=dataset(splits["validation"]),
            test=dataset(splits["test"]),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "source_vocabulary": source,
                "target_vocabulary": target,
                "decoding": {
                    "algorithm": "beam",
                    "max_length": config.decode_length(longest),
                    "beam_size": config.beam_size,
                    "alpha": config.length_penalty,
                    "block_ngram": config.block_ngram,
                },
                "text": {
                    "placeholders": config.placeholders,
                    "replace_unknown": config.replace_unknown,
                },
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        sizes = [prepared.assets[f"{side}_vocabulary"].size for side in COLUMNS]
        model = token_seq2seq(
            *sizes,
            decoder_options=config.decoder_options(),
            name="translator",
            **{name: getattr(config, name) for name in MODEL_SETTINGS},
        )
        generation.compile_for_teacher_forcing(model, optimizer(config, prepared.train))
        return model

    def endpoints(self, model, prepared):
        assets = prepared.assets
        return generation.TextGenerator(
            model,
            assets["source_vocabulary"],
            assets["target_vocabulary"],
            assets["decoding"],
            output="translation",
            **assets["text"],
        ).endpoints("translate", "attention")

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test = prepared.splits["test"]
        print(f"translating {len(test)} test sentences (beam {config.beam_size})")
        outputs = report.texts(predict(test["source"].tolist())["translation"])
        metrics = scores(outputs, test)
        metrics["test_pairs"] = len(test)
        baselines = {"copy_source": copy_source_scores(test)}
        shown = {"source": test["source"], "reference": test["target"]}
        summary = "\n\n".join(
            [
                f"test split: {len(test)} sentence pairs",
                side_by_side({"model": metrics, **baselines}),
                report.examples({**shown, "translation": outputs}),
            ]
        )
        return Evaluation(metrics=metrics, baselines=baselines, report=summary)

    def read_inputs(self, values, input_file=None, metadata=None) -> list[str]:
        return text_inputs(
            values,
            input_file,
            "nothing to translate: pass one or more sentences, or --input FILE with "
            "one per line",
        )

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        translations = report.texts(outputs["translation"])
        return "\n".join(
            f"{text}\n  => {output}"
            for text, output in zip(inputs, translations, strict=True)
        )

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        outputs = report.texts(predict(shown["source"].tolist())["translation"])
        columns = {"source": shown["source"], "reference": shown["target"]}
        return report.markdown_table({**columns, "translation": outputs})

    def figures(self, predict, prepared, count: int = 3) -> dict:
        sources = self.sample_inputs(prepared, count)
        return report.attention_figures(predict(sources), sources)

    def sample_inputs(self, prepared, count: int = 3) -> list[str]:
        return prepared.splits["test"]["source"].head(count).tolist()


TASK = Translation()
