"""The command line, training loop, TensorBoard logging and export shared by every task."""

from pipelines.runner.cli import main

__all__ = ["main"]
