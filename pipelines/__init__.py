"""Runnable pipelines, one module per task: `python -m pipelines.<task>`."""

import os

# Keep TensorFlow's C++ start-up chatter out of the terminal unless asked for.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
