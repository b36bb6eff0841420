r"""Big matrix products split over threads, with the bits of one thread.

A training step of a wide network is a few large matrix products (784-1024-1024-10 with batches of 128: six
of 100-270 MFLOP each). BLAS can share such a product among its own threads, but two things go wrong:

- **the bits depend on the thread count.** OpenBLAS cuts the work differently for 1 and 2 threads, and
  the sums come out in another order: the same fit gives other weights on a 1-core and a 2-core machine,
  or on an idle and a busy one if the count follows the load;
- **its threads wait by spinning.** When another process holds a core, the BLAS thread pool spins until
  its missing thread gets the core back: an epoch of the Fashion-MNIST recipe took 6 to 30 times the CPU time
  of one thread on the busy 2-core machine.

A :class:`Crew` computes :math:`C = AB` by blocks instead: of output columns, or of output rows when
:math:`C` has more rows than columns,

.. math:: C_{:, j_0:j_1} = A\, B_{:, j_0:j_1} \qquad \text{or} \qquad C_{i_0:i_1, :} = A_{i_0:i_1, :}\, B,

one block per thread of the crew (the caller is one of them), each by one call of single-threaded BLAS, and
a thread that finishes first takes a block that another has not started: a thread held up by another process
delays at most its own block, and the others wait in the operating system, not spinning. Each block packs the
whole of the other operand anew, so the split runs along the output's longer side (the weight gradient
:math:`\delta^T x`, 1024 x 784 from 64 rows: 0.60 ms by rows, 0.78 ms by columns, 1.11 ms whole on one thread);
smaller blocks balance a busy machine no better (measured: 8 blocks for 2 threads ran the recipe's epoch in the
same time beside a spinning process, and 10-20 % slower on an idle machine).

Each element of :math:`C` is a dot product of a row of :math:`A` with a column of :math:`B`, and the BLAS kernel
runs its sum over :math:`k` in the same order whether the element is computed in a block or in the whole
product, provided the blocks start at multiples of the kernel's unrolls (:data:`BLOCK` rows or columns, a
multiple of every unroll we know). So the result is **bit-identical to one thread's whole product, for any
number of threads** (tested), and the thread count may change without changing the model. Since that is a
property of the BLAS library, not a law, the crew checks it once per shape, layout and block on the first
product it splits (the whole product and the split one, compared bit for bit) and does not split a layout for
which this BLAS gives other bits.

The crew is used by the layers through :func:`matmul` while a fit holds one (:func:`crew`, per thread);
outside a fit, and for small products, :func:`matmul` is ``np.matmul``. BLAS must run on one thread inside a
crew (``glassnet.training.threads.blas_threads(1)``: the Trainer sets both).

>>> import numpy as np
>>> from glassnet.fast import products
>>> a, b = np.full((256, 512), 0.5, np.float32), np.full((512, 192), 2.0, np.float32)
>>> with products.crew(2) as team:  # the first product of a layout is also checked whole
...     c = products.matmul(a, b)
>>> c.shape, float(c[0, 0]), team.threads
((256, 192), 512.0, 2)
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["BLOCK", "MIN_FLOPS", "Crew", "active", "block_width", "crew", "matmul", "split_axis"]

#: output rows or columns per block: a multiple of every BLAS kernel's unroll we know (4-32 in OpenBLAS, MKL
#: and BLIS); split at other places, float64 products came out with other bits (measured: blocks of 333)
BLOCK = 64
#: the least work of a product that is split (floating-point operations, :math:`2mkn`): about 0.2 ms on one
#: core, well above the hand-over of a block to a thread (about 20 us)
MIN_FLOPS = 2e7
_local = threading.local()
#: (shapes, strides, dtype, block width) -> whether this BLAS gives the whole product's bits split: checked
#: once per process (the layout of a product and the library do not change between fits)
_splits_agree: dict[tuple, bool] = {}


class Crew:
    """A team of ``threads`` threads (the caller included) that share each big product by blocks.

    ``threads`` may be changed between products (:attr:`threads`); the results do not depend on it.
    """

    def __init__(self, threads: int) -> None:
        self.threads = int(threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ b`` (2-D), by blocks over the crew's threads (:func:`matmul` decides that it is big enough)."""
        m, n = a.shape[0], b.shape[1]
        if out is None:
            out = np.empty((m, n), dtype=np.result_type(a, b))
        axis = split_axis(m, n)
        width = block_width(out.shape[axis], self.threads)
        key = (a.shape, a.strides, b.shape, b.strides, out.strides, out.dtype.str, axis, width)
        agree = _splits_agree.get(key)
        if agree is None:  # the first product of this layout: whole and split, compared bit for bit
            np.matmul(a, b, out=out)
            split = np.empty_like(out)
            self._run(a, b, split, axis, width)
            agree = _splits_agree[key] = bool(np.array_equal(out, split, equal_nan=True))
            return out
        if agree:
            self._run(a, b, out, axis, width)
        else:
            np.matmul(a, b, out=out)
        return out

    def _run(self, a, b, out, axis: int, width: int) -> None:
        """Every block ``out[:, c] = a @ b[:, c]`` (``axis`` 1) or ``out[r] = a[r] @ b`` (``axis`` 0) of
        ``width`` columns or rows, one job each (:meth:`share`)."""
        blocks = [slice(j, j + width) for j in range(0, out.shape[axis], width)]
        if axis == 1:
            self.share([lambda c=c: np.matmul(a, b[:, c], out=out[:, c]) for c in blocks])
        else:
            self.share([lambda r=r: np.matmul(a[r], b, out=out[r]) for r in blocks])

    def share(self, jobs: list) -> None:
        """Run every callable of ``jobs`` (each releasing the GIL for its work: a BLAS call, a ``nogil`` numba
        kernel), taken in turn by the crew's free threads, the caller's included; returns when all are done."""
        jobs = iter(jobs)
        lock = threading.Lock()

        def drain() -> None:  # take jobs until none is left
            while True:
                with lock:
                    job = next(jobs, None)
                if job is None:
                    return
                job()

        helpers = [self._executor().submit(drain) for _ in range(self.threads - 1)]
        drain()
        for helper in helpers:
            helper.result()  # waits in the operating system; re-raises a helper's error

    def parts(self, size: int, align: int = 1) -> list[slice]:
        """``range(size)`` cut into one contiguous part per thread (element-wise work shared by :meth:`share`),
        each starting at a multiple of ``align``."""
        step = -(-size // self.threads)
        step = -(-step // align) * align
        return [slice(i, i + step) for i in range(0, size, step)]

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pool_size < self.threads - 1:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._pool_size = max(self.threads - 1, 1)
            self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="glassnet-crew")
        return self._pool

    def close(self) -> None:
        """Stop the crew's threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def block_width(n: int, threads: int) -> int:
    """Rows or columns per block for ``n`` of them and ``threads`` threads: the fewest multiple of
    :data:`BLOCK` that makes at most ``threads`` blocks."""
    return BLOCK * -(-n // (max(threads, 1) * BLOCK))


def split_axis(m: int, n: int) -> int:
    """The output's longer side, along which an ``(m, n)`` result is cut: rows (0) or columns (1)."""
    return 0 if m > n else 1


def active() -> Crew | None:
    """The crew this thread's products use, or ``None``."""
    return getattr(_local, "crew", None)


@contextlib.contextmanager
def crew(threads: int):
    """Products of :func:`matmul` in this thread are shared by a :class:`Crew` of ``threads`` inside the block
    (with ``threads`` 1 or less, nothing changes)."""
    if threads is None or threads <= 1 or active() is not None:
        yield active()
        return
    team = _local.crew = Crew(threads)
    try:
        yield team
    finally:
        _local.crew = None
        team.close()


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (``np.matmul(a, b, out=out)``), shared by this thread's :class:`Crew` when one is active and
    the product is a big 2-D one of floats; the same bits either way."""
    team = getattr(_local, "crew", None)
    if (
        team is None
        or a.ndim != 2
        or b.ndim != 2
        or max(a.shape[0], b.shape[1]) < 2 * BLOCK
        or 2.0 * a.shape[0] * a.shape[1] * b.shape[1] < MIN_FLOPS
        or a.dtype != b.dtype
        or a.dtype.kind != "f"
        or (out is not None and out.dtype != a.dtype)
    ):
        return np.matmul(a, b, out=out)
    return team.matmul(a, b, out)
