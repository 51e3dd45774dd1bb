"""Test-wide settings: offline data in a per-session TFDS folder, a per-session
cache of derived data, quiet TensorFlow."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _session_folder(tmp_path_factory, variable: str, name: str):
    """Points `variable` at a fresh folder for the session, then restores it.

    Subprocesses inherit it, so nothing outside the test folders is written
    and a clean machine behaves like CI.
    """
    path = tmp_path_factory.mktemp(name)
    previous = os.environ.get(variable)
    os.environ[variable] = str(path)
    yield path
    if previous is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = previous


@pytest.fixture(scope="session", autouse=True)
def tfds_data_dir(tmp_path_factory):
    """Bundled datasets are prepared once per session into a fresh folder."""
    yield from _session_folder(tmp_path_factory, "TFDS_DATA_DIR", "tensorflow_datasets")


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory):
    """Oracle labels and other derived data are cached in a fresh folder."""
    yield from _session_folder(tmp_path_factory, "RECURRENT_CACHE_DIR", "cache")
