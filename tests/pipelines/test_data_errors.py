"""A user's data mistakes end in one clear message and exit code 2, fast."""

import os
import time

from tests.pipelines.pipeline_process import run_pipeline

TASK = "text_classification"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: every connection is refused


def test_an_unprepared_tfds_dataset_offline_fails_fast_and_leaves_nothing(
    tmp_path, monkeypatch
):
    data_dir = tmp_path / "tensorflow_datasets"
    data_dir.mkdir()
    monkeypatch.setenv("TFDS_DATA_DIR", str(data_dir))
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, CLOSED_PORT)
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    start = time.monotonic()
    result = run_pipeline(
        TASK,
        "train",
        "--data",
        "tfds:imdb_reviews",
        output=tmp_path / "out",
        check=False,
        timeout=120,
    )
    assert time.monotonic() - start < 30
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (message,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert message.startswith("error: could not download and prepare tfds:imdb_reviews")
    assert "`tfds build imdb_reviews/plain_text` or this same command" in message
    assert "copy the prepared folder imdb_reviews/plain_text/1.0.0" in message
    assert message.endswith(f"into TFDS_DATA_DIR here ({data_dir})")
    assert os.listdir(data_dir) == []


def test_a_data_value_too_long_for_a_path_is_unknown_data(tmp_path):
    result = run_pipeline(
        TASK, "train", "--data", "x" * 5_000, output=tmp_path, check=False
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "error: unknown data 'xxx" in result.stderr
    assert "(5,000 characters); pass a bundled dataset" in result.stderr
    assert len(result.stderr) < 1_000
