"""Stable activations: the lab's test vectors, stability, dtypes, no mutation."""

import numpy as np
import pytest

from glassnet import functional as F

ELEMENTWISE = ["identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"]


def test_lab_sigmoid_and_softmax_vectors():
    np.testing.assert_allclose(F.sigmoid(np.array([0.0, 1000.0, -1000.0])), [0.5, 1.0, 0.0], atol=1e-8)
    np.testing.assert_allclose(F.softmax(np.array([0.0, 1000.0, -1000.0])), [0.0, 1.0, 0.0], atol=1e-8)


def test_lab_activation_gradient_vectors():
    rs = np.random.RandomState(0)  # the lab's np.random.seed(0) stream
    got = F.sigmoid_backward(rs.randn(3), rs.randn(3))
    np.testing.assert_allclose(got, [-4.90531647, -0.64834065, -1.89126428], atol=1e-8)
    got = F.softmax_cross_entropy_backward(rs.randn(3), rs.randn(3))
    np.testing.assert_allclose(got, [0.53948992, -0.29540078, -1.55749236], atol=1e-8)


def test_sigmoid_integer_input_and_no_mutation():
    x = np.array([0, 1000, -1000])
    out = F.sigmoid(x)
    np.testing.assert_array_equal(out, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(x, [0, 1000, -1000])
    xf = np.array([0.0, 3.0, -3.0])
    F.sigmoid(xf)
    np.testing.assert_array_equal(xf, [0.0, 3.0, -3.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_extreme_inputs_are_finite_without_warnings(name, dtype):
    f, df, takes_output = F.get_activation(name)
    big = np.finfo(dtype).max
    x = np.array([[0.0, 1000.0, -1000.0], [big, -big, 1.0]], dtype=dtype)  # any shape, no overflow warning
    a = f(x)
    assert a.dtype == dtype and a.shape == x.shape
    assert np.all(np.isfinite(a))
    d = df(a if takes_output else x)
    assert np.all(np.isfinite(d))


def test_sigmoid_tail_precision_and_symmetry():
    x = np.linspace(-700, 700, 101)
    np.testing.assert_allclose(F.sigmoid(-x), 1 - F.sigmoid(x), atol=1e-15)
    np.testing.assert_allclose(F.sigmoid(-40.0), np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-12)
    assert F.sigmoid(np.array([1e308, -1e308])).tolist() == [1.0, 0.0]


def test_softmax_rows_independent_and_log_softmax_finite():
    x = np.array([[0.0, 1000.0, -1000.0], [1.0, 2.0, 3.0]])
    p = F.softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], F.softmax(x[1]))
    lp = F.log_softmax(x)
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp[0], [-1000.0, 0.0, -2000.0])
    np.testing.assert_allclose(F.logsumexp(x), [1000.0, np.log(np.exp([1.0, 2, 3]).sum())])
    assert F.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_match_central_differences(name):
    f, df, takes_output = F.get_activation(name)
    x = np.linspace(-4, 4, 41) + 0.013  # avoid the kink of relu at exactly 0
    h = 1e-6
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    np.testing.assert_allclose(df(f(x) if takes_output else x), numeric, rtol=1e-6, atol=1e-8)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="expected one of"):
        F.get_activation("swish")
