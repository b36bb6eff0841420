"""Large matrix products shared by a crew of threads give the bits of one thread's whole product."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.fast import products
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.training import Trainer

threadpoolctl = pytest.importorskip("threadpoolctl")


def _three_products(rows, n_in, n_out, dtype, seed=0):
    """The products of a Dense layer's step: forward x @ W.T, weight gradient dy.T @ x, input gradient dy @ W."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n_in)).astype(dtype)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    dy = rng.standard_normal((rows, n_out)).astype(dtype)
    return [(x, W.T), (dy.T, x), (dy, W)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(128, 784, 1024), (200, 1024, 300), (96, 640, 130)])
def test_a_crew_of_any_size_gives_the_bits_of_one_thread(dtype, shape):
    """Widths of whole blocks split (all three products); others split where this BLAS gives the same bits
    (OpenBLAS's float64 kernel on SkylakeX gave other bits in the last 4 columns of a 300-wide product: the
    crew's check keeps such shapes whole)."""
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        for a, b in _three_products(*shape, dtype):
            whole = a @ b
            for threads in (2, 3):
                products._splits_agree.clear()
                with products.crew(threads):
                    first, second = products.matmul(a, b), products.matmul(a, b)  # the check, then the split
                    out = np.full_like(whole, np.nan)
                    products.matmul(a, b, out=out)
                if shape[1] % products.BLOCK == 0 and shape[2] % products.BLOCK == 0:
                    assert list(products._splits_agree.values()) == [True]
                for result in (first, second, out):
                    assert result.dtype == whole.dtype
                    np.testing.assert_array_equal(result, whole)


def test_a_shape_whose_split_differs_is_not_split():
    """Where this BLAS gave other bits for the blocks, the crew keeps computing that shape whole."""
    a, b = _three_products(128, 512, 256, np.float64)[0]
    products._splits_agree.clear()
    with products.crew(2) as team:
        calls = []
        original = team._run
        team._run = lambda *args: (calls.append(1), original(*args), args[2].__iadd__(1e-12))
        first = products.matmul(a, b)  # the check sees other bits
        assert list(products._splits_agree.values()) == [False]
        second = products.matmul(a, b)
    products._splits_agree.clear()  # the other tests' products: checked anew
    assert len(calls) == 1  # the second product was not split
    np.testing.assert_array_equal(first, a @ b)
    np.testing.assert_array_equal(second, a @ b)


def test_small_products_and_other_threads_use_numpy():
    a = np.ones((4, 8))
    assert products.active() is None
    products._splits_agree.clear()
    with products.crew(2) as team:
        assert products.active() is team
        np.testing.assert_array_equal(products.matmul(a, a.T), a @ a.T)
        assert products._splits_agree == {}  # too small to split
        with pytest.raises(ValueError, match="matmul"):
            products.matmul(a, a)  # numpy's own message for mismatched shapes
    assert products.active() is None
    with products.crew(1) as none:
        assert none is None and products.active() is None


def test_a_wide_fit_gives_the_same_weights_on_one_two_and_three_threads():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((512, 784)).astype(np.float32), rng.integers(0, 10, 512)
    weights, crews = [], []

    class SeeCrew:
        def on_epoch_end(self, trainer, epoch, logs):
            crews.append(products.active() and products.active().threads)

    for threads in (1, 2, 3):
        net = build_mlp([784, 1024, 1024, 10], seed=0)
        trainer = Trainer(net, Adam(lr=1e-3), batch_size=128, threads=threads, callbacks=[SeeCrew()], seed=0)
        trainer.fit(X, y, epochs=1)
        weights.append(net.flat_params.copy())
    assert crews == [None, 2, 3]
    np.testing.assert_array_equal(weights[0], weights[1])
    np.testing.assert_array_equal(weights[0], weights[2])


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "momentum"])
def test_updates_shared_by_a_crew_give_the_same_numbers(optimizer):
    """A crew shares a large element-wise update by parts (glassnet.fast._element_wise): the same bits."""
    from glassnet import fast

    if not fast.enabled():
        pytest.skip("the compiled kernels are off here")
    rng = np.random.default_rng(0)
    size = fast.SHARED_UPDATE_SIZE * 3 + 5
    start = [rng.standard_normal(size).astype(np.float32) for _ in range(4)]
    results = []
    for threads in (1, 2, 3):
        p, g, m, v = (a.copy() for a in start)
        v = np.abs(v)
        with products.crew(threads):
            if optimizer == "adam":
                assert fast.adam_update(p, g, m, v, 0.9, 0.999, 1e-8, 1e-3)
            else:
                assert fast.sgd_update(p, g, m if optimizer == "momentum" else None, 0.1, 0.9, True)
        results.append((p, m, v))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_l2_gradient_in_one_pass_gives_numpys_numbers(dtype):
    """fast.add_scaled (alone and shared by a crew) against the reference ``dW += scale * W`` and
    ``vdot(W, W)``; the sum of squares is the same, bit for bit, on any number of threads."""
    from glassnet import fast

    if not fast.enabled():
        pytest.skip("the compiled kernels are off here")
    rng = np.random.default_rng(1)
    W = rng.standard_normal((1024, 777)).astype(dtype)
    dW = rng.standard_normal(W.shape).astype(dtype)
    scale = dtype(1e-4 / 3)
    expected = dW + scale * W
    squares = []
    for threads in (1, 2, 3):
        got = dW.copy()
        with products.crew(threads):
            squares.append(fast.add_scaled(got, W, scale))
        np.testing.assert_array_equal(got, expected)
    assert squares[0] == squares[1] == squares[2]
    np.testing.assert_allclose(squares[0], np.vdot(W.astype(np.float64), W.astype(np.float64)), rtol=1e-12)
    assert fast.add_scaled(dW, W.astype(np.float16), scale) is None  # not taken: the caller runs NumPy
