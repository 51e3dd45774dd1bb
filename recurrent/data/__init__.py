"""Data sources, bundled datasets, tokenizers and time-series windows."""
