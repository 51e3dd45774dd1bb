import numpy as np
import pytest

from recurrent.layers.latent import GaussianLatent
from tests.helpers.layer_checklist import assert_config_round_trip

RNG = np.random.default_rng(0)
STATES = [
    RNG.normal(size=(8, 6)).astype("float32"),
    RNG.normal(size=(8, 6)).astype("float32"),
]


def _kl(latent, states):
    joined = np.concatenate(states, -1)
    mean = joined @ latent.mean.kernel.numpy() + latent.mean.bias.numpy()
    log_variance = (
        joined @ latent.log_variance.kernel.numpy() + latent.log_variance.bias.numpy()
    )
    per_dimension = (-0.5 * (1 + log_variance - mean**2 - np.exp(log_variance))).mean(0)
    return per_dimension


def test_inference_is_deterministic_and_adds_no_loss():
    latent = GaussianLatent(4)
    first = [np.array(s) for s in latent(STATES)]
    second = [np.array(s) for s in latent(STATES)]
    assert [s.shape for s in first] == [(8, 6), (8, 6)]
    np.testing.assert_array_equal(first[0], second[0])
    assert not latent.losses and float(latent.steps.numpy()) == 0
    assert float(latent.kl_tracker.result()) == pytest.approx(
        _kl(latent, STATES).sum(), rel=1e-4
    )


def test_training_samples_anneals_the_kl_and_floors_each_dimension():
    latent = GaussianLatent(4, anneal_steps=4, free_bits=5.0)
    latent.build([s.shape for s in STATES])
    weights = []
    for _ in range(6):
        latent(STATES, training=True)
        (loss,) = latent.losses
        weights.append(float(loss))
    # Each dimension's KL is far below the 5-nat floor: the loss is the floor times the weight.
    assert (_kl(latent, STATES) < 5.0).all()
    np.testing.assert_allclose(weights, [0, 5, 10, 15, 20, 20], atol=1e-4)
    assert float(latent.steps.numpy()) == 6
    sampled = np.array(latent(STATES, training=True)[0])
    assert not np.allclose(sampled, np.array(latent(STATES)[0]))


def test_config_round_trip():
    assert_config_round_trip(GaussianLatent(3, anneal_steps=10, free_bits=0.5))
