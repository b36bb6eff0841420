"""Loading a model file takes about its declared arrays in memory, not several copies (issue 20, item 9)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from glassnet.files.model import save_model
from glassnet.nn.layers import Dense
from glassnet.nn.network import Sequential

MEASURE = """
import resource, sys
from glassnet.files.model import load_model
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = load_model(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert model.network.forward(__import__("numpy").ones((1, 4096), "float32")).shape == (1, 4096)
print((after - before) * 1024)
"""


def test_a_loaded_network_holds_its_weights_once(tmp_path):
    net = Sequential([Dense(4096, 4096, rng=0)], loss="squared_error")  # 64 MiB of float32 weights
    path = save_model(tmp_path / "big.npz", net)
    declared = net.flat_params.nbytes
    grown = int(subprocess.run([sys.executable, "-c", MEASURE, str(path)], check=True, capture_output=True,
                               text=True).stdout.split()[-1])  # fmt: skip
    # the weights once, plus a fixed few MB (before: the weights, a zero gradient and a mask: three times)
    assert grown < 1.3 * declared + 16 * 2**20, (
        f"loading took {grown / 2**20:.0f} MiB for {declared / 2**20:.0f} MiB"
    )


def test_the_weight_mask_is_built_when_training_needs_it():
    net = Sequential([Dense(3, 2, rng=0)])
    assert net._weight_mask is None
    np.testing.assert_array_equal(net.weight_mask, [1.0] * 6 + [0.0] * 2)  # W decays, b does not
    assert net.weight_mask is net._weight_mask
