"""Whole models built from the shared layers, for tasks to configure."""

from recurrent.models.seq2seq import Seq2Seq

__all__ = ["Seq2Seq"]
