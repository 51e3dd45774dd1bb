"""Keras 3 layers shared by every task."""

from recurrent.layers.attention import BahdanauAttention, LocalAttention, LuongAttention
from recurrent.layers.conv import ConvFeatures
from recurrent.layers.copy import (
    PointerGenerator,
    SwitchingPointer,
    coverage_loss,
    cumulative_coverage,
    decoder_input_ids,
    extended_source_ids,
    extended_target_ids,
)
from recurrent.layers.decoder import AttentionDecoder, StateBridge
from recurrent.layers.disconnected import DisconnectedRNN
from recurrent.layers.forecast import AutoregressiveDecoder, ForecastHead
from recurrent.layers.latent import GaussianLatent
from recurrent.layers.pooling import AttentionPooling, SequencePooling
from recurrent.layers.recurrent import (
    CELLS,
    MERGE_MODES,
    RecurrentEncoder,
    get_cell,
    get_rnn,
)

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "LocalAttention",
    "LuongAttention",
    "StateBridge",
    "PointerGenerator",
    "SwitchingPointer",
    "GaussianLatent",
    "coverage_loss",
    "cumulative_coverage",
    "decoder_input_ids",
    "extended_source_ids",
    "extended_target_ids",
    "CELLS",
    "MERGE_MODES",
    "AttentionPooling",
    "AutoregressiveDecoder",
    "ConvFeatures",
    "DisconnectedRNN",
    "ForecastHead",
    "RecurrentEncoder",
    "SequencePooling",
    "get_cell",
    "get_rnn",
]
