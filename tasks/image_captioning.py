"""Image captioning: a CNN reads the image, an attention decoder writes the caption.

Show, Attend and Tell (Xu et al. 2015): the CNN's last feature map is a grid
of region vectors; the LSTM decoder starts from their mean, attends over
them with the previous state before each word (soft attention, scaled by the
gating scalar beta), and predicts each word from a deep output layer of the
state, the context and the previous word. Training adds the doubly
stochastic attention penalty (lambda), so that a caption looks at every
region about once. `attention=none` is the ablation: the decoder sees only
the mean annotation.

Captions are lower-case words (punctuation dropped). The test split is
captioned with beam search and scored as the COCO caption evaluation does
(BLEU-1..4, METEOR, ROUGE-L, CIDEr-D), beside the caption of the most
similar training image (nearest neighbour by pixels). On data with object
boxes (`openmoji/scenes`), the grounding accuracy is the share of object
words whose attention peak falls inside that object's box, beside the rate
a uniform attention would score. The export takes the bytes of image files
(PNG, JPEG, GIF, BMP); its `attention` signature also returns where each
word looked.
"""

import dataclasses
import re
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from recurrent import generation
from recurrent.baselines.captioning import nearest_neighbour_captions
from recurrent.data.captions import load_caption_splits
from recurrent.data.images import pixels, read_image_file
from recurrent.data.sources import fingerprint
from recurrent.errors import UserInputError
from recurrent.generation import report
from recurrent.generation.captions import CaptionGenerator
from recurrent.generation.datasets import image_captions_dataset
from recurrent.layers import CELLS
from recurrent.layers.conv import BACKBONES, ImageEncoder
from recurrent.metrics.captioning import (
    MeteorScorer,
    batch_grounding_accuracy,
    caption_scores,
    caption_summary,
    caption_table,
    paired_caption_difference,
)
from recurrent.models import Seq2Seq
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

SPECIALS = {"start": "[START]", "end": "[END]"}
ATTENTIONS = ("soft", "none")
WORD = re.compile(r"\w+(?:['-]\w+)*")


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of image captioning (see `TaskConfig` for the shared ones;
    the README's table says what each does).

    Attributes:
        image_column, caption_column: the columns (or TFDS features) holding
            the image and its caption(s).
        image_size: every image is resized to this many pixels square.
        vocabulary: caption word ids (padding, unknown, start and end
            included), from the training captions.
        max_caption: caption words trained on (the rest is cut).
        depth, width: the CNN trained from scratch: convolution blocks, and
            filters of the first (doubling each block).
        shift: largest random translation of training images (share of the
            size; 0: none).
        backbone, backbone_weights, backbone_trainable: a `keras.applications`
            CNN instead (`recurrent.layers.conv.BACKBONES`), its weights from
            a local file, fine-tuned or frozen.
        embedding_dim, units, cell, dropout: the decoder (dropout also on the
            region vectors).
        attention: "soft" (Show, Attend and Tell) or "none" (the ablation).
        gate: scale the context by the gating scalar beta.
        deep_output: the previous word joins the output layer.
        attention_regularization: lambda, the weight of the doubly
            stochastic attention penalty.
        beam_size, length_penalty, block_ngram: beam search.
    """

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 4
    image_column: str = "image"
    caption_column: str = "caption"
    image_size: int = 64
    vocabulary: int = 5000
    max_caption: int = 20
    depth: int = 3
    width: int = 32
    shift: float = 0.05
    backbone: str = ""
    backbone_weights: str = ""
    backbone_trainable: bool = False
    embedding_dim: int = 128
    units: int = 256
    cell: str = "lstm"
    dropout: float = 0.3
    attention: str = "soft"
    gate: bool = True
    deep_output: bool = True
    attention_regularization: float = 1.0
    beam_size: int = 3
    length_penalty: float = 0.0
    block_ngram: int = 0

    TINY = {
        "image_size": 32,
        "vocabulary": 400,
        "depth": 2,
        "width": 8,
        "embedding_dim": 16,
        "units": 16,
        "beam_size": 2,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            image_size=8,
            vocabulary=5,
            max_caption=1,
            depth=1,
            width=1,
            embedding_dim=1,
            units=1,
            attention_regularization=0,
            beam_size=1,
            length_penalty=0,
            block_ngram=0,
        )
        self.in_unit_interval("dropout", "shift")
        self.require(
            "image_size",
            self.backbone or self.image_size >= 2**self.depth,
            f"at least 2**depth = {2**self.depth} (each block halves the image)",
        )
        if self.backbone:
            self.choose(backbone=BACKBONES)
            self.require(
                "image_size",
                self.image_size >= 32,
                "at least 32 with a backbone (224 gives its usual 7 x 7 grid)",
            )
        self.choose(attention=ATTENTIONS, cell=CELLS)

    def decode_length(self, longest_caption: int) -> int:
        """Tokens the decoder may produce, the end token included."""
        return min(self.max_caption, longest_caption) + 5


def caption_words(text: str) -> str:
    """A caption as lower-case words separated by spaces, punctuation dropped."""
    return " ".join(WORD.findall(str(text).lower()))


def clean_split(frame, name: str, size: int):
    """The rows of a split with an image that decodes and a caption of at
    least one word (captions normalised by `caption_words`), their pixels,
    and a printed count of what was left out."""
    frame = frame.copy()
    frame["captions"] = [
        [words for words in map(caption_words, captions) if words]
        for captions in frame["captions"]
    ]
    arrays, valid = pixels(frame["image"], size)
    keep = valid & frame["captions"].map(bool).to_numpy()
    if not keep.all():
        print(
            f"{name}: left out {int((~valid).sum())} files that are not images and "
            f"{int((valid & ~keep).sum())} images without a caption"
        )
    return frame[keep].reset_index(drop=True), arrays[keep]


def mean_words(captions) -> float:
    """The mean number of words of the captions."""
    return float(np.mean([len(caption.split()) for caption in captions] or [0]))


def has_object_boxes(frame) -> bool:
    """Whether the rows hold boxes of objects smaller than the image (scenes)."""
    return any(
        box[2] - box[0] < 1 or box[3] - box[1] < 1
        for boxes in frame["boxes"]
        for box in boxes
    )


class ImageCaptioning(Task):
    name = "image_captioning"
    summary = TASKS["image_captioning"].summary
    default_data = "openmoji"
    Config = Config
    input_help = TASKS["image_captioning"].input_help
    model_assets = ("image_size",)
    inherited_assets = ("vocabulary",)
    serving_endpoint = "caption"
    figure_endpoint = "attention"
    evaluation_endpoint = "attention"

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        splits = load_caption_splits(
            data,
            image_column=config.image_column,
            caption_column=config.caption_column,
            hint="Name the columns with --set image_column=NAME caption_column=NAME "
            "(for tfds:coco_captions: caption_column=captions/text).",
        )
        cleaned = {
            name: clean_split(frame, name, config.image_size)
            for name, frame in splits.items()
        }
        for name, (frame, _) in cleaned.items():
            if frame.empty:
                raise UserInputError(
                    f"{data} has no {name} images with a caption; add images or "
                    "a split column"
                )
        splits = {name: frame for name, (frame, _) in cleaned.items()}
        train = splits["train"]
        references = [caption for captions in train["captions"] for caption in captions]
        if not inherited:
            print(
                f"building the vocabulary from {len(references)} captions of "
                f"{len(train)} training images"
            )
        vocabulary = inherited_or(
            inherited,
            "vocabulary",
            lambda: generation.Vocabulary.fit(
                references, config.vocabulary, SPECIALS, split=None
            ),
        )

        def dataset(name, shuffle: bool = False):
            frame, arrays = cleaned[name]
            index = [i for i, refs in enumerate(frame["captions"]) for _ in refs]
            texts = [
                " ".join(ref.split()[: config.max_caption])
                for refs in frame["captions"]
                for ref in refs
            ]
            return image_captions_dataset(
                arrays,
                index,
                vocabulary.ragged_ids(tf.constant(texts)),
                vocabulary.id("start"),
                vocabulary.id("end"),
                config.batch_size,
                shuffle=shuffle,
                seed=config.seed,
                max_batches=config.max_batches,
            )

        longest = max(len(ref.split()) for ref in references)
        return Prepared(
            train=dataset("train", shuffle=True),
            validation=dataset("validation"),
            test=dataset("test"),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "vocabulary": vocabulary,
                "image_size": config.image_size,
                "decoding": {
                    "algorithm": "beam",
                    "max_length": config.decode_length(longest),
                    "beam_size": config.beam_size,
                    "alpha": config.length_penalty,
                    "block_ngram": config.block_ngram,
                },
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        soft = config.attention == "soft"
        encoder = ImageEncoder(
            config.image_size,
            cell=config.cell,
            depth=config.depth,
            width=config.width,
            dropout=config.dropout,
            shift=config.shift,
            backbone=config.backbone,
            backbone_weights=config.backbone_weights,
            backbone_trainable=config.backbone_trainable,
            name="encoder",
        )
        model = Seq2Seq(
            encoder,
            prepared.assets["vocabulary"].size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            cell=config.cell,
            bridge="dense",
            decoder_options={
                "attention": "bahdanau" if soft else "none",
                "ordering": "bahdanau",
                "gate": config.gate and soft,
                "deep_output": config.deep_output,
                "dropout": config.dropout,
            },
            attention_regularization=config.attention_regularization if soft else 0,
            name="captioner",
        )
        generation.compile_for_teacher_forcing(model, optimizer(config, prepared.train))
        return model

    def endpoints(self, model, prepared):
        assets = prepared.assets
        generator = CaptionGenerator(
            model, assets["vocabulary"], assets["decoding"], assets["image_size"]
        )
        return generator.endpoints("caption", "attention")

    def evaluate(self, predict, prepared, config) -> Evaluation:
        test, train = prepared.splits["test"], prepared.splits["train"]
        references = test["captions"].tolist()
        print(f"captioning {len(test)} test images (beam {config.beam_size})")
        outputs = predict(test["image"].tolist())
        captions = report.texts(outputs["caption"])
        print("nearest-neighbour baseline: the caption of the closest training image")
        train_pixels, _ = pixels(train["image"], config.image_size)
        test_pixels, _ = pixels(test["image"], config.image_size)
        neighbours = nearest_neighbour_captions(
            train_pixels, train["captions"].tolist(), test_pixels
        )
        print("scoring the captions (BLEU, METEOR, ROUGE-L, CIDEr-D)")
        with MeteorScorer() as meteor:
            model_scores = caption_scores(captions, references, meteor)
            baseline_scores = caption_scores(neighbours, references, meteor)
        metrics = caption_summary(*model_scores) | {
            "test_images": len(test),
            "mean_words": mean_words(captions),
        }
        gain = paired_caption_difference(model_scores[1], baseline_scores[1])
        baselines = {
            "nearest_neighbour": caption_summary(*baseline_scores)
            | {
                "mean_words": mean_words(neighbours),
                "model_cider_gain": gain["difference"],
                "model_cider_gain_low": gain["difference_low"],
                "model_cider_gain_high": gain["difference_high"],
                "images_model_higher": gain["documents_first_higher"],
                "images_baseline_higher": gain["documents_second_higher"],
            }
        }
        parts = [
            f"test split: {len(test)} images, "
            f"{sum(map(len, references))} reference captions",
            "COCO caption metrics (0-100; CIDEr-D with a 95% bootstrap interval "
            "over images)\n" + caption_table({"model": metrics, **baselines}),
            f"model CIDEr-D minus nearest neighbour: {gain['difference']:+.2f} "
            f"[{gain['difference_low']:+.2f}, {gain['difference_high']:+.2f}] "
            f"(images higher: model {gain['documents_first_higher']}, nearest "
            f"neighbour {gain['documents_second_higher']})",
        ]
        if config.attention == "soft" and has_object_boxes(test):
            grounding = self.grounding(outputs, test)
            metrics |= grounding
            parts.append(
                f"grounding: {grounding['grounding_accuracy']:.1f}% of "
                f"{grounding['object_words']} object words have their attention "
                f"peak inside the object's box; a uniform attention would score "
                f"{grounding['uniform_rate']:.1f}%"
            )
        shown = {
            "references": [" | ".join(refs[:3]) for refs in references],
            "nearest neighbour": neighbours,
            "caption": captions,
        }
        parts.append(report.examples(shown))
        return Evaluation(
            metrics=metrics, baselines=baselines, report="\n\n".join(parts)
        )

    @staticmethod
    def grounding(outputs, frame) -> dict:
        """`grounding_accuracy` of an attention endpoint's outputs on the rows
        of `frame` (their objects and boxes)."""
        words = [
            [word for word in report.texts(row) if word and word != SPECIALS["end"]]
            for row in outputs["output_tokens"]
        ]
        weights = np.asarray(outputs["weights"])
        grid = weights.shape[2:]
        return batch_grounding_accuracy(
            words,
            [
                w[: len(ws)].reshape(len(ws), int(np.prod(grid)))
                for w, ws in zip(weights, words, strict=True)
            ],
            frame["objects"].tolist(),
            frame["boxes"].tolist(),
            grid,
        )

    def read_inputs(self, values, input_file=None, metadata=None) -> list[bytes]:
        paths = [value for value in values if value.strip()]
        if input_file:
            paths += [
                line.strip()
                for line in read_lines(str(existing_file(input_file)))
                if line.strip()
            ]
        if not paths:
            raise UserInputError(
                "nothing to caption: pass one or more image files, or --input FILE "
                "listing one image path per line"
            )
        return [read_image_file(path) for path in paths]

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        captions = report.texts(outputs["caption"])
        return "\n".join(
            f"image {index + 1}: {caption}  (score {score:.2f})"
            if valid
            else f"image {index + 1}: not readable as an image"
            for index, (caption, score, valid) in enumerate(
                zip(
                    captions,
                    np.asarray(outputs["score"]),
                    np.asarray(outputs["valid"]),
                    strict=True,
                )
            )
        )

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        outputs = report.texts(predict(shown["image"].tolist())["caption"])
        references = [" / ".join(refs[:3]) for refs in shown["captions"]]
        return report.markdown_table({"references": references, "caption": outputs})

    def figures(self, predict, prepared, count: int = 3) -> dict:
        from recurrent.plots import image_attention_figure

        shown = prepared.splits["validation"].head(count)
        outputs = predict(shown["image"].tolist())
        if not np.asarray(outputs["weights"]).any():  # attention=none
            return {}
        images, _ = pixels(shown["image"], prepared.assets["image_size"])
        figures = {}
        for index, row in enumerate(shown.itertuples()):
            words = [
                word for word in report.texts(outputs["output_tokens"][index]) if word
            ]
            figures[f"attention_{index}"] = image_attention_figure(
                images[index],
                words,
                np.asarray(outputs["weights"][index])[: len(words)],
                title=f"{report.texts(outputs['caption'][index : index + 1])[0]}  "
                f"(reference: {row.captions[0]})",
                boxes=row.boxes if has_object_boxes(shown) else None,
            )
        return figures

    def sample_inputs(self, prepared, count: int = 2) -> list[bytes]:
        return prepared.splits["test"]["image"].head(count).tolist()


TASK = ImageCaptioning()
