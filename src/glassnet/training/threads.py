r"""BLAS threads for a fit, chosen for the work, and restored afterwards.

A training step of a small network is dozens of short matrix products. Splitting each over BLAS threads
costs more than it gains (a thread pool's hand-over takes microseconds), and on a machine where other work
runs a waiting BLAS thread pool stalls until its threads get a core back: a default scikit-learn-sized fit
on the digits ran 10 times slower with a second job on the 2-core machine. So a fit whose steps are small
runs BLAS on one thread per process. glassnet's own data parallelism (``n_jobs``) is the way to use several
cores for small steps.

A fit whose matrix products are large shares each of them among a crew of threads instead
(:mod:`glassnet.fast.products`, :func:`choose_crew`): as many as the caller allows BLAS (or the ``threads``
asked for), one block of the output's rows or columns each, on single-threaded BLAS. The model is then the
same for any thread count, bit for bit, and a crew thread that waits for a core another process holds waits in
the operating system instead of spinning as BLAS's own pool does. Measured on the idle 2-core machine
(``benchmarks/RESULTS.md``, "large products shared by a crew of threads"): the crew runs a product 1.6-1.8
times faster than one thread (BLAS's own threads 1.8-2.0 times), and one epoch of the Fashion-MNIST recipe
beside a spinning process took 2.26 s instead of BLAS's 4.02 s (1.53 s idle for both). The crew keeps its
size when the machine gets busy: its blocks go to whichever of its threads runs, and a crew of 2 beat one
thread with 1 and with 3 spinning processes.

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
    "choose_crew",
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
#: the threadpoolctl controller, built once per set of loaded modules (building one takes about 4 ms: it
#: inspects every loaded shared library), with the ``len(sys.modules)`` it was built at
_controller: dict = {"modules": -1, "controller": None}


def largest_product_flops(net, rows: float) -> float:
    r"""Floating-point operations of the largest matrix product of a step on ``rows`` rows:
    :math:`2 \times rows \times |W|` for the largest weight matrix that a layer declares (``Layer.decay``)."""
    sizes = [layer.params[name].size for layer in net.layers for name in layer.decay]
    return 2.0 * rows * max(sizes, default=0)


def choose_threads(net, rows: int, n_jobs: int = 1, requested: int | str | None = None) -> int | None:
    """BLAS threads per process for steps of ``rows`` rows split over ``n_jobs`` processes: 1 when every
    product is small (:data:`LARGE_PRODUCT_FLOPS`) or when a crew shares the large ones (:func:`choose_crew`),
    else ``requested`` (``'caller'``: ``None``, the caller's setting, as for large products without a crew)."""
    if requested == "caller":
        return (
            None  # the caller's setting, whatever the work (a fit that may pause for long: the playground's)
        )
    if requested is not None and (
        isinstance(requested, bool) or not isinstance(requested, int) or requested < 1
    ):
        raise ValueError(f"threads must be a positive integer, 'caller' or None; got {requested!r}.")
    if choose_crew(net, rows, n_jobs, requested) > 1:
        return 1  # the crew shares the products; BLAS runs on one thread in each of its threads
    if requested is not None:
        return requested
    return None if _large(net, rows, n_jobs) else 1


def _large(net, rows: int, n_jobs: int) -> bool:
    return largest_product_flops(net, rows / max(n_jobs, 1)) >= LARGE_PRODUCT_FLOPS


def choose_crew(net, rows: int, n_jobs: int = 1, requested: int | str | None = None) -> int:
    """Threads that share each large matrix product of a step (:class:`glassnet.fast.products.Crew`; 1: none):
    for a one-process fit whose products are large (:data:`LARGE_PRODUCT_FLOPS`), the ``requested`` threads
    or as many as the caller allows BLAS; BLAS then runs on one thread (:func:`choose_threads`). Without
    threadpoolctl (BLAS cannot be held to one thread) there is no crew."""
    if requested == "caller" or n_jobs > 1 or not _large(net, rows, n_jobs):
        return 1
    allowed = callers_blas_threads()
    if allowed is None:
        return 1
    return requested if isinstance(requested, int) and not isinstance(requested, bool) else allowed


def _blas_controller():
    """A threadpoolctl controller of the loaded libraries, rebuilt when modules were imported since the last."""
    import sys

    from threadpoolctl import ThreadpoolController

    if _controller["modules"] != len(sys.modules):  # a BLAS library may have been loaded since the last look
        _controller.update(modules=len(sys.modules), controller=ThreadpoolController())
    return _controller["controller"]


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Limit BLAS to ``n`` threads inside the block (nothing when ``n`` is None or threadpoolctl is absent);
    the caller's limits come back when the last overlapping block ends."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        n = None
    if n is None:
        yield
        return
    with _lock:
        controller = _blas_controller()
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
        import threadpoolctl  # noqa: F401
    except ImportError:
        return None
    with _lock:
        saved = _active["saved"]
        if saved is None:  # the controller's libraries as they are now (threadpool_info() builds one anew)
            saved = [(lib, lib.num_threads) for lib in _blas_controller().lib_controllers]
        counts = [t for lib, t in saved if getattr(lib, "user_api", "") == "blas"]
    counts = [c for c in counts if isinstance(c, int)]
    return min(counts) if counts else None
