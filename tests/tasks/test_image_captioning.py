import dataclasses
import io
import json

import keras
import numpy as np
import pytest
from PIL import Image

from pipelines.runner.train import in_memory_predictor
from recurrent.errors import UserInputError
from tasks.image_captioning import TASK, Config, caption_words

TINY = Config().tiny()
COLOURS = {"red": (230, 20, 20), "green": (20, 160, 20), "blue": (20, 20, 230)}
PLACES = {"top left": (0, 0), "top right": (0, 16), "bottom left": (16, 0)}


def square(colour: str, place: str, size: int = 32) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    row, col = PLACES[place]
    half = size // 2
    image.paste(COLOURS[colour], (col, row, col + half, row + half))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def squares_file(tmp_path_factory):
    """A CSV of 270 image files, each a coloured square in one corner, with
    two captions each ("A red square, top left." and "red top left")."""
    folder = tmp_path_factory.mktemp("squares")
    (folder / "images").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for index in range(270):
        colour, place = rng.choice(list(COLOURS)), rng.choice(list(PLACES))
        name = f"images/{index:03d}.png"
        square(colour, place).save(folder / name)
        rows.append({"image": name, "caption": f"A {colour} square, {place}."})
        rows.append({"image": name, "caption": f"{colour} {place}"})
    path = folder / "squares.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def prepared(squares_file):
    return TASK.prepare(TINY, squares_file)


def test_captions_are_lower_case_words():
    assert caption_words("A child in a pink-dress, climbing!") == (
        "a child in a pink-dress climbing"
    )
    assert caption_words("Piñata  : Türkiye") == "piñata türkiye"
    assert caption_words(" ... ") == ""


def test_prepare_groups_the_references_of_each_image_and_batches_them(prepared):
    splits = prepared.splits
    assert sum(len(frame) for frame in splits.values()) == 270
    for frame in splits.values():
        assert all(len(captions) == 2 for captions in frame["captions"])
    first = splits["train"]["captions"][0]
    assert first[0].startswith("a ") and first[0].endswith(("left", "right"))
    vocabulary = prepared.assets["vocabulary"]
    assert vocabulary.tokens[:4] == ["", "[UNK]", "[START]", "[END]"]
    assert {"red", "square", "top", "left"} <= set(vocabulary.tokens)
    inputs, target_out, weights = next(iter(prepared.train))
    assert inputs["source"].shape[1:] == (32, 32, 3)
    assert inputs["source"].dtype == "uint8"
    target_in = inputs["target_in"].numpy()
    assert (target_in[:, 0] == vocabulary.id("start")).all()
    ends = (target_out.numpy() == vocabulary.id("end")).sum(axis=1)
    assert (ends == 1).all() and weights.numpy().sum() == (target_out.numpy() > 0).sum()
    # Each image is in one pair per reference: twice per epoch.
    pairs = sum(int(batch[1].shape[0]) for batch in prepared.train)
    assert pairs == min(TINY.max_batches * TINY.batch_size, 2 * len(splits["train"]))


def test_a_tiny_captioner_names_colour_and_corner_of_new_images(squares_file):
    keras.utils.set_random_seed(1)
    config = dataclasses.replace(
        TINY,
        max_batches=0,
        epochs=14,
        learning_rate=0.01,
        embedding_dim=16,
        units=32,
        beam_size=2,
        dropout=0.0,
    )
    prepared = TASK.prepare(config, squares_file)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    test = prepared.splits["test"]
    predict = in_memory_predictor(TASK, model, prepared)
    captions = [c.decode() for c in predict(test["image"].tolist())["caption"]]
    right = [
        caption in refs
        for caption, refs in zip(captions, test["captions"], strict=True)
    ]
    # One fixed caption is right on about one image in nine.
    fixed = max(
        sum(caption in refs for refs in test["captions"])
        for refs in test["captions"]
        for caption in refs
    )
    assert np.mean(right) >= 0.8 and sum(right) > fixed + 0.4 * len(test), captions


def test_the_endpoints_caption_any_image_file_and_flag_what_is_not_one(prepared):
    model = TASK.build_model(TINY, prepared)
    predict = in_memory_predictor(TASK, model, prepared, "attention")
    red = square("red", "top left", size=48)
    inputs = [
        png(red),
        png(red.convert("L")),
        png(red.convert("RGBA")),
        png(red.resize((1600, 900))),
        b"",
        b"not an image at all",
    ]
    outputs = predict(inputs)
    assert outputs["valid"].tolist() == [True] * 4 + [False] * 2
    captions = [c.decode() for c in outputs["caption"]]
    assert captions[4:] == ["", ""] and outputs["score"][4:].tolist() == [0.0, 0.0]
    rows, cols = model.encoder.grid
    assert outputs["weights"].shape[:1] + outputs["weights"].shape[2:] == (
        6,
        rows,
        cols,
    )
    assert not outputs["weights"][4:].any()
    # The caption is its words up to the end token, never the unknown one.
    for caption, tokens in zip(captions, outputs["output_tokens"], strict=True):
        words = [word.decode() for word in tokens if word not in (b"", b"[END]")]
        assert " ".join(words) == caption and "[UNK]" not in words


def test_predict_reads_image_paths_and_refuses_what_is_not_an_image(tmp_path):
    path = tmp_path / "red.png"
    square("red", "top left").save(path)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{path}\n\n{path}\n")
    inputs = TASK.read_inputs([str(path)], str(listing))
    assert len(inputs) == 3 and inputs[0] == path.read_bytes()
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    for name, message in [
        ("missing.png", "not found"),
        ("empty.png", "empty"),
        ("text.png", "not an image"),
        ("", "is a folder"),
    ]:
        with pytest.raises(UserInputError, match=message):
            TASK.read_inputs([str(tmp_path / name)])
    with pytest.raises(UserInputError, match="nothing to caption"):
        TASK.read_inputs(["  "])


def test_predictions_say_which_files_were_not_images():
    outputs = {
        "caption": np.array([b"red top left", b""]),
        "score": np.array([-0.5, 0.0]),
        "valid": np.array([True, False]),
    }
    shown = TASK.format_predictions([b"...", b""], outputs).splitlines()
    assert shown == [
        "image 1: red top left  (score -0.50)",
        "image 2: not readable as an image",
    ]


def test_scenes_score_grounding_and_outline_the_boxes():
    config = dataclasses.replace(TINY, image_size=48)
    prepared = TASK.prepare(config, "openmoji/scenes")
    test = prepared.splits["test"].head(40)
    assert all(2 <= len(objects) <= 4 for objects in test["objects"])
    model = TASK.build_model(config, prepared)
    rows, cols = model.encoder.grid
    # Captions naming each scene's first object, with attention peaked at the
    # centre of its box: every object word is grounded.
    tokens = np.full((len(test), 4), b"", dtype=object)
    weights = np.zeros((len(test), 4, rows, cols), "float32")
    for index, (objects, boxes) in enumerate(
        zip(test["objects"], test["boxes"], strict=True)
    ):
        words = objects[0].split()
        tokens[index, : len(words)] = [word.encode() for word in words]
        x0, y0, x1, y1 = boxes[0]
        weights[index, :, int((y0 + y1) / 2 * rows), int((x0 + x1) / 2 * cols)] = 1
    peaked = TASK.grounding({"output_tokens": tokens, "weights": weights}, test)
    assert peaked["grounding_accuracy"] == 100.0
    assert peaked["object_words"] == sum(len(o[0].split()) for o in test["objects"])
    # An emoji's box (tight around it) is about a twentieth of the canvas.
    assert 1 < peaked["uniform_rate"] < 15
    weights = np.roll(weights, cols // 2 + 1, axis=3)  # looking elsewhere
    shifted = TASK.grounding({"output_tokens": tokens, "weights": weights}, test)
    assert shifted["grounding_accuracy"] < 50
    predict = in_memory_predictor(TASK, model, prepared, "attention")
    figures = TASK.figures(predict, prepared, count=1)
    assert set(figures) == {"attention_0"}
