"""Time-series forecasting with recurrent networks, end to end.

Run it with no arguments to forecast the next 24 hours of dry-bulb temperature
from the last 72 hours of weather (pvlib's typical-meteorological-year sample,
Greensboro NC), with an LSTM and a Gaussian head; the test period is scored by
rolling origin against naive, seasonal naive and Holt-Winters forecasts, and
the export takes raw windows and returns forecasts with 80% intervals::

    python -m pipelines.forecasting
    tensorboard --logdir saved_models/forecasting/runs      # forecast plots under Images

Variants by configuration::

    --set model=seq2seq                      # encoder + autoregressive decoder
    --set head=quantile quantiles=0.1,0.5,0.9
    --set cell=gru bidirectional=true lookback=168

Your own series: a CSV with a time column, the target and other features::

    python -m pipelines.forecasting --data load.csv \\
        --set time_column=timestamp target=load features=load,temperature season=24

Then forecast from the latest rows of a CSV::

    python -m pipelines.forecasting predict recent.csv
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("forecasting")
