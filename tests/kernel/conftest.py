"""Fixtures of the @pyhost.kernel tests (helpers, and the set-up they need first: kernel_testing.py)."""
import pytest

from kernel_testing import NATIVE, NATIVE_REASON, cache_path


@pytest.fixture
def native():
    if NATIVE is None:
        pytest.skip(NATIVE_REASON)
    return NATIVE


@pytest.fixture
def cache_dir():
    return cache_path()
