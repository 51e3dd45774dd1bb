"""Runnable pipelines, one module per task: `python -m pipelines.<task>`."""
