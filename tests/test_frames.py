"""forecast_frame and attention_frame: answers on the series' own timestamps."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    WindowedArray,
    attention_frame,
    forecast_frame,
    make_windows,
)
from sklattn._validation import flat_feature_names


@pytest.fixture(scope="module")
def hourly():
    rng = np.random.default_rng(0)
    index = pd.date_range("2024-01-01", periods=300, freq="h", name="date")
    frame = pd.DataFrame(rng.normal(size=(300, 3)).cumsum(axis=0),
                         columns=["load", "temp", "OT"], index=index)
    return frame


def test_forecast_lands_on_the_next_timestamps_with_target_names(hourly):
    X, y = make_windows(hourly, lookback=24, horizon=6, targets=["OT", "load"])
    model = NaiveForecaster().fit(X, y)
    forecast = forecast_frame(model, hourly)
    expected_index = pd.date_range("2024-01-13 12:00", periods=6, freq="h", name="date")
    pd.testing.assert_index_equal(forecast.index, expected_index)
    assert list(forecast.columns) == ["OT", "load"]
    np.testing.assert_array_equal(forecast["OT"], hourly["OT"].iloc[-1])
    np.testing.assert_array_equal(forecast["load"], hourly["load"].iloc[-1])


def test_forecast_with_intervals_and_shuffled_extra_columns(hourly):
    X, y = make_windows(hourly, lookback=24, horizon=4, targets="OT")
    model = LinearForecaster(max_epochs=2, random_state=0, validation_fraction=0.25)
    model.fit(X, y)
    wider = hourly.assign(extra=1.0)[["extra", "OT", "temp", "load"]]
    forecast = forecast_frame(model, wider, coverage=0.8)
    assert list(forecast.columns) == ["OT", "OT_lower", "OT_upper"]
    assert (forecast["OT_lower"] <= forecast["OT"]).all()
    assert (forecast["OT"] <= forecast["OT_upper"]).all()
    window = WindowedArray(hourly.to_numpy()[-24:][None], feature_names=hourly.columns)
    np.testing.assert_allclose(forecast["OT"], model.predict(window).ravel())


def test_forecast_refuses_what_it_cannot_place_in_time(hourly):
    X, y = make_windows(hourly, lookback=24, horizon=2, targets="OT")
    model = NaiveForecaster().fit(X, y)
    with pytest.raises(TypeError, match="DatetimeIndex"):
        forecast_frame(model, hourly.reset_index(drop=True))
    with pytest.raises(TypeError, match="DataFrame"):
        forecast_frame(model, hourly.to_numpy())
    irregular = hourly.drop(hourly.index[[5, 17, 40]])
    with pytest.raises(ValueError, match="cannot infer the frequency"):
        forecast_frame(model, irregular)
    with pytest.raises(ValueError, match=r"lacks the columns \['temp'\]"):
        forecast_frame(model, hourly.drop(columns="temp"))
    with pytest.raises(ValueError, match="at least 24"):
        forecast_frame(model, hourly.iloc[:10])
    holes = hourly.copy()
    holes.iloc[-1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        forecast_frame(model, holes)
    assert not hourly.isna().any().any()  # the caller's frame was not touched


def test_an_explicit_frequency_is_used_even_with_a_gap_free_short_index(hourly):
    X, y = make_windows(hourly, lookback=24, horizon=3, targets="OT")
    model = NaiveForecaster().fit(X, y)
    daily = hourly.iloc[-24:].set_axis(pd.date_range("2024-03-01", periods=24, freq="D"))
    forecast = forecast_frame(model, daily)
    assert forecast.index[0] == pd.Timestamp("2024-03-25")


@pytest.mark.parametrize("make, columns, per_query", [
    (lambda: AttentionRNNRegressor(hidden_size=4, max_epochs=1, early_stopping=False,
                                   random_state=0),
     ["window_end", "lag", "time", "weight"], []),
    (lambda: TransformerForecaster(tokens="timestep", d_model=8, n_layers=1, max_epochs=1,
                                   early_stopping=False, random_state=0),
     ["window_end", "query_lag", "lag", "time", "weight"], ["query_lag"]),
    (lambda: TransformerForecaster(tokens="patch", patch_len=8, stride=4, d_model=8,
                                   n_layers=1, max_epochs=1, early_stopping=False,
                                   random_state=0),
     ["window_end", "feature", "query_patch", "patch", "first_lag", "last_lag", "start",
      "end", "weight"], ["feature", "query_patch"]),
    (lambda: TransformerForecaster(tokens="variate", d_model=8, n_layers=1, max_epochs=1,
                                   early_stopping=False, random_state=0),
     ["window_end", "query_feature", "feature", "weight"], ["query_feature"]),
])
def test_attention_frame_is_long_form_on_timestamps(make, columns, per_query, hourly):
    X, y = make_windows(hourly, lookback=24, horizon=2, targets="OT")
    model = make().fit(X, y)
    table = attention_frame(model, hourly, last=5)
    assert list(table.columns) == columns
    ends = pd.DatetimeIndex(sorted(table["window_end"].unique()))
    np.testing.assert_array_equal(ends.values, hourly.index[-5:].values)
    sums = table.groupby(["window_end", *per_query])["weight"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=1e-5)
    if "time" in table.columns:
        # an attended step's time is lag steps before the window's end
        delta = (table["window_end"] - table["time"]) / pd.Timedelta("1h")
        np.testing.assert_array_equal(delta, table["lag"])


def test_rnn_attention_frame_matches_attention_weights(hourly):
    X, y = make_windows(hourly, lookback=24, horizon=2, targets="OT")
    model = AttentionRNNRegressor(hidden_size=4, max_epochs=1, early_stopping=False,
                                  random_state=0).fit(X, y)
    table = attention_frame(model, hourly)
    assert len(table) == (300 - 24 + 1) * 24
    window = WindowedArray(hourly.to_numpy()[-24:][None], feature_names=hourly.columns)
    expected = model.attention_weights(window)[0, 0]  # (lookback,), oldest first
    last = table[table["window_end"] == hourly.index[-1]].sort_values("lag", ascending=False)
    np.testing.assert_allclose(last["weight"], expected)
    with pytest.raises(TypeError, match="no attention weights"):
        attention_frame(NaiveForecaster().fit(X, y), hourly)


def test_flattened_named_fit_picks_columns_by_name(hourly):
    # Fitted on flattened windows named "load[t-23]", ..., "OT[t]": the frame's columns
    # are read by those names, whatever their order (not by position).
    X, y = make_windows(hourly, lookback=24, horizon=3, targets="OT")
    rows = pd.DataFrame(np.asarray(X).reshape(len(X), -1),
                        columns=flat_feature_names(list(hourly.columns), 24))
    model = NaiveForecaster(lookback=24, target_features=[2]).fit(rows, np.asarray(y))
    shuffled = hourly[["OT", "temp", "load"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # named windows, as fitted: no feature-name warning
        forecast = forecast_frame(model, shuffled)
    np.testing.assert_array_equal(forecast.to_numpy().ravel(), hourly["OT"].iloc[-1])
    with pytest.raises(ValueError, match=r"lacks the columns \['temp'\]"):
        forecast_frame(model, hourly.drop(columns="temp"))
