"""The exported graph takes the data its estimator was fitted on, as it is, and says which dtype it wants
(issue 20: README's example fed float32 rows to the float64 graph of an estimator fitted on float64 data)."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from glassnet import MLPClassifier
from glassnet.export import to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)  # float64, as every sklearn.datasets loader gives


def session(onx):
    return ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_graph_takes_the_fitted_dtype_as_it_is(dtype):
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X.astype(dtype), Y)
    onx = to_onnx(clf)
    x = onx.graph.input[0]
    assert x.type.tensor_type.elem_type == onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert x.doc_string == f"{np.dtype(dtype).name} rows of 4 features"
    label, probabilities = session(onx).run(None, {"X": X.astype(dtype)})
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(probabilities, clf.predict_proba(X), rtol=1e-4, atol=1e-6)


def test_another_dtype_is_refused_naming_the_one_the_graph_wants():
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, Y)
    with pytest.raises(Exception, match=r"expected: \(tensor\(double\)\)"):
        session(to_onnx(clf)).run(None, {"X": X.astype(np.float32)})
    label, _ = session(to_onnx(clf, dtype="float32")).run(None, {"X": X.astype(np.float32)})
    assert np.mean(label == clf.predict(X)) > 0.97  # a float32 copy of the float64 weights


def test_a_scaled_input_says_its_units():
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X / 8.0, Y)
    x = to_onnx(clf, input_scale=8.0).graph.input[0]
    units = "in the data's raw units (divided by 8.0 inside the graph)"
    assert x.doc_string == f"float64 rows of 4 features {units}"
