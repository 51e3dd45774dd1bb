"""String-in/string-out serving functions around a sequence-to-sequence model.

`TextGenerator` wraps a model with `encode`, `decode_step` and
`teacher_forced` (a `recurrent.models.Seq2Seq`) and the source and target
`Vocabulary`: texts are split into word and punctuation tokens (atomic spans
such as format placeholders and URLs kept whole), looked up, encoded, decoded
with any algorithm of `recurrent.decoding` and joined back into text with the
source's spacing, all inside the graph, so an export takes raw strings.
Optionally atomic spans travel as numbered stand-ins and unknown output words
are replaced from the source (`recurrent.generation.placeholders`). A blank
text gives "" (score 0) and an empty batch gives empty outputs.
"""

from collections.abc import Mapping

import keras
import tensorflow as tf

from recurrent.choices import lookup
from recurrent.data.tokenizers import OOV_ID, join_tokens, split_tokens
from recurrent.decoding import beam_search, greedy_search, sample
from recurrent.generation import placeholders as stand_ins
from recurrent.generation.copying import output_words
from recurrent.generation.datasets import word_keys
from recurrent.generation.vocabulary import Vocabulary
from recurrent.layers.copy import extended_source_ids

ALGORITHMS = {"beam": beam_search, "greedy": greedy_search, "sample": sample}


class TextGenerator:
    """Serving functions that turn `[batch]` strings into generated strings.

    Args:
        model: the model (`encode`, `decode_step`, `teacher_forced`).
        source: the source `Vocabulary`.
        target: the target `Vocabulary`, with "start" and "end" specials.
        decoding: `{"algorithm": "beam" | "greedy" | "sample", "max_length":
            steps, ...}`; the other keys are keyword arguments of the
            algorithm (e.g. beam_size, alpha, block_ngram; temperature, top_k).
            The algorithm defaults to beam search.
        output: the key of the generated text in the outputs.
        placeholders: the model was trained on `placeholders.mask_pairs`:
            the source's atomic spans are masked as numbered stand-ins, and
            the stand-ins of the output get the source's text back.
        replace_unknown: each unknown output word becomes the source token
            attended to most at its step (Luong et al. 2015); a model without
            attention keeps the unknown token.
        max_source: the model reads the first `max_source` source tokens
            (0: all of them).

    A copying model (`model.copies`: a pointer-generator or a switching
    pointer, one vocabulary for both sides) gets each source's extended ids
    (`recurrent.layers.copy.extended_source_ids`) and decodes over the
    extended vocabulary; an id past the vocabulary becomes the source word it
    copies (`output_words`), as written. Its attention endpoint also returns
    "p_gen" `[batch, steps]`, the probability of generating each output word
    rather than copying it. A copying model never writes the unknown token:
    what the vocabulary lacks it copies from the source or leaves out.

    Texts are tokenized by `recurrent.data.tokenizers.split_tokens` and joined
    by `join_tokens` with the source's spacing. The padding and start tokens
    are never generated. Sampling draws from a seed generator made here (from
    the "seed" option, random without one), outside any trace.
    """

    def __init__(
        self,
        model,
        source: Vocabulary,
        target: Vocabulary,
        decoding: Mapping,
        output: str = "text",
        placeholders: bool = False,
        replace_unknown: bool = False,
        max_source: int = 0,
    ):
        options = dict(decoding)
        self.algorithm = options.pop("algorithm", "beam")
        self.search = lookup(ALGORITHMS, self.algorithm, "decoding algorithm")
        self.max_length = int(options.pop("max_length"))
        if self.algorithm == "sample" and not isinstance(
            options.get("seed"), keras.random.SeedGenerator
        ):
            # Made once, outside any trace: a traced function may not create
            # the generator's state variable.
            options["seed"] = keras.random.SeedGenerator(options.get("seed"))
        self.options = options
        self.model, self.source, self.target = model, source, target
        self.output = output
        self.placeholders, self.replace_unknown = placeholders, replace_unknown
        self.max_source = int(max_source)
        self.copies = bool(getattr(model, "copies", False))
        # GNMT's coverage penalty reads the attention history of each beam.
        self._penalized = options.get("coverage_penalty", 0) > 0
        self.start_id, self.end_id = target.id("start"), target.id("end")
        banned = [0, self.start_id]
        if self.copies:  # a word outside the vocabulary is copied, not "unknown"
            banned.append(OOV_ID)
        never = tf.one_hot(banned, target.size)
        self.banned = tf.reduce_sum(never, axis=0) * -1e9

    signature = [tf.TensorSpec([None], tf.string, name="texts")]

    def _step(self, tokens, state, step):
        log_probs, state = self.model.decode_step(tokens, state, step)
        banned = tf.cast(self.banned, log_probs.dtype)
        extra = tf.shape(log_probs)[-1] - tf.shape(banned)[0]
        return log_probs + tf.pad(banned, [[0, extra]]), state

    def decode(self, source, attention: bool = False, extended=None, empty=None):
        """`[batch, source]` ids -> (`[batch, steps]` tokens, `[batch]` scores,
        `[batch, steps, source]` weights or None).

        Beam search scores are length-normalised log-probabilities; the other
        algorithms score the summed log-probability of their tokens. A copying
        model also takes the `extended` ids of the source. A source other
        than token ids (images) comes with `empty`, `[batch]` booleans of the
        rows that hold nothing, and its weights are over the memory's
        positions.
        """
        state = (
            self.model.encode(source, extended)
            if self.copies
            else self.model.encode(source)
        )
        start = tf.fill(tf.shape(source)[:1], self.start_id)
        weights = None
        if self.algorithm == "beam":
            result = self.search(
                self._step,
                state,
                start,
                self.end_id,
                self.max_length,
                attention_key="attention" if attention or self._penalized else None,
                **self.options,
            )
            tokens, scores = result["tokens"], result["scores"]
            weights = result.get("attention") if attention else None
        else:
            tokens = self.search(
                self._step, state, start, self.end_id, self.max_length, **self.options
            )
            scores = None
        tokens = tf.cast(tokens, tf.int32)
        if scores is None or (attention and weights is None):
            shifted = tf.concat([start[:, None], tokens[:, :-1]], axis=1)
            log_probs, forced_weights = self._forced(source, shifted, extended)
            if scores is None:
                picked = tf.gather(log_probs, tokens, batch_dims=2)
                scores = tf.reduce_sum(picked * self._produced(tokens), axis=1)
            if attention and weights is None:
                weights = forced_weights
        # A text of no tokens gives nothing: the end token, score 0, no weights.
        if empty is None:
            empty = tf.reduce_all(source == 0, axis=1)
            if weights is not None:
                weights = weights[:, :, : tf.shape(source)[1]]
        tokens = tf.where(empty[:, None], self.end_id, tokens)
        scores = tf.where(empty, 0.0, tf.cast(scores, tf.float32))
        if weights is not None:
            weights = tf.cast(weights, tf.float32) * self._produced(tokens)[:, :, None]
            weights *= tf.cast(tf.logical_not(empty), tf.float32)[:, None, None]
        return tokens, scores, weights

    def _forced(self, source, shifted, extended):
        if self.copies:
            return self.model.teacher_forced(source, shifted, extended)
        return self.model.teacher_forced(source, shifted)

    def switch(self, source, tokens, extended):
        """A copying model's generation probability at each output step
        `[batch, steps]`, 0 from the step after the end token on."""
        start = tf.fill(tf.shape(source)[:1], self.start_id)
        shifted = tf.concat([start[:, None], tokens[:, :-1]], axis=1)
        _, details = self.model.teacher_forced_details(source, shifted, extended)
        return tf.cast(details["p_gen"], tf.float32) * self._produced(tokens)

    def _produced(self, tokens):
        """1.0 at the steps up to and including the first end token."""
        is_end = tf.cast(tokens == self.end_id, tf.int32)
        return tf.cast(tf.cumsum(is_end, axis=1, exclusive=True) == 0, tf.float32)

    def _words(self, tokens, source=None, extended=None):
        """Target tokens of each step before the end token; "" from it on
        (copied words from the `source` tokens, by their `extended` ids)."""
        ended = tf.cumsum(tf.cast(tokens == self.end_id, tf.int32), axis=1) > 0
        keep = tf.logical_and(tf.logical_not(ended), tokens > 0)
        if self.copies:
            words = output_words(
                tokens, tf.constant(self.target.tokens), source, extended
            )
        else:
            words = self.target.strings(tokens)
        return tf.where(keep, words, "")

    def _read(self, texts):
        """`[batch]` strings -> (the tokens as written `[batch, source]`, ""
        padded; whether each had space before it; the tokens the model reads,
        stand-ins included; their ids `[batch, source]`; their extended ids
        for a copying model, else None)."""
        tokens, spaced = split_tokens(texts)
        if self.max_source:
            tokens, spaced = tokens[:, : self.max_source], spaced[:, : self.max_source]
        tokens, spaced = tokens.to_tensor(""), spaced.to_tensor(False)
        if self.copies:  # one column at least: copying looks up source positions
            missing = tf.maximum(1 - tf.shape(tokens)[1], 0)
            tokens = tf.pad(tokens, [[0, 0], [0, missing]], constant_values="")
            spaced = tf.pad(spaced, [[0, 0], [0, missing]], constant_values=False)
        masked = stand_ins.mask(tokens) if self.placeholders else tokens
        ids = self.source.ids(stand_ins.spaced(masked))
        extended = None
        if self.copies:
            ids = tf.pad(ids, [[0, 0], [0, tf.shape(masked)[1] - tf.shape(ids)[1]]])
            extended, _ = extended_source_ids(
                ids, ids == OOV_ID, self.target.size, word_keys(masked)
            )
        return tokens, spaced, masked, ids, extended

    def _run(self, texts, attention: bool):
        """Everything both endpoints return, and what `attention` adds."""
        source, spaced, masked, ids, extended = self._read(texts)
        tokens, scores, weights = self.decode(
            ids, attention or self.replace_unknown, extended
        )
        raw = self._words(tokens, source, extended)
        words = raw
        if self.placeholders:
            words = stand_ins.unmask(words, source, masked)
        if self.replace_unknown:
            words = stand_ins.replace_unknown(
                words, weights, source, self.target.token("unknown")
            )
        text = join_tokens(words, source, spaced)
        outputs = {self.output: text, "score": scores}
        if attention and self.copies:
            outputs["p_gen"] = self.switch(ids, tokens, extended)
        return outputs, source, tokens, raw, words, weights

    def generate(self, texts):
        """`[batch]` strings -> `{output: [batch] strings, "score": [batch]}`."""
        return self._run(texts, False)[0]

    def attention(self, texts):
        """`generate`'s outputs, plus "source_tokens" `[batch, source]` (as
        written: rare words and atomic spans too), "output_tokens" `[batch,
        steps]` (the words of the output, the end token included, "" after it)
        and "weights" `[batch, steps, source]`."""
        outputs, source, tokens, raw, words, weights = self._run(texts, True)
        is_end = tf.logical_and(self._produced(tokens) > 0, tokens == self.end_id)
        words = tf.where(tf.logical_and(words == "", raw != ""), raw, words)
        return {
            **outputs,
            "source_tokens": source,
            "output_tokens": tf.where(is_end, self.target.token("end"), words),
            "weights": weights,
        }

    def endpoints(self, generate: str, attention: str | None = None) -> dict:
        """`{name: (function, input signature)}` for a task's `endpoints`."""
        functions = {generate: (self.generate, self.signature)}
        if attention:
            functions[attention] = (self.attention, self.signature)
        return functions
