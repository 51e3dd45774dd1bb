"""Hourly weather of a typical meteorological year, from the `pvlib` package.

`pvlib/data/723170TYA.CSV` is the TMY3 file of Greensboro, North Carolina
(USAF 723170): 8,760 hours, each month taken from a representative year. The
builder keeps the measured quantities under short names and gives every hour a
timestamp in one (non-leap) year, so the series runs January to December. The
whole series is one split, "full": forecasting pipelines split it
chronologically themselves.
"""

from pathlib import Path

import importlib_resources
import numpy as np
import pandas as pd
import tensorflow_datasets as tfds

YEAR = 2001
COLUMNS = {
    "dry_bulb": "Dry-bulb (C)",
    "dew_point": "Dew-point (C)",
    "rel_humidity": "RHum (%)",
    "pressure": "Pressure (mbar)",
    "wind_speed": "Wspd (m/s)",
    "wind_direction": "Wdir (degrees)",
    "ghi": "GHI (W/m^2)",
    "dni": "DNI (W/m^2)",
    "dhi": "DHI (W/m^2)",
    "total_cloud": "TotCld (tenths)",
    "opaque_cloud": "OpqCld (tenths)",
    "visibility": "Hvis (m)",
    "ceiling_height": "CeilHgt (m)",
    "precipitable_water": "Pwat (cm)",
    "albedo": "Alb (unitless)",
    "precipitation": "Lprecip depth (mm)",
}


def read_tmy3(path: Path | None = None) -> pd.DataFrame:
    """The TMY3 file as a table: `time` (ISO hour) and the columns of `COLUMNS`."""
    if path is None:
        path = Path(str(importlib_resources.files("pvlib") / "data" / "723170TYA.CSV"))
    raw = pd.read_csv(path, skiprows=1)
    month_day = raw["Date (MM/DD/YYYY)"].str[:5]
    hour = raw["Time (HH:MM)"].str[:2].astype(int)
    start_of_day = pd.to_datetime(f"{YEAR}/" + month_day, format="%Y/%m/%d")
    times = start_of_day + pd.to_timedelta(hour, unit="h")
    table = pd.DataFrame({"time": times.dt.strftime("%Y-%m-%dT%H:%M")})
    for name, column in COLUMNS.items():
        table[name] = raw[column].astype("float32")
    return table


class TmyWeather(tfds.core.GeneratorBasedBuilder):
    """Hourly weather, typical meteorological year, Greensboro NC (pvlib's TMY3 sample)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "8,760 hours, 16 measured quantities, one split."}

    def _info(self) -> tfds.core.DatasetInfo:
        features = {"time": tfds.features.Text()}
        features |= {name: np.float32 for name in COLUMNS}
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(features),
            homepage="https://nsrdb.nrel.gov/data-sets/archives",
            citation="Wilcox and Marion, Users Manual for TMY3 Data Sets, NREL 2008.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        return {"full": self._generate_examples()}

    def _generate_examples(self):
        yield from enumerate(read_tmy3().to_dict("records"))
