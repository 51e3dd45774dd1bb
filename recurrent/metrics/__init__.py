"""Thin wrappers over the field's metric libraries, and side-by-side reports."""
