"""Image-in/caption-out serving functions around a sequence-to-sequence model.

`CaptionGenerator` is `TextGenerator` with images for sources: a batch of
encoded image files (PNG, JPEG, GIF, BMP) is decoded and resized inside the
graph (`recurrent.data.images.decode_images`), encoded by the model's image
encoder, decoded with any algorithm of `recurrent.decoding` and joined into
captions, so an export takes the bytes of image files. A file that is not an
image gives the caption "" with score 0 and `valid` False; an empty batch
gives empty outputs. Captions never hold the unknown token.
"""

from collections.abc import Mapping

import tensorflow as tf

from recurrent.data.images import decode_images
from recurrent.data.tokenizers import OOV_ID
from recurrent.generation.serving import TextGenerator
from recurrent.generation.vocabulary import Vocabulary


def caption_texts(words):
    """`[batch, steps]` words ("" after the end) joined by single spaces."""
    joined = tf.strings.reduce_join(words, axis=1, separator=" ")
    return tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))


class CaptionGenerator(TextGenerator):
    """Serving functions that turn `[batch]` encoded images into captions.

    Args:
        model: a `Seq2Seq` whose encoder reads `[batch, size, size, 3]` pixels
            in 0..255 and has a `grid` of `(rows, cols)` regions (an
            `ImageEncoder`).
        target: the caption `Vocabulary`, with "start" and "end" specials.
        decoding: as `TextGenerator`'s (beam search by default).
        image_size: the side in pixels every image is resized to.
        output: the key of the caption in the outputs.
    """

    signature = [tf.TensorSpec([None], tf.string, name="images")]

    def __init__(
        self,
        model,
        target: Vocabulary,
        decoding: Mapping,
        image_size: int,
        output: str = "caption",
    ):
        super().__init__(model, target, target, decoding, output=output)
        # A caption never says "unknown": its words all come from the vocabulary.
        self.banned += tf.one_hot(OOV_ID, target.size) * -1e9
        self.image_size = int(image_size)
        self.grid = tuple(model.encoder.grid)

    def _caption(self, images, attention: bool):
        # One blank file more: a batch that holds none reaches no convolution
        # (TensorFlow's convolutions mishandle a batch that turns out empty).
        count = tf.shape(images)[0]
        images = tf.concat([images, [b""]], axis=0)
        pixels, valid = decode_images(images, self.image_size)
        tokens, scores, weights = self.decode(
            pixels, attention, empty=tf.logical_not(valid)
        )
        words = self._words(tokens)
        outputs = {
            self.output: caption_texts(words),
            "score": scores,
            "valid": valid,
        }
        outputs = {key: value[:count] for key, value in outputs.items()}
        weights = None if weights is None else weights[:count]
        return outputs, tokens[:count], words[:count], weights

    def generate(self, images):
        """`[batch]` image files -> `{output: [batch] captions, "score":
        [batch], "valid": [batch] bool}`."""
        return self._caption(images, False)[0]

    def attention(self, images):
        """`generate`'s outputs, plus "output_tokens" `[batch, steps]` (the
        caption's words, the end token included, "" after it) and "weights"
        `[batch, steps, rows, cols]`: where each word looked in the image."""
        outputs, tokens, words, weights = self._caption(images, True)
        is_end = tf.logical_and(self._produced(tokens) > 0, tokens == self.end_id)
        rows, cols = self.grid
        shape = tf.concat([tf.shape(weights)[:2], [rows, cols]], axis=0)
        return {
            **outputs,
            "output_tokens": tf.where(is_end, self.target.token("end"), words),
            "weights": tf.reshape(weights, shape),
        }
