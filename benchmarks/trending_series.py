"""A real trending series for the forecasting pipeline: US real GDP, quarterly.

statsmodels bundles the US macroeconomic data of 1959Q1 to 2009Q3 (203
quarters; `statsmodels.datasets.macrodata`, from the Federal Reserve Bank of St.
Louis). Real GDP (billions of chained 2005 dollars, seasonally adjusted) more
than quadruples over the period, so its validation and test quarters lie above
everything in the training part: the case per-window normalisation and
differencing are for. This script writes it as a CSV with a time column and
prints the commands that score it: settings are compared on the validation
split (benchmarks/forecasting_validation.py), then the chosen one is run once
on test as a user would.

    python benchmarks/trending_series.py [--output us_gdp.csv]
"""

import argparse
import shlex
from pathlib import Path

import pandas as pd

SETTINGS = (
    "time_column=quarter target=realgdp features=realgdp,realcons,realinv "
    "season=4 lookback=8 horizon=4"
)
CANDIDATES = ("", "normalize=window", "difference=1", "normalize=window difference=1")
# Lowest validation MAE of the candidates (see BENCHMARKS.md).
CHOSEN = "normalize=window difference=1"


def us_gdp() -> pd.DataFrame:
    """Quarter start dates and the national accounts columns, in time order."""
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(
        year=data["year"].astype(int), quarter=data["quarter"].astype(int), freq="Q"
    )
    return pd.DataFrame(
        {
            "quarter": quarters.to_timestamp().strftime("%Y-%m-%d"),
            **{name: data[name] for name in ("realgdp", "realcons", "realinv")},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="us_gdp.csv")
    args = parser.parse_args()
    path = Path(args.output)
    us_gdp().to_csv(path, index=False)
    print(f"wrote {path} ({len(us_gdp())} quarters)\n\nchoose on validation:")
    for extra in CANDIDATES:
        print(
            f"  python benchmarks/forecasting_validation.py --data {shlex.quote(str(path))}"
            f" --output saved_models/us_gdp --set {SETTINGS} {extra}".rstrip()
        )
    print("\nthen score the chosen settings once on test:")
    print(
        f"  python -m pipelines.forecasting --data {shlex.quote(str(path))} "
        f"--output saved_models/us_gdp --set {SETTINGS} {CHOSEN}"
    )


if __name__ == "__main__":
    main()
