"""Whole models built from the shared layers, for tasks to configure."""

from recurrent.models.encoders import TokenEncoder
from recurrent.models.seq2seq import Seq2Seq, token_seq2seq

__all__ = ["Seq2Seq", "TokenEncoder", "token_seq2seq"]
