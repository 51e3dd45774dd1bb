"""Pipeline runs that several test modules read."""

import pytest

from tests.pipelines.pipeline_process import run_pipeline


@pytest.fixture(scope="session")
def extractive_smoke(tmp_path_factory):
    """One smoke run of the extractive summarizer: its own tests read it, and
    the abstractive summarizer scores its export as a baseline."""
    output = tmp_path_factory.mktemp("extractive_smoke")
    return output, run_pipeline("extractive_summarization", "--smoke", output=output)
