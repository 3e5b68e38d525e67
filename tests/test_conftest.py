"""The test suite's own hooks (``conftest.py``): the order that keeps the workers busy to
the end, and the number of workers ``-n auto`` asks for."""
import os

import pytest

from tests.conftest import pytest_collection_modifyitems, pytest_xdist_auto_num_workers


class _Item:
    """What the ordering hook reads of a collected test: its name and its markers."""

    def __init__(self, name, *markers):
        self.name, self._markers = name, markers

    def get_closest_marker(self, name):
        return getattr(pytest.mark, name).mark if name in self._markers else None


def test_long_tests_go_first_each_part_in_its_own_order():
    items = [_Item("a"), _Item("fit_b", "quality"), _Item("c", "variants"),
             _Item("dask_d", "cluster"), _Item("e"), _Item("fit_f", "quality")]
    pytest_collection_modifyitems(items)
    assert [item.name for item in items] == ["fit_b", "dask_d", "fit_f", "a", "c", "e"]


def test_ordering_keeps_every_item_once():
    items = [_Item(str(i), *(["quality"] if i % 3 == 0 else [])) for i in range(10)]
    before = sorted(id(item) for item in items)
    pytest_collection_modifyitems(items)
    assert sorted(id(item) for item in items) == before
    assert [item.name for item in items] == ["0", "3", "6", "9", "1", "2", "4", "5", "7", "8"]


def test_auto_workers_one_per_core_at_most_four(monkeypatch):
    for cores, expected in [(1, 1), (2, 2), (3, 3), (4, 4), (16, 4)]:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)),
                            raising=False)
        assert pytest_xdist_auto_num_workers(config=None) == expected


def test_auto_workers_fall_back_to_cpu_count(monkeypatch):
    # Platforms without sched_getaffinity (macOS, Windows) count the machine's cores.
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    for cores, expected in [(None, 1), (1, 1), (3, 3), (64, 4)]:
        monkeypatch.setattr(os, "cpu_count", lambda n=cores: n)
        assert pytest_xdist_auto_num_workers(config=None) == expected
