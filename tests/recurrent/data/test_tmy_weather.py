import pandas as pd

from recurrent.data.bundled.tmy_weather import COLUMNS
from recurrent.data.sources import load_table


def test_the_bundled_weather_year_loads_in_time_order_with_every_column(tmp_path):
    columns = {name: name for name in ["time", *COLUMNS]}
    table = load_table("tmy_weather", columns, data_dir=str(tmp_path))
    assert len(table) == 8760
    times = pd.to_datetime(table["time"]).sort_values()
    assert times.iloc[0] == pd.Timestamp("2001-01-01 01:00")
    assert (
        times.diff().dropna() == pd.Timedelta(hours=1)
    ).all()  # one row per hour, no gaps
    assert table["dry_bulb"].between(-30, 45).all()
    assert not table[list(COLUMNS)].isna().any().any()
