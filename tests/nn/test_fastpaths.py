"""Every fast path of the engine gives the plain path's results to float tolerance (never timings)."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from glassnet import fast
from glassnet import functional as F
from glassnet.bench import speed
from glassnet.layers import Dense, ReLU, Sigmoid, Tanh
from glassnet.losses import SoftmaxCrossEntropy
from glassnet.network import build_mlp
from glassnet.optim import SGD, Adam, AdamW

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 2e-6, np.float64: 1e-13}


def _x(shape, dtype, scale=30.0, seed=0):
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    x.flat[:6] = [0.0, -0.0, 1000.0, -1000.0, 1e-30, -1e-30]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_layer_matches_the_split_by_sign(dtype):
    x = _x((200, 9), dtype)
    layer = Sigmoid()
    a = layer.forward(x)
    ref = F.sigmoid(x)
    assert a.dtype == dtype
    # equal to a few ulps, except that a subnormal true value may come out as 0 (documented)
    np.testing.assert_allclose(a, ref, rtol=TOL[dtype], atol=np.finfo(dtype).tiny)
    normal = ref >= np.finfo(dtype).tiny
    np.testing.assert_allclose(a[normal], ref[normal], rtol=TOL[dtype], atol=0)
    assert np.all(np.isfinite(a)) and a.flat[2] == 1.0 and a.flat[3] == 0.0
    dy = _x((200, 9), dtype, scale=1.0, seed=1)
    np.testing.assert_allclose(layer.backward(dy), dy * (1.0 - a) * a, rtol=TOL[dtype], atol=0)


def test_sigmoid_layer_does_not_mutate_and_takes_integers():
    x = np.array([[-3, 0, 4]])
    out = Sigmoid().forward(x)
    assert out.dtype == np.float64 and x.tolist() == [[-3, 0, 4]]
    np.testing.assert_allclose(out, F.sigmoid(x), rtol=1e-15)
    nan = Sigmoid().forward(np.array([[np.nan]]))
    assert np.isnan(nan).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_matches_where(dtype):
    x = _x((64, 17), dtype)
    layer = ReLU()
    a = layer.forward(x)
    dy = _x((64, 17), dtype, scale=1.0, seed=2)
    dx = layer.backward(dy)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, np.where(a > 0, dy, 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 2, 10, 40])
def test_integer_label_cross_entropy_matches_one_hot_and_weighted_paths(dtype, k):
    rng = np.random.default_rng(k)
    z = (rng.standard_normal((150, k)) * 20).astype(dtype)
    y = rng.integers(0, k, 150)
    loss = SoftmaxCrossEntropy()
    fast = loss.forward(z, y)
    dz_fast = loss.backward().copy()
    assert dz_fast.dtype == dtype
    for other in (dict(y=np.eye(k)[y]), dict(y=y, sample_weight=np.ones(150))):
        plain = loss.forward(z, other["y"], other.get("sample_weight"))
        assert fast == pytest.approx(plain, rel=10 * TOL[dtype], abs=10 * TOL[dtype])
        np.testing.assert_allclose(dz_fast, loss.backward(), rtol=0, atol=10 * TOL[dtype])
    # the plain formula from the log-softmax
    ref = -np.mean(F.log_softmax(z.astype(np.float64))[np.arange(150), y])
    assert fast == pytest.approx(ref, rel=1e-5)


def test_integer_label_cross_entropy_still_validates():
    loss = SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        loss.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels"):
        loss.forward(np.zeros((2, 3)), np.array([0.5, 1.0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_bias_gradient_is_the_column_sum_for_changing_batch_sizes(dtype):
    layer = Dense(5, 4, rng=0, dtype=dtype)
    for n in (7, 3, 7):
        x = _x((n, 5), dtype, scale=1.0, seed=n)
        dy = _x((n, 4), dtype, scale=1.0, seed=n + 1)
        layer.forward(x)
        layer.backward(dy)
        np.testing.assert_allclose(
            layer.grads["b"], dy.sum(axis=0), rtol=10 * TOL[dtype], atol=10 * TOL[dtype]
        )
        np.testing.assert_allclose(layer.grads["W"], dy.T @ x, rtol=10 * TOL[dtype], atol=10 * TOL[dtype])


def test_input_check_by_sum_still_catches_nan_and_inf_and_accepts_huge_finite_values():
    net = build_mlp([3, 4, 2], seed=0)
    for bad in (np.nan, np.inf, -np.inf):
        X = np.ones((4, 3), dtype=np.float32)
        X[2, 1] = bad
        with pytest.raises(ValueError, match="NaN or infinite"):
            net.forward(X)
    X = np.full((4, 3), 3e38, dtype=np.float32)  # finite, but the float32 sum overflows
    with np.errstate(over="ignore", invalid="ignore"):
        assert net.forward(X).shape == (4, 2)
    X = np.array([[np.inf, -np.inf, 0.0]] * 4)  # sum is nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.forward(X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_matches_the_textbook_update(dtype):
    rng = np.random.default_rng(3)
    params = rng.standard_normal(50).astype(dtype)
    ref = params.astype(np.float64)
    m = np.zeros(50)
    v = np.zeros(50)
    opt = Adam(lr=0.01)
    for t in range(1, 6):
        g = rng.standard_normal(50).astype(dtype)
        opt.update(params, g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g.astype(np.float64) ** 2
        ref -= 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert params.dtype == dtype
    np.testing.assert_allclose(params, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_trained_network_matches_a_float64_reference_step():
    """One full training step (forward, fused loss, backward) in float32 agrees with float64."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    y = rng.integers(0, 3, 40)
    for activation in ("logistic", "relu"):
        net32 = build_mlp([6, 8, 5, 3], activation=activation, seed=1)
        net64 = net32.astype(np.float64)
        loss32 = net32.loss_and_grad(X, y, alpha=0.1)
        loss64 = net64.loss_and_grad(X, y, alpha=0.1)
        assert loss32 == pytest.approx(loss64, rel=1e-5)
        np.testing.assert_allclose(net32.flat_grads, net64.flat_grads, rtol=1e-3, atol=1e-6)


# --- the benchmark's own arithmetic and command line ------------------------------------------------------------


@pytest.fixture
def small_bench(monkeypatch):
    """The benchmark's quick settings, cut down further: these tests check what it reports, not speed."""
    quick = dict(speed.SETTINGS["quick"], a_epochs=10, b_rows=600, b_epochs=1, c_batches=2, repeats=1)
    quick.update(d_calls=(5, 2), e_rows=64, e_epochs=(1, 3, 2))
    monkeypatch.setitem(speed.SETTINGS, "quick", quick)
    return quick


def test_gemm_flops_counts_forward_weight_and_input_gradients_but_not_the_data_gradient():
    # one layer: forward and dW only
    assert speed.gemm_flops((4, 3), batch=2) == 2 * (2 * 2 * 4 * 3)
    # two layers: the second also has dx
    expected = 2 * (2 * 2 * 4 * 3) + 3 * (2 * 2 * 3 * 5)
    assert speed.gemm_flops((4, 3, 5), batch=2) == expected


def test_alternate_rotates_and_collects_every_repeat():
    calls = []
    times = speed.alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3}


def test_verdicts_compare_against_the_targets():
    results = {
        "a": {"ms_per_epoch": {"glassnet": 1.0, "torch": 2.0, "sklearn": 2.5}},
        "c": {"fraction_of_gemm": {"glassnet": 0.75}},
    }
    rows = {r["target"]: r["met"] for r in speed.verdicts(results)}
    assert rows["(a) epoch time glassnet/torch"] is True
    assert rows["(a) epoch time glassnet/sklearn"] is False  # 0.4 > 1/3
    assert rows["(c) glassnet GFLOP/s / NumPy matmul GFLOP/s"] is True


def test_speed_command_runs_a_small_subset_and_writes_json(small_bench, tmp_path, capsys):
    out = tmp_path / "speed.json"
    code = speed.main(
        ["--quick", "--only", "a", "--frameworks", "glassnet", "--repeats", "1", "--json", str(out)]
    )
    assert code == 0
    results = json.loads(out.read_text())
    assert results["a"]["ms_per_epoch"]["glassnet"] > 0
    assert "blas" in results["machine"]
    assert "(a) digits" in capsys.readouterr().out
    assert math.isfinite(results["seconds"])


def test_speed_command_rejects_unknown_parts(capsys):
    assert speed.main(["--only", "z", "--json", ""]) == 2
    assert "--only" in capsys.readouterr().err


def test_speed_command_says_how_to_get_missing_data_and_runs_the_rest(
    small_bench, monkeypatch, tmp_path, capsys
):
    import glassnet.data

    def missing(*args, **kwargs):
        raise glassnet.data.DataNotFoundError(
            "Fashion-MNIST not found; run `glassnet data fetch fashion-mnist`"
        )

    monkeypatch.setattr(glassnet.data, "load_dataset", missing)
    out = tmp_path / "speed.json"
    code = speed.main(["--quick", "--only", "b,memory", "--frameworks", "glassnet", "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert "b" not in results and "memory" not in results
    assert any("glassnet data fetch" in note for note in results["notes"])
    assert "glassnet data fetch" in capsys.readouterr().out


def test_speed_command_shows_glassnet_in_one_process_beside_its_data_parallel_run(small_bench, tmp_path):
    out = tmp_path / "speed.json"
    argv = [
        "--quick",
        "--only",
        "a",
        "--frameworks",
        "glassnet",
        "--repeats",
        "1",
        "--threads",
        "2",
        "--no-numpy-path",
    ]
    assert speed.main([*argv, "--jobs", "2", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["jobs"] == 2
    assert set(results["a"]["ms_per_epoch"]) == {"glassnet", "glassnet, 1 process"}


def test_memory_child_adds_the_workers_private_memory(tmp_path):
    rng = np.random.default_rng(0)
    path = str(tmp_path / "data")
    np.save(path + ".X.npy", rng.random((3000, 784), dtype=np.float32))
    np.save(path + ".y.npy", rng.integers(0, 10, 3000))
    result = speed.memory_child("glassnet", path, threads=2, jobs=2)
    assert result["workers_private_mib"] > 0
    assert result["rss_peak_delta_mib"] >= result["workers_private_mib"]
    assert result["imports_mib"] >= 0  # reported apart from the training's peak


def test_speed_command_says_when_glassnet_cannot_run_data_parallel(small_bench, tmp_path, monkeypatch):
    from glassnet import parallel

    monkeypatch.setattr(parallel, "unsupported_reason", lambda net, opt: "no fork on this platform")
    out = tmp_path / "speed.json"
    argv = [
        "--quick",
        "--only",
        "a",
        "--frameworks",
        "glassnet",
        "--repeats",
        "1",
        "--threads",
        "2",
        "--no-numpy-path",
    ]
    assert speed.main([*argv, "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["jobs"] == 1 and list(results["a"]["ms_per_epoch"]) == ["glassnet"]
    assert any("one process: no fork on this platform" in note for note in results["notes"])


# --- the compiled kernels (glassnet.fast) against the NumPy reference path ------------------------------------------

needs_numba = pytest.mark.skipif(not fast.AVAILABLE, reason="numba is not installed (glassnet[fast])")


def _both(run):
    """``run()`` with the compiled kernels on, then on the NumPy reference path (copies of the results)."""
    previous = fast.set_enabled(True)
    try:
        on = run()
        fast.set_enabled(False)
        off = run()
    finally:
        fast.set_enabled(previous)
    return on, off


def _close(on, off, dtype, factor=1.0):
    np.testing.assert_allclose(on, off, rtol=factor * TOL[dtype], atol=factor * TOL[dtype])


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda: Adam(lr=0.01),
        lambda: AdamW(lr=0.01, weight_decay=0.1),
        lambda: SGD(lr=0.1),
        lambda: SGD(lr=0.1, momentum=0.9),
        lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
    ],
    ids=["adam", "adamw", "sgd", "momentum", "nesterov"],
)
def test_compiled_optimizer_steps_match_the_reference(dtype, make):
    rng = np.random.default_rng(4)
    start = rng.standard_normal(300).astype(dtype)
    grads = [rng.standard_normal(300).astype(dtype) for _ in range(4)]
    mask = (np.arange(300) % 3 > 0).astype(dtype)

    def run():
        params, opt = start.copy(), make()
        for g in grads:
            opt.update(params, g, mask)
        return params

    on, off = _both(run)
    assert on.dtype == dtype
    _close(on, off, dtype)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer_cls", [Sigmoid, ReLU, Tanh])
def test_compiled_activation_backward_matches_the_reference(dtype, layer_cls):
    x = _x((50, 7), dtype, scale=3.0)
    dy = _x((50, 7), dtype, scale=1.0, seed=5)
    dy.flat[7] = np.inf  # inf times a zero derivative is nan on both paths

    def run():
        layer = layer_cls()
        layer.forward(x)
        return layer.backward(dy)

    on, off = _both(run)
    assert on.dtype == dtype and on.shape == x.shape
    np.testing.assert_array_equal(np.isnan(on), np.isnan(off))
    finite = ~np.isnan(off)
    _close(on[finite], off[finite], dtype)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 2, 10, 40])
def test_compiled_cross_entropy_matches_the_reference(dtype, k):
    rng = np.random.default_rng(k)
    z = (rng.standard_normal((60, k)) * 20).astype(dtype)
    y = rng.integers(0, k, 60).astype(np.int32)
    loss = SoftmaxCrossEntropy()

    def run():
        return loss.forward(z, y), loss.backward().copy()

    (l_on, dz_on), (l_off, dz_off) = _both(run)
    assert dz_on.dtype == dtype
    assert l_on == pytest.approx(l_off, rel=10 * TOL[dtype], abs=10 * TOL[dtype])
    _close(dz_on, dz_off, dtype, factor=10)


def _ulps(got, want, dtype):
    """|got - want| in units in the last place of ``want`` rounded to ``dtype``."""
    want = np.asarray(want)
    return np.abs(got.astype(want.dtype) - want) / np.spacing(want.astype(dtype)).astype(want.dtype)


def _sigmoid_inputs(dtype):
    """-110..110 densely, every float around the points where the result saturates or turns subnormal, and
    the extremes."""
    info = np.finfo(dtype)
    edges = [88.72283, 87.33654, 103.97, 16.6, 17.33, 36.7, 0.0, 1.0]
    if dtype == np.float64:
        edges += [709.782712893384, 708.3964185322641, 745.13]
    parts = [np.linspace(-110, 110, 200_001, dtype=dtype)]
    if dtype == np.float64:
        parts.append(np.linspace(-750, 750, 200_001))
    for c in edges:
        around = dtype(c) + np.arange(-300, 301, dtype=dtype) * np.spacing(dtype(max(c, 1.0)))
        parts += [around, -around]
    special = [0.0, -0.0, 1e30, -1e30, info.max, -info.max, np.inf, -np.inf, info.tiny, -info.tiny, 1e-40]
    parts.append(np.array(special, dtype=dtype))
    return np.concatenate(parts).astype(dtype)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_sigmoid_forward_matches_the_reference_over_the_whole_range(dtype):
    x = _sigmoid_inputs(dtype)
    x = x[: x.size - x.size % 7].reshape(-1, 7)  # a 2-D batch, as the layer sees it

    def run():
        return Sigmoid().forward(x)

    on, off = _both(run)
    assert on.dtype == dtype and on.shape == x.shape
    assert not np.isnan(on).any() and not np.isnan(off).any()
    tiny = np.finfo(dtype).tiny
    normal = off >= tiny
    assert _ulps(on[normal], off[normal], dtype).max() <= 4  # measured: 4
    # against the exact value (in float64, or x87's long double for float64): the kernel is the more accurate
    wide = np.float64 if dtype == np.float32 else np.longdouble
    if np.finfo(wide).eps < np.finfo(dtype).eps / 100:  # (long double is double on some platforms)
        with np.errstate(over="ignore"):
            exact = 1 / (1 + np.exp(-x.astype(wide)))
        normal = exact >= tiny
        assert _ulps(on[normal], exact[normal], dtype).max() <= 3  # measured: 2.4 (NumPy's formula: 3.5)
    # saturation exactly where the reference saturates; subnormal results within the smallest normal number
    np.testing.assert_array_equal(on == 1, off == 1)
    np.testing.assert_array_equal(on == 0, off == 0)
    assert np.abs(on - off)[off < tiny].max() <= tiny
    nan = np.array([[np.nan, 1.0, -np.nan, 2.0]], dtype=dtype)
    on_nan, off_nan = _both(lambda: Sigmoid().forward(nan))
    np.testing.assert_array_equal(np.isnan(on_nan), [[True, False, True, False]])
    np.testing.assert_allclose(on_nan, off_nan, rtol=TOL[dtype])


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1437, 10), (300, 100), (7, 1), (5, 17), (3, 1000)])
def test_compiled_cross_entropy_is_accurate_at_every_size(dtype, shape):
    """No size limit any more: the kernel's own exponential gives the softmax to a few ulps."""
    n, k = shape
    rng = np.random.default_rng(n + k)
    z = (rng.standard_normal(shape) * 8).astype(dtype)
    z[0] = np.linspace(-200, 0, k)  # exponentials that underflow
    z[1 % n] = 0.0  # a tie everywhere
    y = rng.integers(0, k, n)
    loss = SoftmaxCrossEntropy()
    (l_on, dz_on), (l_off, dz_off) = _both(lambda: (loss.forward(z, y), loss.backward().copy()))
    assert dz_on.dtype == dtype
    assert l_on == pytest.approx(l_off, rel=10 * TOL[dtype])
    _close(dz_on, dz_off, dtype, factor=10)
    # the softmax of the shifted logits as both paths round them (z - max in the dtype), computed exactly
    wide = np.float64 if dtype == np.float32 else np.longdouble
    exact = np.exp((z - z.max(axis=1, keepdims=True)).astype(wide))
    exact /= exact.sum(axis=1, keepdims=True)
    others = np.ones(shape, dtype=bool)
    others[np.arange(n), y] = False  # dz = softmax / N off the label (on it, 1/N is subtracted)
    big = others & (exact >= 1e3 * np.finfo(dtype).tiny)
    bound = (
        3 if dtype == np.float32 else 12
    )  # measured: 1.8 (reference path 5.6); 8.4 (8.6, row sums' rounding)
    if (
        big.any() and np.finfo(wide).eps < np.finfo(dtype).eps / 100
    ):  # (long double is double on some platforms)
        assert _ulps(dz_on[big].astype(wide) * n, exact[big], dtype).max() <= bound
    assert np.all(dz_on[others & (exact < 1e3 * np.finfo(dtype).tiny)] * n <= 2e3 * np.finfo(dtype).tiny)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [3, 16, 19, 40])
def test_compiled_cross_entropy_finds_each_row_maximum_wherever_it_is(dtype, k):
    """A row's maximum in any column (the four partial maxima of long rows, their remainder): a wrong
    maximum would overflow exp(z - max) at these magnitudes."""
    n = 2 * k
    z = np.zeros((n, k), dtype=dtype)
    z[np.arange(n), np.arange(n) % k] = 800.0 if dtype == np.float64 else 100.0
    y = (np.arange(n) + 1) % k
    loss = SoftmaxCrossEntropy()
    (l_on, dz_on), (l_off, dz_off) = _both(lambda: (loss.forward(z, y), loss.backward().copy()))
    assert np.isfinite(l_on) and np.all(np.isfinite(dz_on))
    assert l_on == pytest.approx(l_off, rel=10 * TOL[dtype])
    _close(dz_on, dz_off, dtype, factor=10)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["logistic", "relu", "tanh"])
def test_a_training_run_with_the_kernels_matches_the_reference(dtype, activation):
    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    y = rng.integers(0, 3, 40)

    def run():
        net = build_mlp([6, 8, 5, 3], activation=activation, seed=1).astype(dtype)
        opt = Adam(lr=0.01)
        for _ in range(5):
            net.loss_and_grad(X, y)
            opt.step(net)
        return net.flat_params.copy()

    on, off = _both(run)
    _close(on, off, dtype, factor=100)  # five steps: the rounding differences of each step add up


@needs_numba
def test_kernels_refuse_what_they_do_not_take_and_the_layer_still_answers():
    a = np.random.default_rng(0).random((6, 4))
    assert fast.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.intp)) is None  # empty
    assert fast.softmax_cross_entropy(a.T, np.zeros(4, dtype=np.intp)) is None  # not C-contiguous
    assert fast.sigmoid_forward(a.T) is None  # not C-contiguous
    assert fast.sigmoid_forward(np.arange(6).reshape(2, 3)) is None  # integers: the layer converts them
    np.testing.assert_allclose(Sigmoid().forward(a.T), 1.0 / (1.0 + np.exp(-a.T)), rtol=1e-15)
    assert fast.relu_backward(a.T, a.T) is None  # not C-contiguous
    assert fast.relu_backward(a.astype(np.float32), a) is None  # mixed dtypes
    assert fast.adam_update(a, a, a, a, 0.9, 0.999, 1e-8, 1e-3) is False  # not a flat vector
    layer = ReLU()
    layer.forward(a.T)
    np.testing.assert_array_equal(layer.backward(a.T), a.T * (a.T > 0))


def test_without_numba_everything_runs_on_the_reference_path(monkeypatch):
    monkeypatch.setattr(fast, "AVAILABLE", False)
    monkeypatch.setattr(fast, "ENABLED", False)
    assert fast.set_enabled(True) is False and fast.enabled() is False  # cannot switch on without numba
    assert "numba not installed" in fast.describe() and "glassnet[fast]" in fast.describe()
    assert fast.adam_update(np.zeros(3), np.ones(3), np.zeros(3), np.zeros(3), 0.9, 0.999, 1e-8, 0.1) is False
    net = build_mlp([6, 8, 3], activation="logistic", seed=1)
    opt = Adam(lr=0.01)
    X = np.random.default_rng(0).random((20, 6))
    before = net.flat_params.copy()
    net.loss_and_grad(X, np.arange(20) % 3)
    opt.step(net)
    assert np.all(np.isfinite(net.flat_params)) and not np.array_equal(before, net.flat_params)


def test_kernels_that_fail_to_load_leave_the_reference_path_on(monkeypatch):
    monkeypatch.setattr(fast, "AVAILABLE", True)
    monkeypatch.setattr(fast, "ENABLED", True)
    monkeypatch.setattr(fast, "_kernels", None)
    monkeypatch.setattr(fast, "LOAD_ERROR", None)
    monkeypatch.setitem(sys.modules, "glassnet.fast._numba", None)  # import fails
    monkeypatch.delattr(fast, "_numba", raising=False)  # (the submodule, once imported, is an attribute)
    a = np.random.default_rng(0).random((5, 3))
    assert fast.relu_backward(a, a) is None
    assert not fast.enabled() and "failed to load" in fast.describe()
    layer = ReLU()
    layer.forward(a)
    np.testing.assert_array_equal(layer.backward(a), a * (a > 0))


def test_glassnet_fast_0_switches_the_kernels_off_in_a_new_process():
    import os
    import subprocess
    import sys

    code = "from glassnet import fast; print(fast.enabled(), fast.describe())"
    env = {**os.environ, "GLASSNET_FAST": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("False fast paths off")


def test_warm_up_loads_every_kernel_or_says_the_fast_paths_are_off(monkeypatch):
    assert fast.warm_up() is fast.enabled()
    monkeypatch.setattr(fast, "ENABLED", False)
    assert fast.warm_up() is False
