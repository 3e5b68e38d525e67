"""LinearForecaster: DLinear / NLinear on windows, the second yardstick."""

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from ..neural import NeuralForecasterBase, point_forecaster
from ..nn.linear import WindowLinear
from ..parameters import document_shared_parameters

__all__ = ["LinearForecaster"]


@document_shared_parameters
class LinearForecaster(NeuralForecasterBase):
    """Forecast every horizon step as a linear function of the window (DLinear / NLinear).

    One linear map from a feature's ``lookback`` past values to its ``horizon`` next
    values, shared by all features (channel independent), trained like the other
    estimators and on the same normalised windows. With ``decomposition`` (DLinear) the
    window is split into a moving-average trend and the remainder, each with its own map;
    without it and with ``normalization="last"`` it is NLinear. A target that is not an
    input feature is forecast from a learned mix of every feature's forecast.

    Parameters
    ----------
    decomposition : bool, default=True
    kernel_size : int, default=25
        Steps in the moving average of the decomposition (capped at the lookback).
    init : {"lstsq", "random"}, default="lstsq"
        Where training starts. "lstsq": the map's least-squares fit on the training
        windows (with a light ridge, from the targets that are input features; with
        decomposition both maps start at it), which early stopping scores as epoch 0
        beside the last value, so training keeps it unless an epoch beats it on the
        hold-out. "random": PyTorch's default initialisation (as DLinear trains). On
        the benchmark data the least-squares start scores lower (see
        docs/real_data.md).
    normalization : {"auto", "revin", "last"} or None, default="auto"
        "auto": "revin" when a target is an input feature, else None (see
        :class:`~sklattn.neural.NeuralForecasterBase`).
    target_features : list of (int or None) or None, default=None
    <shared parameters>

    Attributes
    ----------
    net_, n_features_in_, feature_names_in_, window_shape_, target_shape_, n_outputs_,
    target_features_
        As in :class:`~sklattn.AttentionRNNRegressor`.
    """

    _parameter_constraints = {
        **NeuralForecasterBase._parameter_constraints,
        "decomposition": ["boolean"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"lstsq", "random"})],
    }

    def __init__(self, decomposition=True, kernel_size=25, init="lstsq", *,
                 normalization="auto", normalization_affine=False, target_features=None,
                 lookback=None, max_epochs=100, batch_size=64, predict_batch_size=1024, lr=3e-3,
                 optimizer="adam", weight_decay=0.0, optimizer_params=None, max_grad_norm=1.0,
                 quantiles=None,
                 baseline="last", shrink_to_epoch0=True, early_stopping=True,
                 validation_fraction=0.1, patience=5,
                 random_state=None,
                 device="auto", checkpoint_dir=None, n_threads=None, precision="float32",
                 compile=False, verbose=0, progress="auto", callbacks=None):
        self.decomposition = decomposition
        self.kernel_size = kernel_size
        self.init = init
        self.normalization = normalization
        self.normalization_affine = normalization_affine
        self.target_features = target_features
        self.lookback = lookback
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.max_grad_norm = max_grad_norm
        self.quantiles = quantiles
        self.baseline = baseline
        self.shrink_to_epoch0 = shrink_to_epoch0
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.n_threads = n_threads
        self.precision = precision
        self.compile = compile
        self.verbose = verbose
        self.progress = progress
        self.callbacks = callbacks

    def _least_squares_start(self):
        return (point_forecaster, False) if self.init == "lstsq" else None

    def _build_module(self, n_features, n_outputs):
        lookback = self.window_shape_[0]
        horizon, _ = self._horizon_and_targets()
        return WindowLinear(n_features, lookback, horizon, self.target_features_,
                            decomposition=self.decomposition,
                            kernel_size=min(self.kernel_size, lookback))
