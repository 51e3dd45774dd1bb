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


# Test files whose tests must share one worker, because they read one
# session-wide pipeline run (tests/pipelines/conftest.py).
SHARED_RUNS = {
    "test_extractive_summarization_pipeline": "summarization_smoke",
    "test_abstractive_summarization_pipeline": "summarization_smoke",
}


# First: pytest-xdist reads the group marks in its own hook of this name.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """With pytest-xdist (`-n 2 --dist loadgroup`), the tests of one file run
    on one worker, so a module's pipeline run is made once; files that read a
    session-wide run share a worker too."""
    for item in items:
        module = item.module.__name__
        group = SHARED_RUNS.get(module.rpartition(".")[2], module)
        item.add_marker(pytest.mark.xdist_group(group))
