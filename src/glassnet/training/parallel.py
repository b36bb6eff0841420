r"""Data parallelism: one training step split into shards of the batch, computed by processes that share
the weights.

Each batch is cut into ``shards`` near-equal shards of rows; ``n_jobs`` processes (the caller and
``n_jobs - 1`` forked workers) compute them, process :math:`j` the shards :math:`j, j + n_{jobs}, \dots`.
A step runs in two phases:

1. **gradients**: for each of its shards :math:`s`, a process takes the shard's rows :math:`B_s`, the
   fraction :math:`f_s = |B_s| / |B|` of the batch (or of its sample weight), and computes :math:`f_s L_s` and
   its gradient :math:`g_s`, :math:`L_s` the mean loss over :math:`B_s`
   (``Sequential.loss_and_grad(share=f_s)``);
2. **update**: process :math:`j` takes its share of the *parameters*, :math:`P_j`, sums the shards'
   gradients there in shard order, :math:`g[P_j] = \sum_s g_s[P_j]`, and runs the optimizer on that slice.

The batch loss is :math:`\sum_s f_s L_s`; gradient and loss are those of the whole batch, up to rounding.
The weights, every shard's gradient and the optimizer's state live in shared memory, so nothing is copied
between processes but a few numbers and the batch's row indices.

**The model depends on the shards, not on the processes.** Every shard draws its dropout masks and
augmentation from a random stream of its own (a function of the caller's generator, the shard and the
epoch), the gradients are summed in shard order and the optimizer works element by element, so the same
shards give the same weights, bit for bit, in one process or in several: a fit that finds a busy machine
and computes both shards in the caller trains the model it would have trained with a core for each.

Why processes and not threads: NumPy releases the GIL inside each call, but a step is dozens of short calls,
and two threads handing the GIL back and forth lose more than they gain. Why the waits spin before they
sleep: on a virtual machine, waking a sleeping core costs about a tenth of a millisecond, as much as a small
layer's whole forward pass.

The workers are forked, so they see the caller's data and network as they were at the start of the session;
use one session per call to ``fit`` (:class:`glassnet.training.Trainer` does). Networks with batch
normalisation are not supported (batch statistics and running averages would be per process).
"""

from __future__ import annotations

import contextlib
import copy
import math
import multiprocessing
import os
import signal
import sys
import warnings
from pathlib import Path

import numpy as np

from glassnet.training.threads import blas_threads
from glassnet.training.workers import Workers, _shared


def available_cpus() -> int:
    """Cores this process may use: those it may run on (its affinity), and no more than its cgroup's CPU quota
    (a container limited to 2 CPUs on a 64-core host may use 2; :func:`cgroup_cpus`)."""
    cpus, quota = affinity_cpus(), cgroup_cpus()
    return cpus if quota is None else max(1, min(cpus, math.ceil(quota)))


def affinity_cpus() -> int:
    """The CPUs this process may run on (its affinity; all of them off Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cgroup_cpus(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPU quota of this process's cgroup, in CPUs (``cpu.max`` of cgroup v2, ``cpu.cfs_quota_us /
    cpu.cfs_period_us`` of v1, as a container sees its own cgroup at ``root``), or ``None`` when unlimited or
    not readable."""
    try:
        quota, period = Path(root, "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path(root, "cpu", "cpu.cfs_quota_us").read_text())
        period = int(Path(root, "cpu", "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


#: the most shards a step may be cut into (each has a gradient vector of its own in shared memory)
MAX_SHARDS = 64


def effective_n_jobs(n_jobs) -> int:
    """scikit-learn's convention: ``None`` is 1, ``-1`` every core, ``-2`` all but one, and so on; at most
    :data:`MAX_SHARDS`. The processes that compute them are capped at the cores separately (``processes``)."""
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None; got {n_jobs!r}.")
    if n_jobs > MAX_SHARDS:
        raise ValueError(
            f"n_jobs={n_jobs} is more than the {MAX_SHARDS} shards a training step can be cut into (this process "
            f"may use {available_cpus()} cores); use n_jobs=-1 for every core, or n_jobs=None to let glassnet choose."
        )
    return int(n_jobs) if n_jobs > 0 else max(1, available_cpus() + 1 + int(n_jobs))


def processes_for(shards: int) -> int:
    """Processes for an explicit ``n_jobs`` of ``shards`` shards: one a shard, but no more than the cores this
    process may use (48 shards on 2 cores run in 2 processes, each computing 24; the model is the same)."""
    return max(1, min(shards, available_cpus()))


def fork_unsupported_reason() -> str | None:
    """Why this process cannot fork data-parallel workers, or ``None`` when it can."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return "data parallelism forks processes, which glassnet does on Linux only"
    if multiprocessing.current_process().daemon:
        return "this process is a daemon (a multiprocessing pool's worker), which may not start processes"
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return "threadpoolctl is not installed (pip install threadpoolctl)"
    return None


def shard_unsupported_reason(net, optimizer) -> str | None:
    """Why ``net`` and ``optimizer`` cannot train on shards of the batch, or ``None`` when they can."""
    batch_stats = [f"{i}, {type(la).__name__}" for i, la in enumerate(net.layers) if la.uses_batch_stats]
    if batch_stats:
        return (
            "batch normalisation needs the statistics of the whole batch in one process "
            f"(layer {batch_stats[0]}, declares uses_batch_stats)"
        )
    if getattr(optimizer, "state_names", None) is None:
        return f"{type(optimizer).__name__} does not declare its state (Optimizer.state_names)"
    return None


def unsupported_reason(net, optimizer) -> str | None:
    """Why ``net`` and ``optimizer`` cannot train data-parallel in several processes, or ``None``."""
    return fork_unsupported_reason() or shard_unsupported_reason(net, optimizer)


def session(net, optimizer, batch_fn, n_jobs: int, shards: int | None = None, **kwargs):
    """A :class:`DataParallel` session of ``shards`` shards (default ``n_jobs``) in ``n_jobs`` processes, or a
    do-nothing context (``None``) for one shard; with ``n_jobs > 1`` where processes cannot be forked, a
    warning says why and one process computes every shard (the same model)."""
    shards = n_jobs if shards is None else shards
    if shards == 1:
        return contextlib.nullcontext()
    reason = shard_unsupported_reason(net, optimizer)
    if reason is not None:
        warnings.warn(f"n_jobs={n_jobs}: {reason}; training in one process.", UserWarning, stacklevel=3)
        return contextlib.nullcontext()
    reason = fork_unsupported_reason() if n_jobs > 1 else None
    if reason is not None:
        warnings.warn(f"n_jobs={n_jobs}: {reason}; training in one process.", UserWarning, stacklevel=3)
        n_jobs = 1
    return DataParallel(net, optimizer, batch_fn, n_jobs, shards=shards, **kwargs)


def _base_sequence(seed) -> np.random.SeedSequence:
    """The seed sequence the processes' streams derive from: that of the caller's generator itself (its
    stream is left untouched), so the same generator gives the same streams in every fit and after a resume;
    a bit generator made without a SeedSequence gives one drawn from its stream."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return seq
    return np.random.SeedSequence(int(rng.integers(2**63)))


def _epoch_stream(base: np.random.SeedSequence, j: int, epoch: int) -> np.random.Generator:
    """Process ``j``'s random stream for ``epoch`` (dropout masks, augmentation): a function of the caller's
    generator, the process and the epoch only, so that a run resumed at an epoch draws what an uninterrupted
    one would."""
    key = (*base.spawn_key, 0x6C617373, j, epoch)  # a branch of its own, apart from the generator's spawns
    return np.random.default_rng(np.random.SeedSequence(base.entropy, spawn_key=key))


def _shares(n: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    """``[lo, hi)`` bounds of ``parts`` near-equal shares of ``range(n)``, the larger ones first; with
    ``align``, every bound but ``n`` is a multiple of it."""
    units, tail = divmod(n, align)
    size, extra = divmod(units, parts)
    bounds, lo = [], 0
    for j in range(parts):
        hi = lo + (size + (j < extra)) * align
        bounds.append((lo, hi))
        lo = hi
    last_lo, last_hi = bounds[-1]
    bounds[-1] = (last_lo, last_hi + tail)
    return bounds


def _check_plan(net, optimizer, n_jobs: int, shards: int) -> None:
    """Raise ``ValueError`` unless ``net`` and ``optimizer`` can train on ``shards`` shards in ``n_jobs``
    processes here."""
    reason = shard_unsupported_reason(net, optimizer) or (fork_unsupported_reason() if n_jobs > 1 else None)
    if reason is not None:
        raise ValueError(f"Cannot train data-parallel: {reason}.")
    if not 1 <= n_jobs <= shards or shards < 2:
        raise ValueError(f"DataParallel needs 2 <= shards and 1 <= n_jobs <= shards; got {shards}, {n_jobs}.")


class DataParallel:
    """Training steps of ``net`` with ``optimizer``, each batch cut into ``shards`` shards computed by ``n_jobs``
    processes.

    Parameters
    ----------
    net : Sequential
        Its parameters, gradients and the optimizer's state move to shared memory until :meth:`close`.
    optimizer : Optimizer
        Any optimizer that declares ``state_names`` (SGD, Adam, AdamW).
    batch_fn : callable ``(rows, rng) -> (X, y, sample_weight)``
        The training rows ``rows`` (a slice or an index array into the caller's data), already validated and
        in the network's dtype; ``sample_weight`` may be ``None``. Runs in every process on its share, with
        that process's own random generator ``rng`` (for augmentation).
    n_jobs : int
        Number of processes, the caller included (1 to ``shards``; 1 computes every shard here).
    n_rows : int
        The most rows a batch may have.
    alpha, n_samples : float, int
        The L2 penalty of :meth:`Sequential.loss_and_grad`.
    sample_weight : array of shape (n_rows,), optional
        The caller's sample weights, indexed by the same rows as ``batch_fn`` (for the shares :math:`f_j`).
    seed : int, Generator or None
        Source of each shard's own random stream (dropout masks, augmentation), derived from the Generator's
        seed sequence, which leaves the Generator's own stream as it was.
    shards : int, optional
        Shards each batch is cut into (>= 2; default ``n_jobs``). The model depends on it, not on ``n_jobs``.
    threads : int, optional
        BLAS threads per process; default an equal share of the cores.
    streams : bool
        Whether ``batch_fn`` draws from ``rng`` (augmentation); ``False``, and without layers that need a
        generator (dropout), no stream is made (``rng`` is ``None``): a Generator per shard and epoch costs
        about 20 us, 2 % of the lab's full-batch epoch.

    Use it as a context manager, or call :meth:`close`: it ends the workers and moves everything back.
    """

    # the control block, float64 slots shared by all processes
    _ROWS, _START, _LR, _PHASE, _ERROR, _TOTAL, _EPOCH, _PER_SHARD = range(8)  # then (loss, w) per shard
    _GRADIENTS, _UPDATE, _STOP = 0, 1, 2

    def __init__(
        self,
        net,
        optimizer,
        batch_fn,
        n_jobs: int,
        n_rows: int,
        alpha=0.0,
        n_samples=None,
        sample_weight=None,
        seed=None,
        shards: int | None = None,
        threads: int | None = None,
        streams: bool = True,
    ) -> None:
        shards = n_jobs if shards is None else shards
        _check_plan(net, optimizer, n_jobs, shards)
        self.net, self.optimizer, self.batch_fn, self.n_jobs = net, optimizer, batch_fn, n_jobs
        self.n_shards = shards
        self.alpha, self.n_samples, self.sample_weight = alpha, n_samples, sample_weight
        self._closed = self._broken = False
        self._share_memory(net, optimizer, n_jobs)
        self._ctrl = _shared(self._PER_SHARD + 2 * shards, np.float64)
        self._rows = _shared(n_rows, np.intp)
        # polling would steal time from busy processes where there are more processes than cores
        self._workers = Workers(n_jobs, spin=n_jobs <= available_cpus())
        # every process uses an equal share of the cores for BLAS, unless told; held until close() (the
        # limits are shared with overlapping fits)
        self._limits = blas_threads(threads or max(1, available_cpus() // n_jobs))
        self._limits.__enter__()
        self._base = _base_sequence(seed)
        self._layer_rngs = [(layer, layer.rng) for layer in net.layers if layer.needs_rng]  # back at close()
        self._streams = streams or bool(self._layer_rngs)
        self._views: dict[int, tuple] = {}  # shard -> its gradient views, where a process computes several
        self._epoch_seen = -1
        self.begin_epoch(0)  # the streams of this process's shards; each worker derives its own
        self._start_workers()

    def _start_workers(self) -> None:
        """Fork the ``n_jobs - 1`` workers (a failure closes the session and is raised)."""
        try:
            self._workers.start(self._serve)
        except BaseException:
            self.close()
            raise

    def _share_memory(self, net, optimizer, n_jobs: int) -> None:
        """Move the weights, one gradient per shard and the optimizer's state into shared memory, and give
        each process its share of the parameters and an optimizer for it."""
        n = net.n_params
        # shares of whole cache lines: a slice that starts mid-line makes every vector load straddle two lines,
        # which slowed the update of such a share by a third
        self._param_shares = _shares(n, n_jobs, align=64 // np.dtype(net.dtype).itemsize)
        self._private = (net.flat_params, net.flat_grads)
        self._grads = [_shared(n, net.dtype) for _ in range(self.n_shards)]
        net._bind_flat_parameters(_shared(n, net.dtype), self._grads[0], copy_grads=False)
        self._state_names = tuple(optimizer.state_names)
        for name in self._state_names:
            state = _shared(n, net.dtype)
            old = optimizer.__dict__.get(name)
            if old is not None and old.shape == (n,):
                state[...] = old
            setattr(optimizer, name, state)
        self._shards = [self._shard(j) for j in range(n_jobs)]

    def _shard(self, j: int):
        """A copy of the optimizer that owns parameter share ``j``: its state is a view into the shared state."""
        lo, hi = self._param_shares[j]
        shard = copy.copy(self.optimizer)
        shard.__dict__ = {k: v for k, v in vars(shard).items() if not isinstance(v, np.ndarray)}
        for name in self._state_names:
            setattr(shard, name, getattr(self.optimizer, name)[lo:hi])
        return shard

    # --- one step --------------------------------------------------------------------------------------------

    def step(self, rows) -> float:
        """One training step on ``rows`` (a slice or an index array): loss, gradient and update; returns the
        loss. Afterwards ``net.flat_grads`` holds the whole batch's gradient, as after ``loss_and_grad``."""
        if self._closed or self._broken:
            raise RuntimeError("This DataParallel session is closed or was interrupted; start a new one.")
        ctrl = self._ctrl
        if isinstance(rows, slice):
            start, stop, _ = rows.indices(len(self._rows))
            ctrl[self._ROWS], ctrl[self._START] = stop - start, start
        else:
            rows = np.asarray(rows, dtype=np.intp)
            self._rows[: len(rows)] = rows
            ctrl[self._ROWS], ctrl[self._START] = len(rows), -1
        total = ctrl[self._ROWS] if self.sample_weight is None else np.sum(self.sample_weight[rows])
        if not total > 0:
            return 0.0  # only zero-weight rows: nothing to learn from this batch
        ctrl[self._TOTAL], ctrl[self._LR] = total, self.optimizer.lr
        self._phase(self._GRADIENTS)
        self._phase(self._UPDATE)
        self.optimizer.t = self._shards[0].t
        return float(np.sum(ctrl[self._PER_SHARD :: 2]))  # the shards' f_s L_s, in shard order

    def _phase(self, phase: int) -> None:
        """Run ``phase`` here and in every worker and wait for all of them; raise the first error."""
        self._ctrl[self._PHASE], self._ctrl[self._ERROR] = phase, 0
        try:
            self._workers.run_phase(lambda: self._run(phase, 0))
        finally:
            self._broken = self._broken or self._workers.broken
        if self._ctrl[self._ERROR]:
            self._raise_worker_error()

    def _run(self, phase: int, j: int) -> None:
        if phase == self._GRADIENTS:
            self._gradients(j)
        else:
            self._update(j)

    def begin_epoch(self, epoch: int) -> None:
        """Tell every process that steps of ``epoch`` follow: each shard draws from its stream for that epoch."""
        self._ctrl[self._EPOCH] = epoch
        self._follow_epoch(0)

    def _my_shards(self, j: int) -> range:
        """The shards process ``j`` computes: ``j, j + n_jobs, ...``."""
        return range(j, self.n_shards, self.n_jobs)

    def _follow_epoch(self, j: int) -> None:
        """The streams of process ``j``'s shards for the current epoch (dropout masks, augmentation)."""
        epoch = int(self._ctrl[self._EPOCH])
        if epoch == self._epoch_seen:
            return
        self._epoch_seen = epoch
        streams = self._streams
        self._rngs = {s: _epoch_stream(self._base, s, epoch) if streams else None for s in self._my_shards(j)}

    def _gradients(self, j: int) -> None:
        """Phase 1 in process ``j``: :math:`f_s L_s` and its gradient for each of its shards :math:`s`, the
        last one computed into process ``j``'s own gradient vector (that of its first shard)."""
        self._follow_epoch(j)
        mine = self._my_shards(j)
        bounds = _shares(int(self._ctrl[self._ROWS]), self.n_shards)  # [lo, hi) of every shard's rows
        for s in reversed(mine):
            if len(mine) > 1:  # several shards here: each gradient into the shard's own vector
                if s not in self._views:
                    self._views[s] = self.net._gradient_views(self._grads[s])
                self.net._use_gradients(self._grads[s], self._views[s])
            self._shard_gradient(s, *bounds[s])

    def _shard_gradient(self, s: int, lo: int, hi: int) -> None:
        """:math:`f_s L_s` and its gradient :math:`g_s` on shard ``s``, the batch's rows ``lo:hi``, with the
        shard's own stream."""
        ctrl = self._ctrl
        start = int(ctrl[self._START])
        rows = slice(start + lo, start + hi) if start >= 0 else self._rows[lo:hi]
        loss = weight = 0.0
        if hi > lo:
            rng = self._rngs[s]
            for layer, _ in self._layer_rngs:
                layer.rng = rng
            Xb, yb, wb = self.batch_fn(rows, rng)
            weight = float(hi - lo if wb is None else np.sum(wb, dtype=np.float64))
            if weight > 0:
                share = weight / ctrl[self._TOTAL]
                loss = self.net.loss_and_grad(
                    Xb, yb, wb, alpha=self.alpha, n_samples=self.n_samples, check=False, share=share
                )
        slot = self._PER_SHARD + 2 * s
        ctrl[slot], ctrl[slot + 1] = loss, weight

    def _update(self, j: int) -> None:
        """Phase 2 in process ``j``: the sum of the shards' gradients, in shard order, on its share of the
        parameters, which lands in the caller's gradient vector; then the optimizer's update of that share."""
        lo, hi = self._param_shares[j]
        g = self._grads[0][lo:hi]
        weights = self._ctrl[self._PER_SHARD + 1 :: 2].tolist()  # a few floats: a list is quicker than NumPy
        contributors = [i for i, w in enumerate(weights) if w > 0]  # shards of positive weight
        if contributors[0] != 0:
            g[...] = self._grads[contributors[0]][lo:hi]
        for i in contributors[1:]:
            g += self._grads[i][lo:hi]
        shard = self._shards[j]
        shard.lr = float(self._ctrl[self._LR])
        shard.update(self.net.flat_params[lo:hi], g, self.net.weight_mask[lo:hi])

    # --- the workers -----------------------------------------------------------------------------------------

    def _serve(self, j: int) -> None:
        """A worker's loop: wait for a phase, run it, report; until the caller closes the session."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
        np.seterr(over="ignore", invalid="ignore")  # a diverging step overflows: the caller checks the loss
        net = self.net
        net._bind_flat_parameters(net.flat_params, self._grads[j], copy_grads=False)
        self._epoch_seen = -1  # the stream is derived at the first step (see _follow_epoch)
        net.train()
        while self._workers.wait_for_phase(j):  # until the caller dies without closing the session
            phase = int(self._ctrl[self._PHASE])
            if phase == self._STOP:
                return
            try:
                self._run(phase, j)
            except BaseException as exc:  # noqa: BLE001 - sent to the caller, who raises it
                self._report_error(j, exc)
            self._workers.done[j].post()

    def _report_error(self, j: int, exc: BaseException) -> None:
        self._workers.error.put(exc)
        self._ctrl[self._ERROR] = 1 + j

    def _raise_worker_error(self) -> None:
        j = int(self._ctrl[self._ERROR]) - 1
        raise self._workers.error.take() from RuntimeError(f"raised in data-parallel worker {j}")

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the forked workers (the caller is the first process and not listed)."""
        return self._workers.pids

    # --- the end ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """End the workers; move weights, gradient and optimizer state back to private memory."""
        if self._closed:
            return
        self._closed = True
        self._ctrl[self._PHASE] = self._STOP
        self._workers.broken = self._workers.broken or self._broken
        self._workers.stop()
        self.net._bind_flat_parameters(*self._private)  # copies the values back
        for layer, rng in self._layer_rngs:
            layer.rng = rng
        for name in self._state_names:
            setattr(self.optimizer, name, np.array(getattr(self.optimizer, name)))
        self._limits.__exit__(None, None, None)

    def __enter__(self) -> DataParallel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
