"""The lab, runnable: a short version of the 5,000-epoch run, and its silent divergence made loud."""

import pytest

from glassnet.exceptions import TrainingDivergedError
from glassnet.lab import lab_network, main, run_lab


def test_lab_network_architecture():
    net = lab_network(seed=0)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "Sigmoid", "Dense", "Sigmoid", "Dense"]
    assert net.parameters()["layers.0.W"].shape == (80, 64)  # (out, in), as in the lab
    assert net.n_params == 64 * 80 + 80 + 80 * 70 + 70 + 70 * 10 + 10


def test_short_lab_run_learns_and_prints_the_loss():
    lines = []
    net, history, accuracy = run_lab(epochs=400, lr=2.0, print_every=100, out=lines.append)
    assert len(lines) == 4 and lines[0].startswith("Epoch:  100, loss:")
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert accuracy > 0.85


def test_the_labs_literal_step_is_reported_as_divergence(capsys):
    with pytest.raises(TrainingDivergedError, match="too large"):
        run_lab(epochs=30, lr=14.37, print_every=1000)
    assert main(["--epochs", "30", "--lr", "14.37"]) == 1
    assert "diverged" in capsys.readouterr().err
