import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers import ConvFeatures
from recurrent.layers.conv import ImageEncoder
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

X = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")


def test_config_round_trip():
    assert_config_round_trip(ConvFeatures(5, kernel_sizes=(2, 3), activation="tanh"))


def test_symbolic_and_eager_shapes():
    assert_symbolic_and_eager_shapes(lambda: ConvFeatures(5, kernel_sizes=(2, 3)), X)


def test_matches_a_numpy_same_padded_convolution_of_the_masked_input():
    layer = ConvFeatures(2, kernel_sizes=(3,), activation="linear")
    layer.build(X.shape)
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 4, 2)).astype("float32")
    bias = rng.normal(size=(2,)).astype("float32")
    layer.set_weights([kernel, bias])
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    masked = X * mask[..., None]
    padded = np.pad(masked, [(0, 0), (1, 1), (0, 0)])
    expected = np.stack(
        [
            np.einsum("bkf,kfo->bo", padded[:, t : t + 3], kernel) + bias
            for t in range(6)
        ],
        1,
    )
    np.testing.assert_allclose(layer(X, mask=mask), expected, atol=1e-5)
    assert layer.compute_mask(X, mask) is mask


def test_padding_never_leaks_into_valid_positions():
    layer = ConvFeatures(3, kernel_sizes=(3,))
    mask = np.array([[1, 1, 1, 0, 0, 0]] * 2, bool)
    noisy = X.copy()
    noisy[:, 3:] = 99.0
    np.testing.assert_allclose(
        layer(noisy, mask=mask)[:, :3], layer(X, mask=mask)[:, :3]
    )


def test_every_trainable_weight_changes_after_one_fit_step():
    inputs = keras.Input((6, 4))
    features = ConvFeatures(3, kernel_sizes=(2, 3), activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(features)))
    assert_all_weights_train(model, X, np.ones((2, 1)))


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, ConvFeatures(3, kernel_sizes=(2, 3))(embedded))
    assert_keras_file_round_trip(
        model, np.array([[3, 4, 5, 0], [6, 7, 8, 9]]), tmp_path
    )


IMAGES = np.random.default_rng(1).uniform(0, 255, size=(2, 16, 16, 3)).astype("float32")


def test_image_encoder_config_round_trip():
    assert_config_round_trip(
        ImageEncoder(16, cell="gru", depth=2, width=4, dropout=0.1, shift=0.1)
    )


def test_image_encoder_shapes_grid_and_mean_annotation():
    assert_symbolic_and_eager_shapes(lambda: ImageEncoder(16, depth=2, width=4), IMAGES)
    encoder = ImageEncoder(16, depth=2, width=4)
    memory, mask, states = encoder(IMAGES)
    assert encoder.grid == (4, 4) and memory.shape == (2, 16, 8)
    assert np.array(mask).all() and len(states) == 2
    np.testing.assert_allclose(states[0], np.array(memory).mean(axis=1), atol=1e-6)
    assert len(ImageEncoder(16, cell="gru", depth=1, width=4)(IMAGES)[2]) == 1


def test_image_encoder_regions_follow_the_image_row_major():
    keras.utils.set_random_seed(0)
    encoder = ImageEncoder(16, depth=2, width=4)
    blank = np.zeros((1, 16, 16, 3), "float32")
    marked = blank.copy()
    marked[0, 12:, 0:4] = 255.0  # the bottom-left 4 x 4 pixels: region (3, 0)
    changed = np.abs(np.array(encoder(marked)[0]) - np.array(encoder(blank)[0]))
    grid = changed.sum(-1)[0].reshape(4, 4)
    # Only regions whose receptive field reaches the mark change, the most
    # near it; the top right one sees nothing of it.
    assert grid[3, 0] > 0 and grid[0, 3] == 0
    assert np.unravel_index(grid.argmax(), grid.shape) in {(3, 0), (3, 1), (2, 0)}


def test_image_encoder_trains_and_survives_a_keras_file(tmp_path):
    images = keras.Input((16, 16, 3))
    memory, _, _ = ImageEncoder(16, depth=2, width=4, shift=0.1)(images)
    model = keras.Model(images, keras.layers.Dense(1)(memory))
    targets = np.ones((2, 16, 1), "float32")
    assert_all_weights_train(model, IMAGES, targets)
    assert_keras_file_round_trip(model, IMAGES, tmp_path)


def test_shift_augments_training_images_only():
    encoder = ImageEncoder(16, depth=1, width=4, shift=0.25)
    inference = [np.array(encoder(IMAGES)[0]) for _ in range(2)]
    np.testing.assert_allclose(inference[0], inference[1])
    trained = [np.array(encoder(IMAGES, training=True)[0]) for _ in range(2)]
    assert not np.allclose(trained[0], trained[1])


def test_a_backbone_reads_weights_from_a_local_file(tmp_path):
    path = tmp_path / "backbone.weights.h5"
    source = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None
    )
    source.save_weights(path)
    encoder = ImageEncoder(
        32, backbone="mobilenet_v3_small", backbone_weights=str(path)
    )
    memory, _, states = encoder(IMAGES.repeat(2, 1).repeat(2, 2))
    expected = source(IMAGES.repeat(2, 1).repeat(2, 2), training=False)
    np.testing.assert_allclose(
        np.array(memory), np.array(expected).reshape(2, -1, 576), atol=1e-5
    )
    assert encoder.grid == (1, 1) and not encoder.trainable_weights
    tuned = ImageEncoder(32, backbone="mobilenet_v3_small", backbone_trainable=True)
    tuned.build()
    assert tuned.trainable_weights
    restored = ImageEncoder.from_config(
        {**encoder.get_config(), "backbone_weights": str(tmp_path / "gone.h5")}
    )
    assert restored.backbone_weights.endswith("gone.h5")  # a saved model: not read


@pytest.mark.parametrize(
    "options, message",
    [
        ({"backbone": "resnet9000"}, "image backbone"),
        ({"backbone": "mobilenet_v3_small", "backbone_weights": "no.h5"}, "not found"),
    ],
)
def test_bad_backbones_name_the_fix(options, message, tmp_path):
    with pytest.raises(UserInputError, match=message):
        ImageEncoder(32, **options)


def test_a_weights_file_of_another_network_is_refused(tmp_path):
    path = tmp_path / "other.weights.h5"
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save_weights(path)
    with pytest.raises(UserInputError, match="weights saved for MobileNetV3Small"):
        ImageEncoder(32, backbone="mobilenet_v3_small", backbone_weights=str(path))


def test_a_saved_model_keeps_its_backbone_weights_without_the_file(tmp_path):
    path = tmp_path / "backbone.weights.h5"
    source = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None
    )
    source.save_weights(path)
    images = keras.Input((32, 32, 3))
    memory, _, _ = ImageEncoder(
        32, backbone="mobilenet_v3_small", backbone_weights=str(path)
    )(images)
    model = keras.Model(images, memory)
    pixels = IMAGES.repeat(2, 1).repeat(2, 2)
    expected = np.array(model(pixels))
    model.save(tmp_path / "model.keras")
    path.unlink()
    restored = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(np.array(restored(pixels)), expected, atol=1e-5)
