"""inkmath.gcutil: the collector settings of the long-lived server processes."""

import gc

import pytest

from inkmath.gcutil import collector_paused, freeze_startup_heap


def test_collector_paused_restores_the_collector():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with collector_paused():
            raise ValueError("inside")
    assert gc.isenabled()  # also after an exception (a request that fails validation)


def test_collector_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # someone else disabled it: not ours to enable
    finally:
        gc.enable()


def test_freeze_startup_heap_moves_live_objects_out_of_collections():
    kept = [[i] for i in range(1000)]  # containers alive at "start-up"
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= len(kept)
        assert not any(obj is kept for obj in gc.get_objects())  # the collector no longer walks them
    finally:
        gc.unfreeze()
