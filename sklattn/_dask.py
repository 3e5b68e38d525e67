"""Keep a WindowedArray's names and target positions when Dask ships it to a worker.

joblib's Dask backend scatters large arguments (the windows ``X`` and targets ``y`` of a
``GridSearchCV``) with Dask's own serialiser for NumPy arrays, which rebuilds a plain
``ndarray``: ``y`` would reach the workers without the target positions that
``make_windows`` put on it, and the estimators there would train another model than the
same search run locally (measured: other scores for every candidate). Registering
``WindowedArray`` with Dask's serialiser as "not handled" makes Dask fall back to pickle,
which keeps them.

Dask may be imported before or after sklattn: the registration runs now if
``distributed.protocol.serialize`` is loaded, else right after it loads. Nothing here
imports Dask.
"""

import importlib.abc
import importlib.util
import sys

__all__ = ["keep_windowed_arrays_in_dask"]

_SERIALIZE = "distributed.protocol.serialize"


def _register(serialize_module):
    from .windows import WindowedArray

    def _not_by_the_ndarray_serializer(x, context=None):
        raise NotImplementedError("WindowedArray: let pickle keep its attributes")

    serialize_module.dask_serialize.register(WindowedArray)(_not_by_the_ndarray_serializer)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``_register`` right after ``distributed.protocol.serialize`` executes."""

    def find_spec(self, name, path=None, target=None):
        if name != _SERIALIZE:
            return None
        sys.meta_path.remove(self)  # once, and let the other finders find the module
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register(module)

        spec.loader.exec_module = exec_then_register
        return spec


def keep_windowed_arrays_in_dask():
    """Make Dask pickle ``WindowedArray`` objects (see the module docstring)."""
    module = sys.modules.get(_SERIALIZE)
    if module is not None:
        _register(module)
    elif not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
