#!/usr/bin/env bash
# scikit-learn's own MLP tests (sklearn/neural_network/tests/test_mlp.py of the installed scikit-learn) run on
# glassnet's estimators: the file's import line changed to glassnet's, its global_random_seed fixture given
# (42, scikit-learn's default). Usage: bash benchmarks/sklearn_mlp_tests.sh [PYTHON] [pytest options...]
set -euo pipefail
python="${1:-.venv/bin/python}"
shift || true
tests="$("$python" -c 'import os, sklearn.neural_network as m; print(os.path.join(os.path.dirname(m.__file__), "tests", "test_mlp.py"))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed 's/^from sklearn.neural_network import MLPClassifier, MLPRegressor$/from glassnet import MLPClassifier, MLPRegressor/' \
  "$tests" >"$work/test_mlp.py"
grep -q '^from glassnet import MLPClassifier, MLPRegressor$' "$work/test_mlp.py" \
  || { echo "the import line of $tests changed; update this script" >&2; exit 2; }
printf 'import pytest\n\n\n@pytest.fixture\ndef global_random_seed():\n    return 42\n' >"$work/conftest.py"
cd "$work"
"$python" -m pytest -q -p no:cacheprovider -W ignore -rf "$@" test_mlp.py
