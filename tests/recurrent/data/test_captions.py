import io
import json

import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from recurrent.data.captions import load_caption_splits
from recurrent.data.sources import DataSpec, load_splits, parse_spec
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

COLUMNS = ["image", "captions", "objects", "boxes"]


def _jpeg(index: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), (index * 20 % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def _name(index: int) -> str:
    return f"{1000268201 + index}_693b08cb0e.jpg"


def _flickr8k(folder, images=12, subfolder="Flicker8k_Dataset"):
    """A Flickr8k folder: `images` JPEGs, five captions each, in Flickr8k's files."""
    (folder / subfolder).mkdir(parents=True)
    lines = []
    for i in range(images):
        (folder / subfolder / _name(i)).write_bytes(_jpeg(i))
        lines += [
            f"{_name(i)}#{n}\tA dog number {i} runs , take {n} ." for n in range(5)
        ]
    return lines


def _frames_by_image(splits):
    """Image bytes -> (split, captions)."""
    return {
        image: (split, captions)
        for split, frame in splits.items()
        for image, captions in zip(frame["image"], frame["captions"], strict=True)
    }


def test_a_flickr8k_folder_groups_captions_and_follows_its_split_lists(
    tmp_path, capsys
):
    lines = _flickr8k(tmp_path)
    lines.append("2258277193_586949ec62.jpg.1#0\tA photo that is not there .")
    (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    lists = {"train": range(0, 8), "dev": range(8, 10), "test": range(10, 11)}
    for name, indices in lists.items():
        listed = "\n".join(_name(i) for i in indices)
        (tmp_path / f"Flickr_8k.{name}Images.txt").write_text(listed + "\n")

    splits = load_caption_splits(str(tmp_path))
    assert [len(splits[split]) for split in SPLITS] == [8, 2, 1]
    assert all(list(frame.columns) == COLUMNS for frame in splits.values())
    by_image = _frames_by_image(splits)
    assert by_image[_jpeg(9)] == (
        "validation",
        [f"A dog number 9 runs , take {n} ." for n in range(5)],
    )
    assert splits["test"]["image"][0] == _jpeg(10)
    assert splits["train"]["objects"][0] == [] and splits["train"]["boxes"][0] == []
    output = capsys.readouterr().out
    assert "left out 1 of 13 images that do not exist (e.g. '2258277193" in output
    assert "left out 1 image in no split list" in output  # image 11
    assert "reading 11 images from" in output


def test_a_kaggle_captions_csv_with_images_in_a_subfolder_splits_by_name(
    tmp_path, capsys
):
    _flickr8k(tmp_path, images=30, subfolder="Images")
    rows = [(_name(i), f'"a cat, number {i}"') for i in range(30) for _ in range(2)]
    rows.append((_name(0), "   "))  # a blank caption is dropped
    text = "image,caption\n" + "\n".join(
        f"{image},{caption}" for image, caption in rows
    )
    (tmp_path / "captions.txt").write_text(text + "\n")
    splits = load_caption_splits(str(tmp_path))
    for split, frame in splits.items():
        for image, captions in zip(frame["image"], frame["captions"], strict=True):
            index = [_jpeg(i) for i in range(30)].index(image)
            assert hash_split(_name(index)) == split
            assert captions == [f"a cat, number {index}"] * 2
    assert sum(len(frame) for frame in splits.values()) == 30
    assert "dropped 1 row with an empty image or caption" in capsys.readouterr().out


def test_a_csv_of_image_paths_groups_rows_and_honours_its_split_column(tmp_path):
    (tmp_path / "pictures").mkdir()
    rows = []
    for i in range(6):
        (tmp_path / "pictures" / f"{i}.jpg").write_bytes(_jpeg(i))
        split = ["train", "train", "train", "train", "validation", "test"][i]
        rows += [
            {"path": f"pictures/{i}.jpg", "text": f"picture {i} {n}", "split": split}
            for n in range(3)
        ]
    data = tmp_path / "data" / "captions.csv"
    data.parent.mkdir()
    for row in rows:
        row["path"] = f"../{row['path']}"
    pd.DataFrame(rows).to_csv(data, index=False)
    splits = load_caption_splits(str(data), image_column="path", caption_column="text")
    assert [len(splits[split]) for split in SPLITS] == [4, 1, 1]
    assert splits["test"]["captions"][0] == [
        "picture 5 0",
        "picture 5 1",
        "picture 5 2",
    ]
    assert splits["test"]["image"][0] == _jpeg(5)

    rows[0]["split"] = "test"  # one image in two splits
    pd.DataFrame(rows).to_csv(data, index=False)
    with pytest.raises(UserInputError, match="has rows in the splits test and train"):
        load_caption_splits(str(data), image_column="path", caption_column="text")


def test_a_jsonl_file_with_lists_of_captions_splits_by_image_path(tmp_path):
    lines = []
    for i in range(20):
        (tmp_path / f"{i}.png").write_bytes(_jpeg(i))
        lines.append({"image": f"{i}.png", "captions": [f"one {i}", f"two {i}"]})
    data = tmp_path / "captions.jsonl"
    data.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    splits = load_caption_splits(str(data))  # "captions" stands in for "caption"
    by_image = _frames_by_image(splits)
    assert len(by_image) == 20
    for i in range(20):
        assert by_image[_jpeg(i)] == (hash_split(f"{i}.png"), [f"one {i}", f"two {i}"])


class CocoCaptionsSample(tfds.builder_cls("coco_captions"), skip_registration=True):
    """TFDS's own coco_captions builder, fed a few local images instead of COCO."""

    name = "coco_captions"

    def _split_generators(self, dl_manager):
        # As the real builder does from COCO's annotations.
        names = [f"label {i}" for i in range(80)]
        names[17] = "cat"
        self.info.features["objects"]["label"].names = names
        return {
            "train": self._images(range(0, 6)),
            "restval": self._images(range(6, 8)),
            "val": self._images(range(8, 10)),
            "test": self._images(range(10, 12)),
        }

    def _images(self, indices):
        for i in indices:
            yield (
                i,
                {
                    "image": _jpeg(i),
                    "image/filename": f"COCO_{i:012d}.jpg",
                    "image/id": i,
                    "objects": [
                        {
                            "area": 10,
                            "bbox": tfds.features.BBox(0.1, 0.2, 0.5, 0.9),
                            "id": i,
                            "is_crowd": False,
                            "label": 17,  # cat
                        }
                    ],
                    "captions": [
                        {"id": 10 * i + n, "text": f"A cat {i} sits, view {n}."}
                        for n in range(2)
                    ],
                },
            )


def test_tfds_coco_captions_reads_its_nested_captions_objects_and_splits(
    tmp_path, monkeypatch
):
    CocoCaptionsSample(data_dir=str(tmp_path)).download_and_prepare()
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    for column in ("captions/text", "caption"):  # "caption" falls back to "captions"
        splits = load_caption_splits("tfds:coco_captions", caption_column=column)
        assert [len(splits[split]) for split in SPLITS] == [8, 2, 2]  # restval: train
        by_image = _frames_by_image(splits)
        assert by_image[_jpeg(9)] == (
            "validation",
            ["A cat 9 sits, view 0.", "A cat 9 sits, view 1."],
        )
    row = splits["test"].iloc[0]
    assert row["objects"] == ["cat"]
    assert np.allclose(row["boxes"], [[0.2, 0.1, 0.9, 0.5]])  # x0, y0, x1, y1
    with pytest.raises(
        UserInputError,
        match=r"no caption column 'text'; its image columns are 'image' and its "
        r"text columns 'captions/text', 'image/filename'\. Name them with --set "
        r"image_column=NAME caption_column=NAME \(e\.g\. caption_column=captions/text\)",
    ):
        load_caption_splits("tfds:coco_captions", caption_column="text")
    with pytest.raises(UserInputError, match="no image column 'picture'"):
        load_caption_splits("tfds:coco_captions", image_column="picture")


def test_folders_are_data_specs_only_where_a_task_reads_them(tmp_path):
    assert parse_spec(str(tmp_path)) == DataSpec("folder", str(tmp_path))
    with pytest.raises(UserInputError, match="is a folder; this task reads"):
        load_splits(str(tmp_path), {"text": "text"}, key="text")


def test_sources_without_usable_captions_are_refused_with_the_fix(tmp_path):
    with pytest.raises(UserInputError, match="no file or folder .*a Flickr8k-style"):
        load_caption_splits(str(tmp_path / "missing"))
    with pytest.raises(
        UserInputError,
        match="no captions file; put captions.txt .* or Flickr8k.token.txt",
    ):
        load_caption_splits(str(tmp_path))

    (tmp_path / "captions.txt").write_text(
        "image,caption\n" + "".join(f"{_name(i)},a dog\n" for i in range(5))
    )
    with pytest.raises(
        UserInputError,
        match=r"none of the 5 images .* names exist \(e\.g\. '1000268201_693b08cb0e"
        r"\.jpg', '1000268202.*looked for in .*/Images",
    ):
        load_caption_splits(str(tmp_path))

    (tmp_path / "captions.txt").write_text("picture,caption\nx.jpg,a dog\n")
    with pytest.raises(
        UserInputError,
        match=r"no column 'image'; its columns are 'picture', 'caption'\. Name them "
        r"with --set image_column=NAME caption_column=NAME\. See the docs",
    ):
        load_caption_splits(str(tmp_path), hint="See the docs.")

    (tmp_path / "0.jpg").write_bytes(_jpeg(0))
    data = tmp_path / "test_only.csv"
    data.write_text("image,caption,split\n0.jpg,a dog,test\n")
    with pytest.raises(UserInputError, match="has no training images"):
        load_caption_splits(str(data))


def test_image_files_are_read_as_predict_reads_them_and_unreadable_ones_left_out(
    tmp_path, capsys
):
    _flickr8k(tmp_path, images=20, subfolder="Images")
    (tmp_path / "Images" / _name(0)).write_bytes(b"")  # empty
    (tmp_path / "Images" / _name(1)).write_bytes(_jpeg(1)[:40])  # cut short
    cmyk = io.BytesIO()
    Image.new("CMYK", (12, 8), (0, 255, 255, 0)).save(cmyk, "JPEG")
    (tmp_path / "Images" / _name(2)).write_bytes(cmyk.getvalue())
    rows = [(_name(i), f"a cat number {i}") for i in range(20)]
    lines = [f"{image},{caption}" for image, caption in rows]
    (tmp_path / "captions.txt").write_text("image,caption\n" + "\n".join(lines) + "\n")
    splits = load_caption_splits(str(tmp_path))
    assert sum(len(frame) for frame in splits.values()) == 18
    out = capsys.readouterr().out
    assert "left out 2 images that cannot be read" in out and "empty" in out
    # The CMYK JPEG, which the graph would decode wrongly, arrives as PNG.
    images = [image for frame in splits.values() for image in frame["image"]]
    assert sum(image.startswith(b"\x89PNG") for image in images) == 1
