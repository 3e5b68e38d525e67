import pytest
import torch
from skorch.callbacks import Callback

from sklattn import LinearForecaster
from sklattn.threads import torch_threads


class _RecordThreads(Callback):
    def initialize(self):
        self.seen = set()
        return self

    def on_batch_end(self, net, **kwargs):
        self.seen.add(torch.get_num_threads())


def test_torch_threads_sets_and_restores_even_on_error():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_fit_runs_with_n_threads_and_restores(lagged_windows):
    X, y = lagged_windows
    before = torch.get_num_threads()
    record = _RecordThreads()
    model = LinearForecaster(max_epochs=2, n_threads=1, early_stopping=False,
                             callbacks=[record], random_state=0).fit(X, y)
    assert record.seen == {1}
    assert torch.get_num_threads() == before
    model.predict(X)
    assert torch.get_num_threads() == before

