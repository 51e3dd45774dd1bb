import keras
import numpy as np

from recurrent.layers import ConvFeatures
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
