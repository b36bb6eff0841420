"""safetensors files: round trips, the reference library reading and writing them, and every corrupt file."""

import json
import struct

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.files.safetensors import MAX_HEADER_BYTES, load_safetensors, save_safetensors
from glassnet.io import ModelFileError, load_model, save_model
from glassnet.network import build_mlp

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 4)).astype(np.float32)


def net(**kwargs):
    return build_mlp([4, 8, 3], seed=0, **kwargs)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.safetensors"
    save_safetensors(path, net(), classes=["a", "b", "c"], preprocessing={"scale": 2.0}, info={"epochs": 3})
    return path


def split(path):
    """(header dict, data bytes) of a safetensors file."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def join(path, header, data, length=None):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)


def edit_metadata(path, change):
    header, data = split(path)
    metadata = json.loads(header["__metadata__"]["glassnet"])
    change(metadata)
    header["__metadata__"]["glassnet"] = json.dumps(metadata)
    join(path, header, data)


# --- round trips ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"batch_norm": True, "dtype": np.float64}])
def test_round_trip_is_exact(tmp_path, kwargs):
    network = net(**kwargs)
    if kwargs:  # running statistics (float64 buffers) travel too
        network.train()
        network.forward(X.astype(np.float64))
    path = save_safetensors(tmp_path / "m.safetensors", network, classes=[0, 1, 2], info={"note": "x"})
    loaded = load_safetensors(path)
    for name, value in network.state_dict().items():
        np.testing.assert_array_equal(loaded.network.state_dict()[name], value)
        assert loaded.network.state_dict()[name].dtype == value.dtype
    np.testing.assert_array_equal(loaded.network.predict_proba(X), network.predict_proba(X))
    assert loaded.classes == [0, 1, 2] and loaded.info == {"note": "x"}
    assert not loaded.network.training


def test_an_estimator_and_a_model_file_keep_their_classes(tmp_path):
    from glassnet.estimators import MLPClassifier

    y = np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)]
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0, solver="lbfgs").fit(X, y)
    loaded = load_safetensors(save_safetensors(tmp_path / "clf.safetensors", clf))
    assert loaded.classes == ["no", "yes"]
    np.testing.assert_array_equal(loaded.network.predict_proba(X), clf.network_.predict_proba(X))
    model_file = save_model(
        tmp_path / "m.npz", net(), preprocessing={"scale": 255.0}, classes=["a", "b", "c"]
    )
    again = load_safetensors(save_safetensors(tmp_path / "m.safetensors", load_model(model_file)))
    assert again.preprocessing == {"scale": 255.0} and again.class_names == ["a", "b", "c"]


def test_glassnet_export_format_safetensors(tmp_path, capsys):
    network = net()
    save_model(tmp_path / "m.npz", network, classes=["a", "b", "c"], preprocessing={"scale": 255.0})
    out = tmp_path / "out" / "m.safetensors"
    assert main(["export", str(tmp_path / "m.npz"), "--format", "safetensors", "-o", str(out)]) == 0
    assert "safetensors, 4 tensors" in capsys.readouterr().out
    loaded = load_safetensors(out)
    np.testing.assert_array_equal(loaded.network.predict_proba(X), network.predict_proba(X))
    assert loaded.preprocessing == {"scale": 255.0}
    code = main(
        ["export", str(tmp_path / "m.npz"), "--format", "safetensors", "--opset", "17", "-o", str(out)]
    )
    assert code != 0 and "ONNX option" in capsys.readouterr().err


def test_the_safetensors_library_reads_glassnets_files_and_glassnet_reads_its(saved, tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    tensors = st.load_file(str(saved))
    expected = net().state_dict()
    assert set(tensors) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(tensors[name], value)
    with safe_open(str(saved), "np") as f:
        metadata = f.metadata()
    assert json.loads(metadata["glassnet"])["architecture"] == net().get_config()
    # the library's own writer (its order and padding), with glassnet's metadata: glassnet reads it
    theirs = tmp_path / "theirs.safetensors"
    st.save_file({k: v[...] for k, v in tensors.items()}, str(theirs), metadata=metadata)
    np.testing.assert_array_equal(load_safetensors(theirs).network.predict_proba(X), net().predict_proba(X))


def test_saving_refuses_what_could_not_be_read_back(tmp_path):
    with pytest.raises(TypeError, match="takes a glassnet Sequential"):
        save_safetensors(tmp_path / "m.safetensors", {"layers.0.W": np.zeros(3)})
    with pytest.raises(ValueError, match="preprocessing.scale"):
        save_safetensors(tmp_path / "m.safetensors", net(), preprocessing={"scale": -1.0})
    with pytest.raises(ValueError, match="classes"):
        save_safetensors(tmp_path / "m.safetensors", net(), classes=list(range(10)))
    assert not (tmp_path / "m.safetensors").exists()  # nothing half-written


# --- corrupt files: every one a ModelFileError naming the problem --------------------------------------------


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_safetensors(tmp_path / "nothing.safetensors")
    with pytest.raises(ModelFileError, match="folder"):
        load_safetensors(tmp_path)


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -1])
def test_truncated_files(saved, keep):
    raw = saved.read_bytes()
    saved.write_bytes(raw[:keep] if keep >= 0 else raw[:-1])
    with pytest.raises(ModelFileError, match="truncated"):
        load_safetensors(saved)


def test_header_length_larger_than_the_file_or_the_limit(saved):
    header, data = split(saved)
    join(saved, header, data, length=len(json.dumps(header)) + len(data) + 1)
    with pytest.raises(ModelFileError, match="truncated or corrupt: its header length"):
        load_safetensors(saved)
    for length in (MAX_HEADER_BYTES + 1, 2**64 - 1):  # nothing of that size is allocated
        join(saved, header, data, length=length)
        with pytest.raises(ModelFileError, match=f"more than the {MAX_HEADER_BYTES}"):
            load_safetensors(saved)


def test_other_files_are_named(tmp_path):
    png = tmp_path / "picture.safetensors"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ModelFileError, match="looks like a PNG image"):
        load_safetensors(png)
    model_file = save_model(tmp_path / "m.npz", net())
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        load_safetensors(model_file)


@pytest.mark.parametrize(
    "text, message",
    [(b'{"a": ', "not valid JSON"), (b"[1, 2]", "not a safetensors file"), (b'"text"', "not a safetensors"),
     (b"{\xff}", "not valid JSON"), (b'{"a": 1, "a": 2}', "twice"), (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply")],
)  # fmt: skip
def test_bad_json_headers(tmp_path, text, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    with pytest.raises(ModelFileError, match=message):
        load_safetensors(path)


def test_a_plain_safetensors_file_has_no_architecture(saved):
    header, data = split(saved)
    del header["__metadata__"]
    join(saved, header, data)
    with pytest.raises(ModelFileError, match="without glassnet's metadata"):
        load_safetensors(saved)
    header["__metadata__"] = {"glassnet": 5}
    join(saved, header, data)
    with pytest.raises(ModelFileError, match="object of strings"):
        load_safetensors(saved)


def tensor_edit(name, **fields):
    def edit(header):
        header[name].update(fields)
        return header

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (tensor_edit("layers.0.W", data_offsets=[0, 10**12]), "lies at bytes"),
        (tensor_edit("layers.0.W", data_offsets=[-4, 124]), "lies at bytes"),
        (tensor_edit("layers.0.W", data_offsets=[0]), "data_offsets"),
        (tensor_edit("layers.0.W", data_offsets=[0, "128"]), "data_offsets"),
        (tensor_edit("layers.0.W", shape=[2**40, 2**40]), "bytes of data"),  # huge: refused, not allocated
        (tensor_edit("layers.0.W", shape=[8, -4]), "invalid shape"),
        (tensor_edit("layers.0.W", shape=[1] * 40), "invalid shape"),
        (tensor_edit("layers.0.W", dtype="F64"), "bytes of data"),
        (tensor_edit("layers.0.W", dtype="BF16"), "unsupported dtype"),
        (tensor_edit("layers.0.W", dtype="I32"), "architecture declares"),  # same size, other dtype
        (tensor_edit("layers.0.W", shape=[4, 8]), "architecture declares"),  # same size, other shape
        (tensor_edit("layers.0.W", extra=1), "exactly dtype, shape and data_offsets"),
        (lambda h: {**h, "layers.9.W": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}, "unexpected"),
        (lambda h: {k: v for k, v in h.items() if k != "layers.2.b"}, "bytes after the last tensor"),
    ],
)
def test_corrupt_tensor_tables(saved, edit, message):
    header, data = split(saved)
    join(saved, edit(header), data)
    with pytest.raises(ModelFileError, match=message):
        load_safetensors(saved)


def test_gaps_and_overlaps_are_refused(saved):
    header, data = split(saved)
    first = min(header[k]["data_offsets"][0] for k in header if k != "__metadata__")
    b = header["layers.0.b"]["data_offsets"]
    header["layers.0.b"]["data_offsets"] = [b[0] - 4, b[1] - 4]  # overlaps the tensor before it
    join(saved, header, data)
    with pytest.raises(ModelFileError, match="without gaps or overlaps"):
        load_safetensors(saved)
    assert first == 0


def test_a_changed_weight_or_metadata_fails_its_checksum(saved):
    raw = bytearray(saved.read_bytes())
    raw[-1] ^= 0x01
    saved.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="checksum of tensor 'layers.2.b'"):
        load_safetensors(saved)


def test_metadata_is_validated_like_a_model_files(saved):
    edit_metadata(saved, lambda m: m["preprocessing"].update(scale=5.0))
    with pytest.raises(ModelFileError, match="checksum of its metadata"):
        load_safetensors(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["architecture"]["layers"].__setitem__(0, {"type": "os.system"}), "architecture.layers"),
        (lambda m: m.update(format_version=99), "newer glassnet"),
        (lambda m: m.update(format="something-else"), "does not hold a glassnet model"),
        (lambda m: m["architecture"]["layers"][0].update(out_features=16), "Dense"),
    ],
)
def test_crafted_metadata_with_a_matching_checksum_is_still_refused(saved, change, message):
    from glassnet.files import model as files_model

    def craft(metadata):
        change(metadata)
        metadata["checksums"]["__glassnet__"] = files_model._metadata_digest(metadata)

    edit_metadata(saved, craft)
    with pytest.raises(ModelFileError, match=message):
        load_safetensors(saved)


def test_max_bytes_bounds_the_tensors(saved):
    with pytest.raises(ModelFileError, match="more than 100 bytes of tensors"):
        load_safetensors(saved, max_bytes=100)
