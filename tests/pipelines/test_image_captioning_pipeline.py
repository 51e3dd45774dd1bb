"""End to end: the image captioning pipeline in a subprocess; its export
captioning the bytes of image files in a process that cannot import the
project; `predict` on image paths, good and bad; attention overlays in
TensorBoard through TensorBoard's own reader."""

import json

import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "image_captioning"
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
files = [open(path, "rb").read() for path in sys.argv[2:]]
images = tf.constant(files + [b"", b"GIF89a? not really"])
captioned = model.caption(images)
attention = model.attention(images)
empty = model.caption(tf.constant([], tf.string))
print(json.dumps({
    "captions": [c.decode() for c in captioned["caption"].numpy()],
    "valid": captioned["valid"].numpy().tolist(),
    "same": attention["caption"].numpy().tolist() == captioned["caption"].numpy().tolist(),
    "weights": list(attention["weights"].shape),
    "output_tokens": [[t.decode() for t in row] for row in attention["output_tokens"].numpy()],
    "empty": list(empty["caption"].shape),
}))
"""


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    output = tmp_path_factory.mktemp("smoke")
    return output, run_pipeline(TASK, "--smoke", output=output)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A PNG, a grayscale JPEG and an RGBA PNG of other sizes than the model's."""
    folder = tmp_path_factory.mktemp("pictures")
    picture = Image.new("RGB", (90, 70), "white")
    picture.paste((250, 200, 0), (20, 10, 70, 60))
    paths = [folder / "sun.png", folder / "gray.jpg", folder / "alpha.png"]
    picture.save(paths[0])
    picture.convert("L").save(paths[1])
    picture.convert("RGBA").save(paths[2])
    return paths


def test_smoke_run_trains_evaluates_and_exports_with_its_baseline(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["data"] == "openmoji"
    assert metadata["endpoints"] == ["attention", "caption"]
    measures = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider"}
    for scores in (metadata["metrics"], metadata["baselines"]["nearest_neighbour"]):
        assert measures <= set(scores)
        assert scores["cider_low"] <= scores["cider"] <= scores["cider_high"]
    # The nearest training emoji shares words with the test emoji's name.
    assert metadata["baselines"]["nearest_neighbour"]["bleu1"] > 10
    assert metadata["metrics"]["test_images"] > 400
    figures = sorted(metadata["figures"])
    assert figures == [f"attention_{i}.png" for i in range(3)]
    assert all((export / name).stat().st_size > 1000 for name in figures)
    assert "CIDEr-D" in result.stdout and "nearest neighbour" in result.stdout
    (run,) = (output / TASK / "runs").iterdir()
    events = EventAccumulator(
        str(run / "logs" / "images"), size_guidance={"tensors": 0}
    )
    events.Reload()
    assert [event.step for event in events.Tensors("attention_0")] == [0, 1]


def test_the_export_captions_image_files_where_the_project_cannot_be_imported(
    smoke, pictures, tmp_path
):
    output, _ = smoke
    result = run_without_project(
        CLIENT, str(output / TASK / "1"), *map(str, pictures), cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["valid"] == [True, True, True, False, False]
    assert answer["captions"][3:] == ["", ""] and answer["same"]
    assert answer["weights"][0] == 5 and len(answer["weights"]) == 4
    assert answer["empty"] == [0]
    for caption, tokens in zip(
        answer["captions"], answer["output_tokens"], strict=True
    ):
        assert caption == " ".join(t for t in tokens if t and t != "[END]")


def test_predict_captions_image_paths_and_names_what_is_wrong(
    smoke, pictures, tmp_path
):
    output, _ = smoke
    model = ["--model", str(output / TASK / "1")]
    result = run_pipeline(
        TASK, "predict", *model, *map(str, pictures), output=output, check=True
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("image ")]
    assert [line.split(":")[0] for line in lines] == ["image 1", "image 2", "image 3"]
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = run_pipeline(
        TASK, "predict", *model, str(empty), output=output, check=False
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "empty" in result.stderr
    result = run_pipeline(
        TASK, "train", "--data", "no_such_folder/", output=output, check=False
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no_such_folder" in result.stderr and "folder" in result.stderr
