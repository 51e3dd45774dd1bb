import collections
import io
import re

import numpy as np
import pytest
from PIL import Image

from recurrent.data.bundled.openmoji import (
    SKIN_TONE_GROUP,
    SKIN_TONES,
    caption_text,
    code_points,
    emoji_data_key,
    emoji_font,
    group_key,
    named_emoji,
    on_white,
    position,
    render,
    scene_captions,
    scene_key,
    scene_pool,
    scenes,
    svg_stems,
)
from recurrent.data.captions import load_caption_splits
from recurrent.data.sources import load_splits
from recurrent.data.splits import SPLITS, hash_split

WORDS = re.compile(r"[a-z0-9'-]+( [a-z0-9'-]+)*")
SCENE_WORDS = re.compile(r"[a-z,]+( [a-z,]+)*")


@pytest.fixture(scope="module")
def names():
    """The bundled `names` config, prepared once per test session."""
    return load_caption_splits("openmoji")


@pytest.fixture(scope="module")
def scene_splits():
    return load_caption_splits("openmoji/scenes")


def _pixels(encoded: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(encoded)))


def test_every_openmoji_file_renders_one_whole_glyph():
    stems = svg_stems()
    assert len(stems) == 4_495
    font, singles = emoji_font(32), {}
    for stem in stems:
        characters = "".join(map(chr, code_points(stem)))
        drawn = render(characters, 32)
        assert (drawn[..., 3] > 127).sum() >= 10, stem  # never blank
        # Raqm lays a ZWJ or keycap sequence out as one glyph, not several.
        assert font.getlength(characters) <= 32, stem
        if any(point in SKIN_TONES for point in code_points(stem)[1:]):
            first = characters[0]
            if first not in singles:
                singles[first] = render(first, 32)
            assert not np.array_equal(drawn, singles[first]), stem


def test_names_are_lower_case_words_and_short_codes_are_left_out():
    by_stem = {item.stem: item for item in named_emoji()}
    assert 3_900 <= len(by_stem) <= 4_000  # 542 files have no name
    assert by_stem["1F600"].captions == ("grinning face", "grinning")
    assert by_stem["1F42D"].captions == ("mouse face", "mouse")
    assert by_stem["1F401"].captions == ("mouse",)  # not ":mouse2:"
    assert by_stem["1F1F9-1F1F7"].captions == ("turkiye", "flag for turkey", "turkey")
    assert by_stem["0023-FE0F-20E3"].captions == ("keycap number sign", "hash")
    assert by_stem["1F91F"].captions == ("love-you gesture",)  # not "love you gesture"
    assert caption_text(":Côte_d’Ivoire:") == "cote d'ivoire"
    assert caption_text(":St._Kitts_&_Nevis:") == "st kitts and nevis"
    assert caption_text(":A_button_(blood_type):") == "a button blood type"
    assert all(
        WORDS.fullmatch(caption)
        for item in by_stem.values()
        for caption in item.captions
    )
    # Files are matched with and without U+FE0F; private-use symbols have no name.
    assert emoji_data_key("1F577") and emoji_data_key("1F577-FE0F")
    assert emoji_data_key("E000") is None and emoji_data_key("1F1E6") is None


def test_skin_tone_and_gender_variants_share_their_base_emoji():
    assert group_key(code_points("1F937-1F3FD-200D-2640-FE0F")) == "1F937"
    assert group_key(code_points("1F937-200D-2642-FE0F")) == "1F937"
    assert group_key(code_points("1F3C3-1F3FF-200D-2642-FE0F-200D-27A1-FE0F")) == (
        "1F3C3-200D-27A1"
    )
    # A woman cook is a cook; a man artist is an artist; families are one group.
    assert group_key(code_points("1F469-200D-1F373")) == "1F9D1-200D-1F373"
    assert group_key(code_points("1F468-1F3FE-200D-1F3A8")) == group_key(
        code_points("1F9D1-200D-1F3A8")
    )
    assert group_key(code_points("1F468-200D-1F469-200D-1F467")) == "1F46A"
    assert group_key(code_points("1F469-200D-1F466")) == "1F46A"
    # A kiss of a woman and a man, with skin tones, is a kiss; so for a couple
    # with heart, and a handshake of two skin tones.
    assert (
        group_key(code_points("1F469-1F3FB-200D-2764-FE0F-200D-1F48B-200D-1F468-1F3FF"))
        == "1F48F"
    )
    assert group_key(code_points("1F468-200D-2764-FE0F-200D-1F468")) == "1F491"
    assert group_key(code_points("1FAF1-1F3FB-200D-1FAF2-1F3FC")) == "1F91D"
    assert group_key(code_points("1F46C-1F3FB")) == group_key(
        code_points("1F9D1-200D-1F91D-200D-1F9D1")
    )
    assert group_key(code_points("1F3FB")) == SKIN_TONE_GROUP


def test_prepared_names_keep_every_variant_of_an_emoji_in_one_split(names):
    total = sum(len(frame) for frame in names.values())
    assert total == len(named_emoji())
    assert 0.75 < len(names["train"]) / total < 0.85
    first = names["train"].iloc[0]
    assert _pixels(first["image"]).shape == (64, 64, 3)
    assert first["objects"] == first["captions"][:1]
    assert first["boxes"] == [[0.0, 0.0, 1.0, 1.0]]
    # Every skin-tone and gender variant of an emoji sits in its split.
    groups = load_splits("openmoji", {"group": "group", "emoji": "emoji"}, key="group")
    split_of = collections.defaultdict(set)
    for split, frame in groups.items():
        for group, characters in zip(frame["group"], frame["emoji"], strict=True):
            assert group == group_key([ord(c) for c in characters])
            split_of[group].add(split)
    assert all(len(splits) == 1 for splits in split_of.values())
    assert len(split_of) < total / 2  # most emoji have variants
    assert len(split_of[group_key(code_points("1F44B"))]) == 1


def test_images_are_the_emoji_on_white():
    grinning = on_white(render("\U0001f600", 64))
    assert grinning.shape == (64, 64, 3) and grinning.dtype == np.uint8
    assert (grinning[0, 0] == 255).all()  # the background is white
    assert (grinning[32, 32] != 255).any()  # the yellow face is drawn


def test_scenes_place_distinct_emoji_in_their_boxes_and_name_them():
    pool = scene_pool()
    assert 40 <= len(pool) <= 50 and len({name for name, _ in pool}) == len(pool)
    counts = collections.Counter()
    for _, image, objects in scenes(range(200), 96, 28):
        counts[len(objects)] += 1
        assert image.shape == (96, 96, 3)
        names_ = [o.name for o in objects]
        assert len(set(names_)) == len(names_)
        assert len({(o.row, o.column) for o in objects}) == len(objects)
        covered = np.zeros((96, 96), bool)
        for o in objects:
            x0, y0, x1, y1 = o.box
            assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 96
            # Each box lies inside its grid cell, so boxes never overlap.
            assert o.column * 32 <= x0 and x1 <= (o.column + 1) * 32
            assert o.row * 32 <= y0 and y1 <= (o.row + 1) * 32
            drawn = (image[y0:y1, x0:x1] != 255).any(axis=-1)
            # The emoji touches all four sides of its box.
            assert drawn[0].any() and drawn[-1].any()
            assert drawn[:, 0].any() and drawn[:, -1].any()
            covered[y0:y1, x0:x1] = True
        assert (image[~covered] == 255).all()  # nothing outside the boxes
        captions = scene_captions(objects)
        assert len(captions) == 3
        for caption in captions:
            assert SCENE_WORDS.fullmatch(caption), caption
            assert all(f" {name} " in f" {caption} " for name in names_)
        first = captions[0]
        assert all(position(o.row, o.column) in first for o in objects)
    assert set(counts) == {2, 3, 4}
    again = next(scenes([7], 96, 28))
    assert np.array_equal(again[1], next(scenes([7], 96, 28))[1])


def test_scene_captions_read_positions_and_relations():
    pool = dict(scene_pool())
    _, _, objects = next(scenes([0], 96, 28))
    assert all(o.characters == pool[o.name] for o in objects)

    class Placed:
        def __init__(self, name, row, column):
            self.name, self.row, self.column = name, row, column

    placed = [Placed("cat face", 0, 0), Placed("owl", 2, 0), Placed("pear", 1, 2)]
    assert scene_captions(placed) == [
        "a cat face at the top left , a pear at the right and an owl at the bottom left",
        "a cat face above an owl , which is to the left of a pear",
        "a pear to the right of an owl , which is below a cat face",
    ]
    assert scene_captions(placed[:2])[1] == "a cat face above an owl"


def test_prepared_scenes_match_their_generator(scene_splits):
    assert sum(len(frame) for frame in scene_splits.values()) == 6_000
    assert all(len(scene_splits[split]) > 400 for split in SPLITS)
    index = next(i for i in range(100) if hash_split(scene_key(i)) == "test")
    _, image, objects = next(scenes([index], 96, 28))
    test = scene_splits["test"]
    row = test[test["captions"].map(lambda c: c == scene_captions(objects))].iloc[0]
    assert np.array_equal(_pixels(row["image"]), image)
    assert row["objects"] == [o.name for o in objects]
    assert np.allclose(np.asarray(row["boxes"]) * 96, [o.box for o in objects])
