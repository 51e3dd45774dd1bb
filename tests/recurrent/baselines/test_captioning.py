import numpy as np
import pytest

from recurrent.baselines.captioning import (
    image_features,
    nearest_images,
    nearest_neighbour_captions,
)
from recurrent.errors import UserInputError


def scene(x: int, y: int, colour, size: int = 32) -> np.ndarray:
    """A 10x10 square of `colour` at (x, y) on a grey canvas, uint8."""
    image = np.full((size, size, 3), 60, np.uint8)
    image[y : y + 10, x : x + 10] = colour
    return image


TRAIN = np.stack(
    [
        scene(2, 2, (255, 0, 0)),
        scene(20, 2, (255, 0, 0)),
        scene(2, 20, (0, 0, 255)),
        scene(20, 20, (0, 255, 0)),
    ]
)
CAPTIONS = [
    ["a red square at the top left", "red top left"],
    ["a red square at the top right"],
    "a blue square at the bottom left",
    ["a green square at the bottom right"],
]


def test_the_caption_of_the_closest_image_even_shifted_and_brighter():
    shifted = np.roll(TRAIN, (1, 1), axis=(1, 2)).astype(float)
    brighter = np.clip(shifted * 1.3 + 20, 0, 255)
    captions = nearest_neighbour_captions(TRAIN, CAPTIONS, brighter[::-1])
    assert captions == [
        "a green square at the bottom right",
        "a blue square at the bottom left",
        "a red square at the top right",
        "a red square at the top left",
    ]


def test_images_of_other_sizes_are_compared_as_thumbnails():
    # The top-right scene at twice the size, and one at 40x24 pixels.
    large = np.kron(TRAIN[1], np.ones((2, 2, 1), np.uint8))
    wide = np.full((24, 40, 3), 60, np.uint8)
    wide[15:24, 0:12] = (0, 0, 255)
    captions = nearest_neighbour_captions(TRAIN, CAPTIONS, [large, wide])
    assert captions == [CAPTIONS[1][0], CAPTIONS[2]]


def test_thumbnails_average_areas_and_ignore_brightness_and_contrast():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 32, 32, 3)).astype(np.float32)
    features = image_features(images, size=16)
    blocks = images.reshape(3, 16, 2, 16, 2, 3).mean((2, 4)).reshape(3, -1)
    blocks -= blocks.mean(1, keepdims=True)
    blocks /= np.linalg.norm(blocks, axis=1, keepdims=True)
    np.testing.assert_allclose(features, blocks, atol=1e-5)
    np.testing.assert_allclose(image_features(images * 0.5 + 30), features, atol=1e-5)
    # Uneven sizes: 3 columns averaged into 2 cells of 1.5 pixels each.
    image = np.array([[0.0, 30.0, 90.0]] * 2)[None, :, :, None]
    cells = np.array([10.0, 70.0])  # (0 + 30 / 2) / 1.5 and (30 / 2 + 90) / 1.5
    expected = np.tile(cells - cells.mean(), 2)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(image_features(image, size=2)[0], expected, rtol=1e-6)
    assert not image_features(np.full((1, 8, 8, 3), 7.0)).any()  # blank: zeros


def test_k_nearest_images_come_most_similar_first():
    features = image_features(TRAIN)
    order = nearest_images(features, features[:1], k=4)[0]
    assert order[0] == 0 and sorted(order) == [0, 1, 2, 3]
    assert nearest_images(features, features, k=9).shape == (4, 4)


def test_mistakes_are_named():
    with pytest.raises(ValueError, match="3 captions for 4 training images"):
        nearest_neighbour_captions(TRAIN, CAPTIONS[:3], TRAIN)
    with pytest.raises(UserInputError, match="training image 1 has no caption"):
        nearest_neighbour_captions(TRAIN, [["a"], [], ["b"], ["c"]], TRAIN)
    with pytest.raises(UserInputError, match="no training image"):
        nearest_neighbour_captions(TRAIN[:0], [], TRAIN)
    with pytest.raises(UserInputError, match="differ in channels"):
        nearest_neighbour_captions(TRAIN, CAPTIONS, TRAIN[..., 0])
    with pytest.raises(UserInputError, match="images must be"):
        image_features(np.zeros((2, 3, 4, 5, 6)))
    assert nearest_neighbour_captions(TRAIN, CAPTIONS, TRAIN[:0]) == []
