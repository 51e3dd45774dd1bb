"""History-in/reply-out serving functions around a dialogue model.

A conversation's history is one string, its turns (oldest first) joined by
`SEPARATOR`. `history_tokens` keeps its last turns, each cut to its last
tokens and started by a speaker marker: the turn being answered is the
user's, the one before it the bot's own, and so on back. Training data and
the export read histories with this one function, so the model sees the same
tokens in both. `ReplyGenerator` is `TextGenerator` with such histories for
sources, plus a scoring endpoint: the log-likelihood of given replies, from
which evaluation computes perplexity.
"""

from collections.abc import Mapping

import tensorflow as tf

from recurrent.data.tokenizers import OOV_ID, split_punctuation, split_tokens
from recurrent.generation import placeholders as stand_ins
from recurrent.generation.serving import TextGenerator
from recurrent.generation.vocabulary import Vocabulary

SEPARATOR = "\n"
MARKERS = {"user": "<user>", "bot": "<bot>"}


def history_tokens(histories, max_turns: int, max_turn_tokens: int):
    """`[batch]` history strings -> (`[batch, (tokens)]` tokens, `[batch,
    (tokens)]` whether each had space before it).

    The last `max_turns` non-blank turns are kept, each cut to its last
    `max_turn_tokens` tokens (`split_tokens`) and preceded by its speaker's
    marker: `MARKERS["user"]` for the last turn (the one the reply answers)
    and every second turn before it, `MARKERS["bot"]` for the others. A
    blank history has no tokens.
    """
    histories = tf.convert_to_tensor(histories, tf.string)
    turns = tf.strings.split(histories, SEPARATOR)
    filled = tf.strings.strip(turns.flat_values) != ""
    turns = tf.ragged.boolean_mask(turns, turns.with_flat_values(filled))
    turns = turns[:, -max_turns:]
    tokens, spaced = split_tokens(turns.flat_values)
    tokens, spaced = tokens[:, -max_turn_tokens:], spaced[:, -max_turn_tokens:]
    # Turns counted from the last: even ones are the user's.
    rows = turns.value_rowids()
    index = tf.range(tf.shape(rows, out_type=tf.int64)[0])
    index -= tf.gather(turns.row_splits, rows)
    from_last = tf.gather(turns.row_lengths(), rows) - 1 - index
    is_user = tf.math.floormod(from_last, 2) == 0
    marker = tf.where(is_user, MARKERS["user"], MARKERS["bot"])[:, None]
    tokens = tf.concat([marker, tokens], axis=1)
    spaced = tf.concat([tf.ones_like(marker, tf.bool), spaced], axis=1)
    merged = [
        tf.RaggedTensor.from_row_splits(part, turns.row_splits).merge_dims(1, 2)
        for part in (tokens, spaced)
    ]
    return merged[0], merged[1]


def spaced_histories(histories, max_turns: int, max_turn_tokens: int) -> list[str]:
    """The tokens of `history_tokens`, space-separated, for `Vocabulary`
    lookups of training data (in batches, as Python strings)."""
    texts = []
    for start in range(0, len(histories), 4096):
        tokens, _ = history_tokens(
            list(histories[start : start + 4096]), max_turns, max_turn_tokens
        )
        joined = tf.strings.reduce_join(tokens, axis=1, separator=" ")
        texts += [text.decode() for text in joined.numpy()]
    return texts


class ReplyGenerator(TextGenerator):
    """Serving functions that turn `[batch]` history strings into replies.

    Args:
        model: a `Seq2Seq` over histories (e.g. with a `TurnEncoder`) whose
            vocabulary is `vocabulary` on both sides.
        vocabulary: the one `Vocabulary`, with "start", "end" and the
            `MARKERS` specials.
        decoding: as `TextGenerator`'s (beam search by default; "sample" for
            top-p sampling with a repetition penalty).
        max_turns, max_turn_tokens: as `history_tokens`.
        max_reply: reply tokens `score` reads (the rest is cut), as in
            training.

    A reply never holds the unknown token or a speaker marker.
    """

    signature = [tf.TensorSpec([None], tf.string, name="histories")]
    pairs_signature = [tf.TensorSpec([None, 2], tf.string, name="pairs")]

    def __init__(
        self,
        model,
        vocabulary: Vocabulary,
        decoding: Mapping,
        max_turns: int,
        max_turn_tokens: int,
        max_reply: int,
    ):
        super().__init__(model, vocabulary, vocabulary, decoding, output="reply")
        banned = [OOV_ID, *(vocabulary.id(name) for name in MARKERS)]
        self.banned += tf.reduce_sum(tf.one_hot(banned, vocabulary.size), 0) * -1e9
        self.max_turns, self.max_turn_tokens = int(max_turns), int(max_turn_tokens)
        self.max_reply = int(max_reply)

    def _read(self, texts):
        tokens, spaced = history_tokens(texts, self.max_turns, self.max_turn_tokens)
        tokens, spaced = tokens.to_tensor(""), spaced.to_tensor(False)
        ids = self.source.ids(stand_ins.spaced(tokens))
        ids = tf.pad(ids, [[0, 0], [0, tf.shape(tokens)[1] - tf.shape(ids)[1]]])
        return tokens, spaced, tokens, ids, None

    def score(self, pairs):
        """`[batch, 2]` (history, reply) strings -> the generated reply and
        its score as `generate` gives them, plus "log_likelihood" `[batch]`,
        the summed log-probability of the given reply's tokens and its end
        token (the reply cut to `max_reply` tokens, as in training), and
        "tokens" `[batch]`, how many tokens that sums over."""
        outputs, *_ = self._run(pairs[:, 0], False)
        _, _, _, source, _ = self._read(pairs[:, 0])
        reply = self.target.ragged_ids(split_punctuation(pairs[:, 1]))
        reply = tf.cast(reply[:, : self.max_reply], tf.int32)
        end = tf.fill([tf.cast(reply.nrows(), tf.int32), 1], self.end_id)
        target = tf.concat([reply, end], axis=1).to_tensor(0)
        start = tf.fill(tf.shape(target)[:1], self.start_id)
        shifted = tf.concat([start[:, None], target[:, :-1]], axis=1)
        log_probs, _ = self.model.teacher_forced(source, shifted)
        picked = tf.gather(tf.cast(log_probs, tf.float32), target, batch_dims=2)
        present = tf.cast(target > 0, tf.float32)
        return {
            **outputs,
            "log_likelihood": tf.reduce_sum(picked * present, axis=1),
            "tokens": tf.reduce_sum(tf.cast(target > 0, tf.int32), axis=1),
        }

    def endpoints(
        self, generate: str, attention: str | None = None, score: str | None = None
    ) -> dict:
        functions = super().endpoints(generate, attention)
        if score:
            functions[score] = (self.score, self.pairs_signature)
        return functions
