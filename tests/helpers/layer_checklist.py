"""The checks every custom layer passes (DESIGN.md convention 6)."""

import inspect

import keras
import numpy as np

BASE_CONFIG_KEYS = {"name", "trainable", "dtype"}


def assert_config_round_trip(layer: keras.layers.Layer) -> None:
    """get_config() holds exactly the constructor arguments and rebuilds an equal layer."""
    config = layer.get_config()
    parameters = set(inspect.signature(type(layer).__init__).parameters) - {
        "self",
        "kwargs",
    }
    assert set(config) - BASE_CONFIG_KEYS == parameters
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(restored) is type(layer)
    assert restored.get_config() == config


def _shapes(value):
    return keras.tree.map_structure(lambda tensor: tuple(tensor.shape), value)


def assert_symbolic_and_eager_shapes(layer_factory, inputs: np.ndarray) -> None:
    """Symbolic outputs, eager outputs and compute_output_shape agree (batch left free)."""
    eager = _shapes(layer_factory()(inputs))
    symbolic_input = keras.Input(inputs.shape[1:], dtype=str(inputs.dtype))
    symbolic = _shapes(layer_factory()(symbolic_input))
    declared = keras.tree.map_shape_structure(
        tuple, layer_factory().compute_output_shape((None, *inputs.shape[1:]))
    )
    free_batch = keras.tree.map_shape_structure(lambda shape: (None, *shape[1:]), eager)
    assert free_batch == symbolic, (eager, symbolic)
    assert symbolic == declared, (symbolic, declared)


def assert_all_weights_train(model: keras.Model, x, y, loss="mse") -> None:
    """One SGD step changes every trainable weight."""
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
    before = [weight.numpy() for weight in model.trainable_weights]
    assert before, "the model has no trainable weights"
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    unchanged = [
        weight.path
        for weight, old in zip(model.trainable_weights, before, strict=True)
        if np.allclose(weight.numpy(), old)
    ]
    assert not unchanged, f"weights unchanged after a fit step: {unchanged}"


def assert_keras_file_round_trip(model: keras.Model, x, tmp_path) -> None:
    """Saving to .keras and loading gives identical outputs."""
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    expected = keras.tree.flatten(model(x))
    actual = keras.tree.flatten(loaded(x))
    for want, got in zip(expected, actual, strict=True):
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=1e-6)


def simple_rnn_reference(x, kernel, recurrent_kernel, bias, mask=None, reverse=False):
    """NumPy SimpleRNN: h_t = tanh(x_t W + h_{t-1} U + b); masked steps keep the state."""
    batch, time, _ = x.shape
    h = np.zeros((batch, kernel.shape[1]), dtype=np.float64)
    outputs = np.zeros((batch, time, kernel.shape[1]))
    steps = range(time - 1, -1, -1) if reverse else range(time)
    for t in steps:
        new = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        if mask is not None:
            new = np.where(mask[:, t : t + 1], new, h)
        h = new
        outputs[:, t] = h
    return outputs, h
