import numpy as np
import pytest

from sklattn.plotting import plot_attention, plot_forecast

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_heatmap_puts_the_lag_on_the_x_axis():
    weights = np.zeros((5, 1, 10))
    weights[:, 0, 10 - 3] = 1.0  # every window looks 3 steps before the forecast
    ax = plot_attention(weights)
    image = ax.images[0].get_array()
    assert image.shape == (5, 10)
    assert np.all(image[:, 3 - 1] == 1.0)  # column for "3 steps before"
    assert ax.get_xlabel() == "steps before the forecast"


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError, match="weights must be"):
        plot_attention(np.zeros(5))


@pytest.fixture(scope="module")
def windows():
    import pandas as pd

    from sklattn import make_windows
    from sklattn.datasets import make_lagged_series
    series, _ = make_lagged_series(200, lag=3, random_state=0)
    return make_windows(pd.DataFrame(series), lookback=8, horizon=3, targets="target")


TINY = dict(max_epochs=1, random_state=0, early_stopping=False)


def _fitted(name, windows):
    from sklattn import AttentionRNNRegressor, TransformerForecaster
    X, y = windows
    if name == "rnn":
        return AttentionRNNRegressor(hidden_size=4, **TINY).fit(X, y)
    return TransformerForecaster(tokens=name, d_model=8, n_heads=2, n_layers=1, d_ff=8,
                                 **TINY).fit(X, y)


@pytest.mark.parametrize("name, xlabel, shape", [
    ("rnn", "steps before the forecast", (190, 8)),
    ("timestep", "key: steps before the forecast", (8, 8)),
    ("patch", "key patch: starts this many steps before the forecast", None),
    ("variate", "key feature", (4, 4)),
])
def test_every_estimator_draws_its_attention_with_named_axes(name, xlabel, shape, windows,
                                                             tmp_path):
    model = _fitted(name, windows)
    ax = plot_attention(model, windows[0], feature="driver")
    assert ax.get_xlabel() == xlabel
    if shape is not None:
        assert ax.images[0].get_array().shape == shape
    if name == "variate":
        assert [t.get_text() for t in ax.get_xticklabels()] == list(windows[0].feature_names)
    if name == "patch":
        assert "driver" in ax.get_title()
    ax.figure.savefig(tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_forecast_plot_draws_lookback_forecast_and_actual(windows, tmp_path):
    from sklattn import NaiveForecaster
    X, y = windows
    model = NaiveForecaster().fit(X, y)
    ax = plot_forecast(model, X, y, window=5)
    lines = {line.get_label(): line for line in ax.get_lines()
             if not line.get_label().startswith("_")}
    assert set(lines) == {"lookback", "actual", "forecast"}
    np.testing.assert_array_equal(lines["lookback"].get_xdata(), np.arange(-7, 1))
    np.testing.assert_allclose(lines["lookback"].get_ydata(), X[5, :, 0])
    np.testing.assert_allclose(lines["actual"].get_ydata(), y[5, :, 0])
    np.testing.assert_allclose(lines["forecast"].get_ydata(), X[5, -1, 0])  # the last value
    assert ax.get_ylabel() == "target"
    ax.figure.savefig(tmp_path / "forecast.png")
    assert (tmp_path / "forecast.png").stat().st_size > 1000


def test_forecast_plot_shades_the_interval(tmp_path):
    from sklattn import NaiveForecaster, make_windows

    rng = np.random.default_rng(0)
    X, y = make_windows(rng.normal(size=(800, 2)).cumsum(axis=0), lookback=8, horizon=3,
                        targets=[1])
    model = NaiveForecaster().fit(X, y)
    ax = plot_forecast(model, X, y, window=700, coverage=0.8)
    band = ax.collections[0].get_paths()[0].vertices
    lower, upper = model.predict_interval(X[700:701], coverage=0.8)
    assert np.isclose(band[:, 1].min(), lower.min()) and np.isclose(band[:, 1].max(),
                                                                    upper.max())
    assert "80% interval" in [text.get_text() for text in ax.get_legend().get_texts()]
    ax.figure.savefig(tmp_path / "interval.png")
    assert (tmp_path / "interval.png").stat().st_size > 1000


def test_plot_attention_needs_the_windows(windows):
    with pytest.raises(ValueError, match="X, the windows to draw, is required"):
        plot_attention(_fitted("rnn", windows))
