import numpy as np
import pytest

from sklattn.plotting import plot_attention

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
