"""Chatbot: the next turn of a conversation, from its last turns.

A hierarchical encoder (HRED, Serban et al. 2016) reads the last
`context_turns` turns: a bidirectional LSTM reads each turn on its own
(speaker markers kept), a context LSTM runs over the turn vectors, and its
final states start an attention decoder that attends over the words of those
turns; encoder and decoder share one embedding. `context_turns=1` is the
single-turn ablation. Replies are decoded with beam search (n-gram blocking,
length penalty) or top-p sampling (temperature, repetition penalty).

The test split is scored with the perplexity of the human replies, BLEU-2
and chrF against them, distinct-1/2, the share of the 10 most frequent
replies (blandness) and the mean reply length, beside TF-IDF retrieval, the
most frequent training reply and, when its export is found, the single-turn
ablation. Model, decoding and serving are `recurrent.models`,
`recurrent.decoding` and `recurrent.generation.dialogue`.
"""

import dataclasses
import math
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from recurrent import generation
from recurrent.baselines.dialogue import most_frequent_reply, tfidf_retrieval
from recurrent.data.dialogues import load_dialogue_splits
from recurrent.data.sources import fingerprint
from recurrent.data.tokenizers import split_punctuation
from recurrent.errors import UserInputError
from recurrent.generation import report
from recurrent.generation.dialogue import (
    MARKERS,
    SEPARATOR,
    ReplyGenerator,
    spaced_histories,
)
from recurrent.layers import CELLS
from recurrent.layers.hierarchical import POOLINGS
from recurrent.metrics.dialogue import dialogue_table, reply_scores
from recurrent.models.encoders import TurnEncoder
from recurrent.models.seq2seq import Seq2Seq
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    batched,
    inherited_or,
    latest_export,
    optimizer,
    read_lines,
)

SPECIALS = {"start": "[START]", "end": "[END]", **MARKERS}
DECODINGS = ("beam", "sample")
ATTENTIONS = ("global", "none")


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of the chatbot (see `TaskConfig` for the shared ones; the
    README's table says what each does).

    Attributes:
        context_turns: the last turns the model reads (1: the single-turn
            ablation).
        max_turn_tokens: each turn's last tokens that are read.
        max_reply: reply tokens trained on and scored (the rest is cut).
        vocabulary: ids of the one vocabulary (padding, unknown, start, end
            and the two speaker markers included), from the training split.
        embedding_dim, units, cell, pooling, dropout: the encoder-decoder
            (units: decoder state and memory width, half per direction of
            the turn encoder; pooling: how a turn's word states become its
            vector).
        attention: "global" (Luong et al. 2015, general score) over the
            words of the context, or "none".
        decoding: "sample" (top_p, temperature, repetition_penalty:
            CTRL's; seeded with `seed`), chosen on validation by chrF, or
            "beam" (beam_size, length_penalty: GNMT's alpha, block_ngram:
            n-grams never repeated).
        min_length: reply tokens before the end token may come.
        single_turn_model: an export of the single-turn ablation (or the
            folder of its numbered exports: the latest is used), scored
            beside the model when it exists ("" skips it).
        test_examples: score only the first this many test examples (0:
            all of them; smoke runs score 64).
    """

    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 2
    context_turns: int = 3
    max_turn_tokens: int = 30
    max_reply: int = 30
    vocabulary: int = 8000
    embedding_dim: int = 96
    units: int = 128
    cell: str = "lstm"
    pooling: str = "mean"
    dropout: float = 0.1
    attention: str = "global"
    decoding: str = "sample"
    beam_size: int = 4
    length_penalty: float = 0.6
    block_ngram: int = 3
    top_p: float = 0.9
    temperature: float = 1.0
    repetition_penalty: float = 1.2
    min_length: int = 1
    single_turn_model: str = ""
    test_examples: int = 0

    TINY = {
        "test_examples": 64,
        "vocabulary": 600,
        "max_turn_tokens": 12,
        "max_reply": 12,
        "embedding_dim": 16,
        "units": 16,
        "beam_size": 2,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            context_turns=1,
            max_turn_tokens=1,
            max_reply=1,
            vocabulary=8,
            embedding_dim=1,
            units=2,
            beam_size=1,
            length_penalty=0,
            block_ngram=0,
            min_length=0,
            test_examples=0,
        )
        self.in_unit_interval("dropout")
        self.require("units", self.units % 2 == 0, "even (half per direction)")
        self.require("top_p", 0 < self.top_p <= 1, "in (0, 1]")
        self.require("temperature", self.temperature > 0, "positive")
        self.require("repetition_penalty", self.repetition_penalty > 0, "positive")
        self.choose(
            cell=CELLS, pooling=POOLINGS, attention=ATTENTIONS, decoding=DECODINGS
        )

    def decoding_options(self) -> dict:
        """The `ReplyGenerator` decoding settings."""
        shared = {"max_length": self.max_reply + 1, "min_length": self.min_length}
        if self.decoding == "sample":
            return shared | {
                "algorithm": "sample",
                "seed": self.seed,
                "top_p": self.top_p,
                "temperature": self.temperature,
                "repetition_penalty": self.repetition_penalty,
            }
        return shared | {
            "algorithm": "beam",
            "beam_size": self.beam_size,
            "alpha": self.length_penalty,
            "block_ngram": self.block_ngram,
        }


def histories(frame) -> list[str]:
    """The context turns of each row as one history string."""
    return [SEPARATOR.join(turns) for turns in frame["context"]]


def scored_replies(predict, pairs: list[list[str]]) -> tuple[list[str], float]:
    """The replies of a "score" predictor to the histories of `pairs`, and the
    perplexity of the pairs' replies (per token, end tokens included)."""
    outputs = predict(pairs)
    log_likelihood = float(np.sum(outputs["log_likelihood"]))
    tokens = max(int(np.sum(outputs["tokens"])), 1)
    return report.texts(outputs["reply"]), math.exp(min(-log_likelihood / tokens, 700))


class Chatbot(Task):
    name = "chatbot"
    summary = TASKS["chatbot"].summary
    default_data = "chitchat"
    Config = Config
    input_help = TASKS["chatbot"].input_help
    model_assets = ("context_turns", "max_turn_tokens", "max_reply")
    inherited_assets = ("vocabulary",)
    serving_endpoint = "reply"
    figure_endpoint = "attention"
    evaluation_endpoint = "score"

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        splits = load_dialogue_splits(data)
        for name, frame in splits.items():
            if frame.empty:
                raise UserInputError(
                    f"{data} has no {name} examples; add conversations, or use a "
                    "larger set (e.g. chatterbot, which holds every category)"
                )
        train = splits["train"]

        def fit_vocabulary():
            print(f"building the vocabulary from {len(train)} training replies")
            texts = [*train["response"], *(turns[-1] for turns in train["context"])]
            return generation.Vocabulary.fit(texts, config.vocabulary, SPECIALS)

        vocabulary = inherited_or(inherited, "vocabulary", fit_vocabulary)

        def dataset(frame, shuffle: bool = False):
            sources = spaced_histories(
                histories(frame), config.context_turns, config.max_turn_tokens
            )
            replies = split_punctuation(tf.constant(frame["response"].tolist()))
            return generation.teacher_forcing_dataset(
                vocabulary.ragged_ids(tf.constant(sources)),
                vocabulary.ragged_ids(replies)[:, : config.max_reply],
                vocabulary.id("start"),
                vocabulary.id("end"),
                config.batch_size,
                shuffle=shuffle,
                seed=config.seed,
                max_batches=config.max_batches,
            )

        return Prepared(
            train=dataset(train, shuffle=True),
            validation=dataset(splits["validation"]),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "vocabulary": vocabulary,
                "context_turns": config.context_turns,
                "max_turn_tokens": config.max_turn_tokens,
                "max_reply": config.max_reply,
                "decoding": config.decoding_options(),
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        vocabulary = prepared.assets["vocabulary"]
        encoder = TurnEncoder(
            vocabulary.size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            marker_ids=[vocabulary.id(name) for name in MARKERS],
            max_turns=config.context_turns,
            cell=config.cell,
            pooling=config.pooling,
            dropout=config.dropout,
            name="encoder",
        )
        model = Seq2Seq(
            encoder,
            vocabulary.size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            decoder_options={
                "attention": config.attention,
                "dropout": config.dropout,
            },
            share_embeddings=True,
            name="chatbot",
        )
        generation.compile_for_teacher_forcing(model, optimizer(config, prepared.train))
        return model

    def endpoints(self, model, prepared):
        assets = prepared.assets
        return ReplyGenerator(
            model,
            assets["vocabulary"],
            assets["decoding"],
            max_turns=assets["context_turns"],
            max_turn_tokens=assets["max_turn_tokens"],
            max_reply=assets["max_reply"],
        ).endpoints("reply", "attention", "score")

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test, train = prepared.splits["test"], prepared.splits["train"]
        if config.test_examples:
            test = test.head(config.test_examples)
        references = test["response"].tolist()
        pairs = [list(pair) for pair in zip(histories(test), references, strict=True)]
        print(f"replying to {len(test)} test histories ({config.decoding})")
        replies, perplexity = scored_replies(predict, pairs)
        results = {
            "model": {"perplexity": perplexity} | reply_scores(replies, references)
        }
        results["model"]["test_examples"] = len(test)
        outputs = {"model": replies}
        print("scoring the baselines: TF-IDF retrieval, most frequent reply")
        window = [" ".join(turns[-config.context_turns :]) for turns in test["context"]]
        train_window = [
            " ".join(turns[-config.context_turns :]) for turns in train["context"]
        ]
        outputs["tfidf"] = tfidf_retrieval(
            train_window, train["response"].tolist(), window
        )
        outputs["most_frequent"] = most_frequent_reply(
            train["response"].tolist(), len(test)
        )
        for name in ("tfidf", "most_frequent"):
            results[name] = reply_scores(outputs[name], references)
        single = (
            latest_export(config.single_turn_model)
            if config.single_turn_model
            else None
        )
        if single is not None:
            print(f"scoring the single-turn ablation {single}")
            loaded = tf.saved_model.load(str(single))
            replies_single, perplexity_single = scored_replies(
                generation_predictor(loaded), pairs
            )
            outputs["single_turn"] = replies_single
            results["single_turn"] = {"perplexity": perplexity_single} | reply_scores(
                replies_single, references
            )
            results["single_turn"]["export"] = str(single)
        shown = {
            "history": [
                " | ".join(turns[-config.context_turns :]) for turns in test["context"]
            ],
            "reference": references,
        }
        text = "\n\n".join(
            [
                f"test split: {len(test)} replies",
                "BLEU-2 and chrF (0-100, 95% bootstrap intervals), distinct-n and "
                "blandness (%), mean length in tokens, perplexity per token\n"
                + dialogue_table(results),
                report.examples({**shown, **outputs}),
            ]
        )
        baselines = {
            name: scores for name, scores in results.items() if name != "model"
        }
        return Evaluation(metrics=results["model"], baselines=baselines, report=text)

    def read_inputs(self, values, input_file=None, metadata=None) -> list[str]:
        turns = [value for value in values if value.strip()]
        if input_file:
            turns += [line for line in read_lines(input_file) if line.strip()]
        if not turns:
            raise UserInputError(
                "nothing to reply to: pass the turns of a conversation, oldest "
                "first (one per argument), or --input FILE with one turn per line"
            )
        return [SEPARATOR.join(" ".join(turn.split()) for turn in turns)]

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        replies = report.texts(outputs["reply"])
        return "\n\n".join(
            "\n".join(f"  {turn}" for turn in history.split(SEPARATOR))
            + f"\n  => {reply}"
            for history, reply in zip(inputs, replies, strict=True)
        )

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        pairs = [list(p) for p in zip(histories(shown), shown["response"], strict=True)]
        replies = report.texts(predict(pairs)["reply"])
        conversation = [" / ".join(turns) for turns in shown["context"]]
        return report.markdown_table(
            {"history": conversation, "reference": shown["response"], "reply": replies}
        )

    def figures(self, predict, prepared, count: int = 3) -> dict:
        shown = histories(prepared.splits["validation"].head(count))
        return report.attention_figures(
            predict(shown), [h.split(SEPARATOR)[-1] for h in shown]
        )

    def sample_inputs(self, prepared, count: int = 3) -> list[str]:
        return histories(prepared.splits["test"].head(count))


def generation_predictor(loaded):
    """The "score" endpoint of a loaded export, taking Python lists."""
    return batched(lambda pairs: loaded.score(pairs))


TASK = Chatbot()
