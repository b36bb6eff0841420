"""The speed benchmark's tasks and targets: the networks each case trains, the settings of a run, and the
thresholds the report judges against (see :mod:`glassnet.bench.speed`)."""

from __future__ import annotations

from glassnet.bench._frameworks import MLPSpec

SPEC_A = MLPSpec((64, 80, 70, 10), "logistic", "sgd", lr=0.5, batch_size=None, shuffle=False)
SPEC_B = MLPSpec((784, 256, 128, 10), "relu", "adam", lr=1e-3, batch_size=128)
SPEC_C = MLPSpec((784, 1024, 1024, 10), "relu", "sgd", lr=0.01, batch_size=256)
#: (e) the estimators' cases: a wide network with small batches, and a small one with batch_size='auto'
SPEC_E_WIDE = MLPSpec((784, 1024, 1024, 10), "relu", "adam", lr=1e-3, batch_size=64)
SPEC_E_SMALL = MLPSpec((64, 100, 10), "relu", "adam", lr=1e-3, batch_size=200)  # 'auto': min(200, n)

#: work per setting: (a) epochs per timed run, (b) training rows and epochs, (c) batches per run,
#: (d) predict calls at batch 1 and at batch 1024, repeats of every timing
SETTINGS = {
    "quick": dict(
        a_epochs=200,
        b_rows=10_000,
        b_epochs=2,
        c_batches=16,
        d_calls=(300, 10),
        e_rows=1600,
        e_epochs=(1, 100, 30),
        repeats=3,
    ),
    "full": dict(
        a_epochs=1000,
        b_rows=None,
        b_epochs=3,
        c_batches=48,
        d_calls=(2000, 40),
        e_rows=6400,
        e_epochs=(1, 500, 100),
        repeats=5,
    ),
}

#: issue 14's targets (the earlier ones against PyTorch are kept): epoch time against JAX's best on several
#: cores and on one thread, against scikit-learn, and the share of NumPy's matrix-product rate in (c)
TARGETS = {
    "epoch_time_vs_torch": 0.8,
    "epoch_time_vs_jax": {"cores": 0.8, "one_thread": 1.0},
    "epoch_time_vs_sklearn": 1 / 3,
    "gemm_fraction": {"cores": 0.75, "one_thread": 0.85},
    # issue 22's target 2: (b)'s share of the machine's floor (its matrix products alone at NumPy's best rate)
    "floor_share_b": {"one_thread": 0.75},
}

#: a part is flagged busy when other processes (not this one, its threads or its descendants) took more than
#: this many cores on average while it ran (:class:`glassnet.bench._timing.MachineLoad`)
BUSY_OTHER_CORES = 0.25
#: a row whose repeats spread by more than this fraction (slowest over fastest, minus one) is called noisy
#: beside its figures; not busy: the benchmark's own work spreads repeats too (thread pools still spinning
#: after the previous row, first calls, forked workers): 25-56 % on idle runs whose other processes used
#: at most 0.03 cores
NOISY_SPREAD = 0.25
