"""The command line answers before TensorFlow loads, takes `--set` only as
key=value words, refuses options a command would ignore, and prints no
TensorFlow start-up noise."""

import subprocess
import sys
import time

import pytest

from pipelines.runner.cli import parse, split_settings
from recurrent.errors import UserInputError
from tests.pipelines.pipeline_process import PROJECT, environment


@pytest.mark.parametrize(
    "argv,rest,settings",
    [
        (["--set", "units=4", "train"], ["train"], ["units=4"]),
        (
            ["predict", "--set", "a=1", "b=2", "Jesus wept."],
            ["predict", "Jesus wept."],
            ["a=1", "b=2"],
        ),
        (["--set=units=4", "--smoke"], ["--smoke"], ["units=4"]),
        (["--set", "x=1", "--", "--set"], ["--", "--set"], ["x=1"]),
    ],
)
def test_set_takes_only_key_value_words(argv, rest, settings):
    assert split_settings(argv) == (rest, settings)


def test_set_without_a_key_value_word_is_refused():
    with pytest.raises(UserInputError, match="--set takes KEY=VALUE words"):
        split_settings(["--set", "train"])


def test_set_before_the_sub_command_leaves_the_sub_command_alone():
    args = parse("translation", ["--set", "units=4", "train", "--smoke"])
    assert args.command == "train" and args.set == ["units=4"] and args.smoke


@pytest.mark.parametrize(
    "argv,message",
    [
        (["predict", "--set", "beam_size=1", "Jesus wept."], "predict takes no --set"),
        (["predict", "--smoke", "x"], "predict takes no --smoke"),
        (["predict", "--data", "a.csv", "x"], "predict takes no --data"),
        (["predict", "--config", "c.toml", "x"], "predict takes no --config"),
        (["evaluate", "--smoke"], "evaluate takes no --smoke"),
        (["evaluate", "--run", "r"], "evaluate takes no --run"),
        (["export", "--model", "m"], "export takes no --model"),
        (["export", "--data", "a.csv"], "export takes no --data"),
        (["train", "--model", "m"], "train takes no --model"),
        (["--input", "f.txt"], "a full run takes no --input"),
    ],
)
def test_options_a_command_does_not_use_are_refused(argv, message):
    with pytest.raises(UserInputError, match=message):
        parse("translation", argv)


def test_parsing_does_not_import_tensorflow():
    script = (
        "import sys; from pipelines.runner.cli import parse;"
        "parse('translation', ['train', '--set', 'units=4']);"
        "print(sorted(m for m in sys.modules if m.startswith(('tensorflow', 'keras'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def _quick(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT,
        env=dict(environment(), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.perf_counter() - started


def test_help_and_argument_errors_answer_at_once():
    helped, seconds = _quick("pipelines.translation", "--help")
    assert helped.returncode == 0 and "COMMAND" in helped.stdout
    assert seconds < 2.0  # importing TensorFlow alone takes longer
    refused, seconds = _quick("pipelines.translation", "predict", "--smoke", "x")
    assert refused.returncode == 2 and seconds < 2.0
    assert refused.stderr.strip().startswith("error: predict takes no --smoke")


@pytest.mark.parametrize("level", [None, "3"])
def test_a_command_prints_no_tensorflow_start_up_noise(tmp_path, level):
    env = environment()
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    if level:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.forecasting", "evaluate"]
        + ["--output", str(tmp_path)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: no export of forecasting under {tmp_path}; run `python -m "
        "pipelines.forecasting` first, or pass --model PATH"
    ]


def test_non_utf8_words_on_the_command_line_get_one_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.translation", "predict", b"caf\xe9"]
        + ["--output", str(tmp_path)],
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        "error: input 1 is not valid UTF-8 text; pass UTF-8 (a file in another "
        "encoding: iconv -f ENCODING -t UTF-8 FILE)"
    )
