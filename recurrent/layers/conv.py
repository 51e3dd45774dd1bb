"""Convolutional front ends for recurrent models: n-gram features of text, region vectors of images."""

import warnings

import keras
from keras import ops

from recurrent.choices import lookup
from recurrent.errors import UserInputError
from recurrent.layers.recurrent import state_count


@keras.saving.register_keras_serializable(package="recurrent")
class ConvFeatures(keras.layers.Layer):
    """Convolutional front end of C-LSTM: n-gram feature maps fed to an RNN.

    One 1-D convolution per kernel size slides over the embedded tokens; the
    feature maps are concatenated along the feature axis, so each position
    holds features of the n-gram window around it. Padding is "same", so the
    sequence keeps its length and its mask.

    Masking: masked positions are zeroed before the convolution (padding never
    leaks into a window's features) and the input mask is passed on unchanged.

    Args:
        filters: number of filters per kernel size.
        kernel_sizes: window lengths, e.g. `(3,)` or `(2, 3, 4)`.
        activation: activation of the feature maps.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`.

    Returns:
        Float tensor `[batch, time, filters * len(kernel_sizes)]`.

    Reference:
        Zhou et al., "A C-LSTM Neural Network for Text Classification", 2015.
    """

    def __init__(self, filters, kernel_sizes=(3,), activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_sizes = tuple(kernel_sizes)
        self.activation = activation
        self.supports_masking = True
        self.convolutions = [
            keras.layers.Conv1D(
                filters,
                size,
                padding="same",
                activation=activation,
                name=f"conv_{size}",
            )
            for size in self.kernel_sizes
        ]

    def build(self, input_shape):
        for convolution in self.convolutions:
            convolution.build(input_shape)

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = inputs * ops.cast(mask, inputs.dtype)[..., None]
        features = [convolution(inputs) for convolution in self.convolutions]
        return features[0] if len(features) == 1 else ops.concatenate(features, -1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters * len(self.kernel_sizes),)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_sizes=list(self.kernel_sizes),
            activation=self.activation,
        )
        return config


# keras.applications backbones that take 0-255 RGB pixels (their preprocessing
# is inside the model), by the name a config uses.
BACKBONES = {
    "mobilenet_v3_small": "MobileNetV3Small",
    "mobilenet_v3_large": "MobileNetV3Large",
    "efficientnet_v2_b0": "EfficientNetV2B0",
    "convnext_tiny": "ConvNeXtTiny",
}


@keras.saving.register_keras_serializable(package="recurrent")
class ImageEncoder(keras.layers.Layer):
    """A CNN that reads an image into a grid of region vectors (Xu et al. 2015).

    The last feature map of the CNN, `rows x cols x features`, becomes the
    attention memory: one annotation vector a_i per region, row-major. Its
    mean over the regions (the mean annotation) is every state the decoder
    starts from (`StateBridge` "dense" then gives h_0 = tanh(W_h mean(a)) and
    c_0 = tanh(W_c mean(a)), as Show, Attend and Tell initialises its LSTM).
    It keeps the `Seq2Seq` encoder contract (`recurrent.models.encoders`);
    every region is valid, so the mask is all True.

    The CNN is trained from scratch by default: `depth` blocks of two 3x3
    convolutions (batch normalisation, ReLU) and a 2x2 max pooling, the first
    block `width` filters wide and each next one twice as wide. Or it is a
    `keras.applications` backbone (`BACKBONES`) without its classifier, its
    weights read from a local file (`backbone_weights`, e.g. ImageNet weights
    downloaded once by the user), frozen (run in inference mode) or
    fine-tuned. Pixels are RGB in 0..255; the encoder scales them itself.

    With `shift > 0`, training images are translated at random by up to that
    share of their size (edges repeated). Nothing else is augmented: flips
    would swap left and right, and colour changes would change what a caption
    says of colours or skin tones.

    Args:
        image_size: height and width of the input images, in pixels.
        cell: the decoder's cell ("lstm" starts two states, h and c).
        depth: convolution blocks of the CNN trained from scratch.
        width: filters of its first block.
        dropout: dropout on the region vectors.
        shift: largest random translation in training, as a share of the size.
        backbone: "" for the CNN above, or a name in `BACKBONES`.
        backbone_weights: path of a weights file for the backbone (a
            `.weights.h5` Keras file, or the `.h5` files keras.applications
            publishes); "" starts it at random. Read when the layer is made;
            a saved model carries the weights, so loading one never reads it.
        backbone_trainable: fine-tune the backbone (else it stays frozen).
        **kwargs: base `Layer` arguments.

    Call arguments:
        images: `[batch, image_size, image_size, 3]` pixels in 0..255 (any
            number type).
        training: Python boolean (augmentation, dropout, batch statistics).

    Returns:
        `(memory, memory_mask, states)`: `[batch, rows * cols, features]`,
        all-True `[batch, rows * cols]`, and the mean annotation
        `[batch, features]` once per decoder state.

    Example:
        >>> encoder = ImageEncoder(32, depth=2, width=4)
        >>> memory, mask, states = encoder(keras.ops.zeros((2, 32, 32, 3)))
        >>> tuple(memory.shape), encoder.grid, len(states)
        ((2, 64, 8), (8, 8), 2)

    Reference:
        Xu et al., "Show, Attend and Tell: Neural Image Caption Generation
        with Visual Attention", ICML 2015.
    """

    # Seq2Seq keeps these initialisers (batch normalisation, loaded weights).
    own_initialisers = True

    def __init__(
        self,
        image_size,
        cell="lstm",
        depth=3,
        width=32,
        dropout=0.0,
        shift=0.0,
        backbone="",
        backbone_weights="",
        backbone_trainable=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.cell = cell
        self.depth = depth
        self.width = width
        self.dropout = dropout
        self.shift = shift
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.backbone_trainable = backbone_trainable
        self._states = state_count(cell)
        self.augment = (
            keras.layers.RandomTranslation(
                shift, shift, fill_mode="nearest", name="shift"
            )
            if shift > 0
            else None
        )
        if backbone:
            self.network = self._backbone(backbone, backbone_weights)
            self.network.trainable = bool(backbone_trainable)
        else:
            self.network = self._cnn()
        self.drop = keras.layers.Dropout(dropout)

    def _cnn(self) -> keras.Sequential:
        layers = [keras.layers.Rescaling(1 / 255.0)]
        for block in range(self.depth):
            for index in range(2):
                layers += [
                    keras.layers.Conv2D(
                        self.width * 2**block,
                        3,
                        padding="same",
                        use_bias=False,
                        name=f"conv_{block}_{index}",
                    ),
                    keras.layers.BatchNormalization(name=f"norm_{block}_{index}"),
                    keras.layers.ReLU(),
                ]
            layers.append(keras.layers.MaxPooling2D(2, name=f"pool_{block}"))
        return keras.Sequential(layers, name="cnn")

    def _backbone(self, name: str, weights: str) -> keras.Model:
        from pathlib import Path

        constructor = getattr(
            keras.applications, lookup(BACKBONES, name, "image backbone")
        )
        if weights and not Path(weights).is_file():
            raise UserInputError(
                f"backbone weights file {weights!r} not found; pass the path of a "
                f"weights file saved for {constructor.__name__} (or no weights)"
            )
        model = constructor(
            input_shape=(self.image_size, self.image_size, 3),
            include_top=False,
            weights=None,
        )
        if weights:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    # Keras warns, and loads nothing, of layers the file lacks.
                    warnings.simplefilter("always", UserWarning)
                    model.load_weights(weights)
                problems = [w for w in caught if issubclass(w.category, UserWarning)]
                if problems:
                    raise ValueError(str(problems[0].message))
            except (ValueError, OSError) as error:
                raise UserInputError(
                    f"cannot load {weights!r} into {constructor.__name__} at "
                    f"{self.image_size} px: {str(error).splitlines()[0][:300]}; pass "
                    f"weights saved for {constructor.__name__} without its top"
                ) from None
        return model

    @classmethod
    def from_config(cls, config):
        # A saved model restores the trained weights: the file is not read again.
        layer = cls(**{**config, "backbone_weights": ""})
        layer.backbone_weights = config.get("backbone_weights", "")
        return layer

    @property
    def source_shape(self):
        return (None, self.image_size, self.image_size, 3)

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, cols) of the region grid."""
        shape = self.network.compute_output_shape(self.source_shape)
        return int(shape[1]), int(shape[2])

    def build(self, images_shape=None):
        if not self.network.built:
            self.network.build(self.source_shape)
        self.built = True

    def call(self, images, training=None):
        images = ops.cast(images, "float32")
        if self.augment is not None:
            images = self.augment(images, training=training)
        frozen = self.backbone and not self.backbone_trainable
        features = self.network(images, training=False if frozen else training)
        rows, cols = self.grid
        memory = ops.reshape(features, (-1, rows * cols, features.shape[-1]))
        memory = self.drop(memory, training=training)
        mask = ops.ones(ops.shape(memory)[:2], dtype="bool")
        mean = ops.mean(memory, axis=1)
        return memory, mask, [mean] * self._states

    def compute_output_shape(self, images_shape):
        rows, cols = self.grid
        features = self.network.compute_output_shape(self.source_shape)[-1]
        batch = images_shape[0]
        return (
            (batch, rows * cols, features),
            (batch, rows * cols),
            [(batch, features)] * self._states,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            image_size=self.image_size,
            cell=self.cell,
            depth=self.depth,
            width=self.width,
            dropout=self.dropout,
            shift=self.shift,
            backbone=self.backbone,
            backbone_weights=self.backbone_weights,
            backbone_trainable=self.backbone_trainable,
        )
        return config
