"""`glassnet train --resume`: a changed setting is applied and recorded, or refused by name; the split never
changes (issue 20, item 1)."""

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.io import load_model

COMMON = ["train", "--dataset", "digits", "--hidden", "8", "--limit-train", "300", "--batch-size", "32",
          "--no-report", "--no-progress"]  # fmt: skip


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    """A checkpointed 4-epoch run with --seed 5 --test-size 0.3: the folder and its checkpoint after epoch 2."""
    tmp = tmp_path_factory.mktemp("resume")
    split = ["--seed", "5", "--test-size", "0.3"]
    folder = tmp / "ckpt"
    assert (
        main([*COMMON, *split, "--epochs", "4", "--checkpoint", str(folder), "-o", str(tmp / "straight.npz")])
        == 0
    )
    return tmp, folder / "checkpoint-0002.npz"


def test_resume_alone_keeps_the_recorded_split_and_seed(capsys, two_epochs):
    tmp, folder = two_epochs
    out = tmp / "resumed.npz"
    assert folder.is_file()
    code, _, err = run(capsys, *COMMON, "--epochs", "4", "--resume", str(folder), "-o", str(out))
    assert code == 0, err
    resumed, straight = load_model(out), load_model(tmp / "straight.npz")
    np.testing.assert_array_equal(resumed.network.flat_params, straight.network.flat_params)
    assert resumed.info["split"]["seed"] == 5 and resumed.info["split"]["test_size"] == 0.3
    assert resumed.info["split"]["test_digest"] == straight.info["split"]["test_digest"]
    assert "resumed" not in resumed.info  # nothing changed
    # evaluate then scores exactly the rows the run held out
    code, text, err = run(capsys, "evaluate", str(out), "--out", str(tmp / "ev"))
    assert code == 0 and "test rows training held out" in text, err


@pytest.mark.parametrize(
    "option, value, named",
    [
        ("--seed", "3", "--seed 3 (the checkpoint's run: 5)"),
        ("--test-size", "0.2", "--test-size 0.2 (the checkpoint's run: 0.3)"),
        ("--limit-train", "200", "--limit-train 200"),
        ("--validation-split", "0.2", "--validation-split 0.2"),
        ("--dropout", "0.1", "--dropout 0.1"),
        ("--hidden", "9", "another architecture"),
    ],
)
def test_resume_refuses_a_changed_split_or_network_by_name(capsys, two_epochs, option, value, named):
    tmp, folder = two_epochs
    code, _, err = run(capsys, *COMMON, "--epochs", "4", "--resume", str(folder), option, value,
                       "-o", str(tmp / "refused.npz"))  # fmt: skip
    assert code == 2 and named in err and "--lr and --epochs" in err and err.count("\n") == 1
    assert not (tmp / "refused.npz").exists()


def test_resume_with_a_new_learning_rate_applies_and_records_it(capsys, two_epochs):
    tmp, folder = two_epochs
    same, faster = tmp / "same.npz", tmp / "faster.npz"
    assert run(capsys, *COMMON, "--epochs", "4", "--resume", str(folder), "-o", str(same))[0] == 0
    code, _, err = run(capsys, *COMMON, "--epochs", "4", "--resume", str(folder), "--lr", "0.01",
                       "-o", str(faster))  # fmt: skip
    assert code == 0 and "--lr 0.001 -> 0.01" in err
    a, b = load_model(same), load_model(faster)
    assert not np.array_equal(a.network.flat_params, b.network.flat_params)  # the new rate was used
    assert b.info["lr"] == 0.01
    assert b.info["resumed"] == [{"epoch": 2, "changed": {"lr": [0.001, 0.01]}}]
    assert b.info["epochs"] == 4


def test_checkpoints_after_a_resume_record_the_change(capsys, tmp_path):
    folder = tmp_path / "ck"
    assert main([*COMMON, "--epochs", "1", "--checkpoint", str(folder), "-o", str(tmp_path / "a.npz")]) == 0
    assert main([*COMMON, "--epochs", "2", "--lr", "0.005", "--resume", str(folder), "--checkpoint", str(folder),
                 "-o", str(tmp_path / "b.npz")]) == 0  # fmt: skip
    # resumed again without --lr: the checkpoint now says 0.005, and the record keeps the earlier change
    code, _, err = run(
        capsys, *COMMON, "--epochs", "3", "--resume", str(folder), "-o", str(tmp_path / "c.npz")
    )
    assert code == 0, err
    info = load_model(tmp_path / "c.npz").info
    assert info["lr"] == 0.005
    assert info["resumed"] == [
        {"epoch": 1, "changed": {"lr": [0.001, 0.005], "epochs": [1, 2]}},
        {"epoch": 2, "changed": {"epochs": [2, 3]}},
    ]


def test_cosine_schedule_is_stretched_over_the_new_epochs(capsys, tmp_path):
    folder = tmp_path / "ck"
    cosine = [*COMMON, "--schedule", "cosine"]
    assert main([*cosine, "--epochs", "2", "--checkpoint", str(folder), "-o", str(tmp_path / "two.npz")]) == 0
    code, _, err = run(
        capsys, *cosine, "--epochs", "4", "--resume", str(folder), "-o", str(tmp_path / "four.npz")
    )
    assert code == 0, err
    two, four = load_model(tmp_path / "two.npz"), load_model(tmp_path / "four.npz")
    # the 2-epoch plan had decayed to a rate of 0; the resumed run follows a 4-epoch cosine and still learns
    assert not np.array_equal(two.network.flat_params, four.network.flat_params)
    assert four.info["resumed"] == [{"epoch": 2, "changed": {"epochs": [2, 4]}}]


def test_resume_refuses_changed_data(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,label", comments="")
    common = ["train", "--dataset", str(data), "--hidden", "4", "--no-report", "--no-progress"]
    folder = tmp_path / "ck"
    assert main([*common, "--epochs", "1", "--checkpoint", str(folder), "-o", str(tmp_path / "a.npz")]) == 0
    X[:, 1] += 1.0
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,d,label", comments="")
    code, _, err = run(
        capsys, *common, "--epochs", "2", "--resume", str(folder), "-o", str(tmp_path / "b.npz")
    )
    assert code == 2 and "test rows" in err and "differ" in err
