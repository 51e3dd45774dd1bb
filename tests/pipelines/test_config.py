import pytest

from pipelines.runner.config import resolve
from recurrent.errors import UserInputError
from tasks.text_classification import Config


def test_order_is_defaults_then_smoke_then_file_then_set(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('units = 12\ncell = "lstm"\nbidirectional = false\n')
    config = resolve(
        Config, smoke=True, config_file=str(file), assignments=["units=20"]
    )
    assert config.units == 20
    assert config.cell == "lstm" and config.bidirectional is False
    assert config.max_batches == Config().tiny().max_batches
    assert config.epochs == Config().tiny().epochs


def test_a_config_table_is_accepted(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text("[config]\nlearning_rate = 0.01\n")
    assert resolve(Config, config_file=str(file)).learning_rate == 0.01


@pytest.mark.parametrize(
    "assignments,message",
    [
        (["colour=red"], "unknown setting 'colour' in --set; valid keys: batch_size, "),
        (["units"], "--set takes key=value pairs"),
        (["units=many"], "units takes a int value, got 'many'"),
        (["bidirectional=maybe"], "bidirectional takes a bool value"),
        (["cell=transformer"], "unknown cell 'transformer'"),
    ],
)
def test_bad_settings_give_one_clear_message(assignments, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(")):
        resolve(Config, assignments=assignments)


def test_unknown_keys_in_a_file_are_refused(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text("colour = 'red'\n")
    with pytest.raises(
        UserInputError, match="unknown setting 'colour' in .*config.toml"
    ):
        resolve(Config, config_file=str(file))


def test_a_missing_config_file_names_the_path():
    with pytest.raises(UserInputError, match="config file 'nope.toml' not found"):
        resolve(Config, config_file="nope.toml")


def test_choices_in_any_case_are_kept_in_lower_case():
    from tasks.forecasting import Config as ForecastingConfig
    from tasks.text_classification import Config as TextClassificationConfig
    from tasks.translation import Config as TranslationConfig

    # The code compares settings to lower-case names: `Window` must act as `window`.
    assert (
        ForecastingConfig(normalize="Window", model="Many_To_One").normalize == "window"
    )
    assert ForecastingConfig(model="Many_To_One").model == "many_to_one"
    assert TextClassificationConfig(pooling="Attention").pooling == "attention"
    assert TranslationConfig(attention="LOCAL").attention == "local"
    assert TranslationConfig(schedule="Cosine").schedule == "cosine"
