r"""BLAS threads for a fit, chosen for the work, and restored afterwards.

A training step of a small network is dozens of short matrix products. Splitting each over BLAS threads
costs more than it gains (a thread pool's hand-over takes microseconds), and on a machine where other work
runs a waiting BLAS thread pool stalls until its threads get a core back: a default scikit-learn-sized fit
on the digits ran 10 times slower with a second job on the 2-core machine. So a fit whose steps are small
runs BLAS on one thread per process; a fit whose matrix products are large keeps the caller's setting (or
the ``threads`` asked for). glassnet's own data parallelism (``n_jobs``) is the way to use several cores for small steps.

The limits are process-wide (OpenBLAS has one thread pool), so fits that overlap in several threads share
one counter: the first to start records the caller's limits, the last to finish restores them, whatever
the order in which they end.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = [
    "LARGE_PRODUCT_FLOPS",
    "blas_threads",
    "callers_blas_threads",
    "choose_threads",
    "largest_product_flops",
]

#: the largest matrix product of a step (floating-point operations, per process) below which BLAS runs on one
#: thread. Measured on the 2-core machine: the lab's full batch (15 MFLOP products) gains 7 % from a second
#: BLAS thread when the machine is idle and runs 30 times slower when another process has a core; the
#: 784-256-128-10 network with batches of 128 (51 MFLOP) gains 14 % idle; 784-1024-1024-10 with batches of
#: 64 (134 MFLOP) ran in 0.71 of one thread's time on two (and in 0.86 of two processes' time, which is why
#: glassnet.training.workplan leaves such steps to threads), with batches of 256 (411 MFLOP) gains most.
LARGE_PRODUCT_FLOPS = 1e8

_lock = threading.Lock()
_active = {"depth": 0, "saved": None}


def largest_product_flops(net, rows: float) -> float:
    r"""Floating-point operations of the largest matrix product of a step on ``rows`` rows:
    :math:`2 \times rows \times |W|` for the largest weight matrix that a layer declares (``Layer.decay``)."""
    sizes = [layer.params[name].size for layer in net.layers for name in layer.decay]
    return 2.0 * rows * max(sizes, default=0)


def choose_threads(net, rows: int, n_jobs: int = 1, requested: int | str | None = None) -> int | None:
    """BLAS threads per process for steps of ``rows`` rows split over ``n_jobs`` processes: ``requested`` if
    given (``'caller'``: ``None``), 1 when every product is small (:data:`LARGE_PRODUCT_FLOPS`), ``None`` (leave the caller's setting)
    for large ones."""
    if requested == "caller":
        return (
            None  # the caller's setting, whatever the work (a fit that may pause for long: the playground's)
        )
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise ValueError(f"threads must be a positive integer, 'caller' or None; got {requested!r}.")
        return requested
    return 1 if largest_product_flops(net, rows / max(n_jobs, 1)) < LARGE_PRODUCT_FLOPS else None


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Limit BLAS to ``n`` threads inside the block (nothing when ``n`` is None or threadpoolctl is absent);
    the caller's limits come back when the last overlapping block ends."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        n = None
    if n is None:
        yield
        return
    with _lock:
        controller = ThreadpoolController()  # anew: a BLAS library may have been loaded since the last look
        if _active["depth"] == 0:
            _active["saved"] = [(lib, lib.num_threads) for lib in controller.lib_controllers]
        _active["depth"] += 1
        controller.limit(limits=n, user_api="blas")
    try:
        yield
    finally:
        with _lock:
            _active["depth"] -= 1
            if _active["depth"] == 0:
                for lib, threads in _active["saved"]:
                    lib.set_num_threads(threads)
                _active["saved"] = None


def callers_blas_threads() -> int | None:
    """The fewest BLAS threads the caller allows (environment, threadpoolctl), looking through glassnet's own
    :func:`blas_threads` blocks to the limits from before them; ``None`` without threadpoolctl or BLAS."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    with _lock:
        saved = _active["saved"]
        counts = None if saved is None else [t for lib, t in saved if getattr(lib, "user_api", "") == "blas"]
    if counts is None:
        counts = [lib.get("num_threads") for lib in threadpool_info() if lib.get("user_api") == "blas"]
    counts = [c for c in counts if isinstance(c, int)]
    return min(counts) if counts else None
