import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from recurrent.errors import UserInputError
from tasks.base import TaskConfig, learning_rate, optimizer


def test_constant_is_the_configured_rate():
    assert learning_rate(TaskConfig(learning_rate=0.01), steps_per_epoch=5) == 0.01


def test_cosine_warms_up_then_decays_to_zero_at_the_last_step():
    config = TaskConfig(learning_rate=0.01, epochs=4, schedule="cosine", warmup=0.25)
    schedule = learning_rate(config, steps_per_epoch=10)  # 40 steps, 10 warm-up
    rates = np.array([float(schedule(step)) for step in range(41)])
    assert rates[0] == 0.0
    np.testing.assert_allclose(rates[5], 0.005, rtol=1e-5)
    np.testing.assert_allclose(rates[10], 0.01, rtol=1e-5)
    assert np.all(np.diff(rates[10:]) <= 0) and rates[40] < 1e-9


def test_the_optimizer_counts_the_steps_of_its_dataset():
    config = TaskConfig(learning_rate=0.01, epochs=2, schedule="cosine", warmup=0.0)
    train = tf.data.Dataset.range(30).batch(3)  # 10 steps an epoch
    rate = optimizer(config, train).learning_rate  # at step 0: the peak
    np.testing.assert_allclose(float(rate), 0.01, rtol=1e-5)
    with pytest.raises(ValueError, match="known length"):
        optimizer(config)
    assert float(
        optimizer(dataclasses.replace(config, schedule="constant")).learning_rate
    ) == pytest.approx(0.01)


@pytest.mark.parametrize(("name", "value"), [("schedule", "linear"), ("warmup", 1.0)])
def test_bad_schedules_are_refused(name, value):
    with pytest.raises(UserInputError, match=name):
        TaskConfig(**{name: value})
