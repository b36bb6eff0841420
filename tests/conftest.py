"""Shared test fixtures."""

import pytest


@pytest.fixture(scope="module")
def one_blas_thread():
    """Small networks: extra BLAS threads only fight over the cores (10x slower on a loaded machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the tests are just slower on a busy machine
        yield
        return
    with threadpool_limits(1):
        yield
