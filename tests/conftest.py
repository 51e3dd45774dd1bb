"""Test-wide settings: offline data in a per-session TFDS folder, quiet TensorFlow."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session", autouse=True)
def tfds_data_dir(tmp_path_factory):
    """Bundled datasets are prepared once per session into a fresh folder.

    Subprocesses inherit it through TFDS_DATA_DIR, so nothing outside the test
    folders is written and a clean machine behaves like CI.
    """
    path = tmp_path_factory.mktemp("tensorflow_datasets")
    previous = os.environ.get("TFDS_DATA_DIR")
    os.environ["TFDS_DATA_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("TFDS_DATA_DIR", None)
    else:
        os.environ["TFDS_DATA_DIR"] = previous
