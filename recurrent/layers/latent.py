"""A Gaussian latent vector between an encoder and a decoder (VAE-style)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="recurrent")
class GaussianLatent(keras.layers.Layer):
    """Encoder states -> q(z | x) = N(mu, sigma^2) -> z -> decoder states.

    The encoder's final states (concatenated) give mu and log sigma^2; z is
    sampled with the reparameterisation trick while training and is mu
    otherwise; each decoder state is tanh(W z + b), so everything the decoder
    starts from passes through z. The KL divergence to N(0, I) is added as a
    loss while training, with two guards against posterior collapse:

    - KL annealing (Bowman et al. 2016): the KL weight rises linearly from 0
      to 1 over `anneal_steps` training steps (a step counter kept in the
      layer's weights, so a resumed run goes on where it stopped);
    - free bits (Kingma et al. 2016): each dimension's KL, averaged over the
      batch, counts at least `free_bits` nats, so the optimiser gains nothing
      by pushing a dimension below that.

    The KL itself (nats per example, summed over dimensions, no floor) is
    tracked as the metric "kl", in training and validation.

    Args:
        latent_dim: size of z.
        anneal_steps: training steps over which the KL weight reaches 1 (0:
            weight 1 from the start).
        free_bits: the floor of each dimension's KL, in nats (0: none).
        **kwargs: base `Layer` arguments.

    Call arguments:
        states: list of `[batch, width]` encoder states.
        training: Python boolean: sample z and add the KL loss.

    Returns:
        A list of `[batch, width]` states, one per input state, each as wide
        as its input.

    Example:
        >>> latent = GaussianLatent(4)
        >>> states = latent([keras.ops.ones((2, 6)), keras.ops.ones((2, 6))])
        >>> [tuple(state.shape) for state in states]
        [(2, 6), (2, 6)]

    Reference:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Bowman et al., "Generating Sentences from a Continuous Space", CoNLL
        2016. Kingma et al., "Improved Variational Inference with Inverse
        Autoregressive Flow", NeurIPS 2016 (free bits).
    """

    def __init__(self, latent_dim, anneal_steps=1000, free_bits=0.0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.anneal_steps = anneal_steps
        self.free_bits = free_bits
        self.mean = keras.layers.Dense(latent_dim, name="mean")
        self.log_variance = keras.layers.Dense(latent_dim, name="log_variance")
        self.outputs = []
        self.kl_tracker = keras.metrics.Mean("kl")
        self.seed = keras.random.SeedGenerator(0)

    def build(self, states_shape):
        width = sum(shape[-1] for shape in states_shape)
        self.mean.build((None, width))
        self.log_variance.build((None, width))
        if not self.outputs:
            self.outputs = [
                keras.layers.Dense(shape[-1], activation="tanh", name=f"state_{index}")
                for index, shape in enumerate(states_shape)
            ]
        for output in self.outputs:
            output.build((None, self.latent_dim))
        self.steps = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="steps"
        )

    def kl_weight(self):
        """The KL weight of the current training step, in [0, 1]."""
        if self.anneal_steps <= 0:
            return ops.convert_to_tensor(1.0)
        return ops.minimum(self.steps / float(self.anneal_steps), 1.0)

    def call(self, states, training=None):
        joined = ops.concatenate(list(states), axis=-1)
        mean, log_variance = self.mean(joined), self.log_variance(joined)
        log_variance = ops.clip(log_variance, -10.0, 10.0)
        # KL(N(mu, sigma^2) || N(0, 1)) per dimension, averaged over the batch.
        per_dimension = ops.mean(
            -0.5 * (1.0 + log_variance - ops.square(mean) - ops.exp(log_variance)),
            axis=0,
        )
        self.kl_tracker.update_state(ops.sum(per_dimension))
        z = mean
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed)
            z = mean + ops.exp(0.5 * log_variance) * noise
            floored = ops.maximum(per_dimension, self.free_bits)
            self.add_loss(self.kl_weight() * ops.sum(floored))
            self.steps.assign_add(1.0)
        return [output(z) for output in self.outputs]

    def compute_output_shape(self, states_shape):
        return [tuple(shape) for shape in states_shape]

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            anneal_steps=self.anneal_steps,
            free_bits=self.free_bits,
        )
        return config
