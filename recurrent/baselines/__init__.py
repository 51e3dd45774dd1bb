"""Baselines every model of the suite is compared with."""
