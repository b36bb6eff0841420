"""Hostile model files: crafted metadata and arrays end in ModelFileError, fast and with little memory."""

import io as _io
import json
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from glassnet.files import model as io
from glassnet.io import ModelFileError, load_estimator, load_model, save_estimator, save_model
from glassnet.network import build_mlp

PRE = {"dataset": "digits", "n_features": 64, "image_shape": [8, 8], "scale": 16.0, "light_on_dark": True,
       "fit": "bbox", "box": 8}  # fmt: skip


@pytest.fixture
def saved(tmp_path):
    net = build_mlp([64, 12, 10], activation="relu", seed=0)
    return save_model(tmp_path / "m.npz", net, preprocessing=PRE, classes=list(range(10)), info={"a": 1})


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _npy(array) -> bytes:
    buf = _io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _meta(members) -> dict:
    return json.loads(np.load(_io.BytesIO(members["__glassnet__.npy"])).tobytes())


def _write(path, members: dict[str, bytes], meta: dict | None = None, fix_checksum=True, compress=None):
    members = dict(members)
    if meta is not None:
        if fix_checksum and isinstance(meta, dict) and isinstance(meta.get("checksums"), dict):
            meta["checksums"]["__glassnet__"] = io._metadata_digest(meta)
        text = json.dumps(meta).encode()
        members["__glassnet__.npy"] = _npy(np.frombuffer(text, dtype=np.uint8))
    with zipfile.ZipFile(path, "w", compress or zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _rewrite(path, change, fix_checksum=True):
    members = _members(path)
    meta = _meta(members)
    meta = change(meta) or meta
    return _write(path, members, meta, fix_checksum)


class _Refuse:
    """Make np.zeros/np.empty/np.ones refuse anything over ``limit`` bytes (an allocation a test forbids)."""

    def __init__(self, monkeypatch, limit=16 << 20):
        for name in ("zeros", "empty", "ones"):
            real = getattr(np, name)
            monkeypatch.setattr(np, name, self._guard(real, limit))

    @staticmethod
    def _guard(real, limit):
        def guarded(shape, dtype=float, *args, **kwargs):
            size = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
            if size > limit:
                raise AssertionError(f"allocation of {size} bytes before the file was checked")
            return real(shape, dtype, *args, **kwargs)

        return guarded


# --- item 4: the declared architecture is checked before anything is allocated --------------------------------


def test_huge_declared_architecture_fails_fast_without_allocating(saved, monkeypatch):
    def grow(meta):
        meta["architecture"]["layers"][0].update(in_features=16000, out_features=16000)
        meta["architecture"]["layers"][2].update(in_features=16000)
        meta["preprocessing"] = {}

    _rewrite(saved, grow)
    assert saved.stat().st_size < 20_000
    _Refuse(monkeypatch)
    tracemalloc.start()
    try:
        with pytest.raises(
            ModelFileError, match=r"'layers.0.W' is stored with shape \(12, 64\).*\(16000, 16000\)"
        ):
            load_model(saved)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_inconsistent_layer_widths_are_refused(saved):
    _rewrite(saved, lambda m: m["architecture"]["layers"][2].update(in_features=13))
    with pytest.raises(
        ModelFileError, match=r"layers\[2\] is Dense\(13, 10\) but the layer before it has 12"
    ):
        load_model(saved)


def test_header_matching_a_huge_architecture_but_no_data(saved, monkeypatch):
    # the metadata and the header agree on Dense(16000, 16000), but the file holds a few bytes of it
    members = _members(saved)
    meta = _meta(members)
    meta["architecture"]["layers"] = [{"type": "Dense", "in_features": 16000, "out_features": 16000}]
    meta["preprocessing"] = {}
    fake = _io.BytesIO()
    np.lib.format.write_array_header_1_0(
        fake, {"descr": "<f4", "fortran_order": False, "shape": (16000, 16000)}
    )
    members = {"__glassnet__.npy": members["__glassnet__.npy"], "layers.0.W.npy": fake.getvalue() + b"\0" * 64,
               "layers.0.b.npy": _npy(np.zeros(16000, np.float32))}  # fmt: skip
    digest = "0" * 64
    meta["checksums"] = {"layers.0.W": digest, "layers.0.b": digest}
    _write(saved, members, meta)
    _Refuse(monkeypatch)
    with pytest.raises(ModelFileError, match="truncated or corrupt: array 'layers.0.W' is shorter"):
        load_model(saved)


# --- item 5: only named members are read, headers first, the total bounded -----------------------------------


def test_extra_member_is_refused_without_being_read(saved, monkeypatch):
    members = _members(saved)
    members["junk.npy"] = b"\0" * (32 << 20)  # deflates to a few KB
    _write(saved, members, compress=zipfile.ZIP_DEFLATED)
    assert saved.stat().st_size < 1 << 20
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(ModelFileError, match=r"entries \['junk'\] are not listed in the metadata"):
        load_model(saved)
    assert "junk.npy" not in opened


def test_header_declaring_2_to_the_40_elements(saved, monkeypatch):
    members = _members(saved)
    fake = _io.BytesIO()
    np.lib.format.write_array_header_1_0(fake, {"descr": "<f4", "fortran_order": False, "shape": (2**40,)})
    members["layers.0.b.npy"] = fake.getvalue()
    _write(saved, members)
    _Refuse(monkeypatch)
    with pytest.raises(ModelFileError, match=r"'layers.0.b' is stored with shape \(1099511627776,\)"):
        load_model(saved)


def test_estimator_array_attribute_is_bounded(tmp_path, monkeypatch):
    path = save_estimator(tmp_path / "e.npz", _fitted_classifier())
    members = _members(path)
    fake = _io.BytesIO()
    np.lib.format.write_array_header_1_0(fake, {"descr": "<i8", "fortran_order": False, "shape": (2**40,)})
    members["estimator/classes_.npy"] = fake.getvalue()
    _write(path, members)
    _Refuse(monkeypatch)
    with pytest.raises(ModelFileError, match="more than 1073741824 bytes of arrays"):
        load_estimator(path)


def test_max_bytes_bounds_the_total(saved):
    with pytest.raises(ModelFileError, match="more than 1000 bytes of arrays .*max_bytes="):
        load_model(saved, max_bytes=1000)
    assert load_model(saved, max_bytes=1 << 20).network.n_features_in == 64


def test_object_array_header_is_refused(saved):
    members = _members(saved)
    fake = _io.BytesIO()
    np.lib.format.write_array_header_1_0(fake, {"descr": "|O", "fortran_order": False, "shape": (12,)})
    members["layers.0.b.npy"] = fake.getvalue() + b"\x80\x04N."
    _write(saved, members)
    with pytest.raises(ModelFileError, match="holds object data"):
        load_model(saved)


# --- item 6: all metadata checksummed and validated ------------------------------------------------------------


def test_huge_box_is_refused(saved):
    _rewrite(saved, lambda m: m["preprocessing"].update(box=30000))
    with pytest.raises(ModelFileError, match=r"preprocessing.box must be an integer in \[0, 8\], got 30000"):
        load_model(saved)


def test_metadata_change_breaks_the_checksum(saved):
    _rewrite(saved, lambda m: m["preprocessing"].update(scale=1.0), fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum of its metadata does not match"):
        load_model(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda m: m["preprocessing"].update(image_shape=[4096, 4096]),
            r"image_shape .* has 16777216 pixels",
        ),
        (
            lambda m: m["preprocessing"].update(scale=-1.0),
            r"preprocessing.scale must be a finite number in \[1e-300, 1e\+300\].* got -1.0",
        ),
        (lambda m: m["preprocessing"].update(scale="16"), "preprocessing.scale must be a finite number"),
        (lambda m: m["preprocessing"].update(fit="crop"), "preprocessing.fit must be one of"),
        (lambda m: m["preprocessing"].update(light_on_dark=1), "light_on_dark must be true or false"),
        (lambda m: m["preprocessing"].update(n_features=65), "n_features is 65 but the network takes 64"),
        (lambda m: m.update(classes=list(range(11))), "classes lists 11 classes but the network has 10"),
        (lambda m: m.update(class_names=["a"]), "class_names has 1 names for 10 classes"),
        (lambda m: m.update(info=[1]), "info must be a JSON object"),
        (lambda m: m["architecture"].update(dtype="float16"), "architecture.dtype must be one of"),
        (lambda m: m["architecture"]["loss"].update(label_smoothing=2.0), "not a valid softmax"),
        (lambda m: m["architecture"]["layers"][1].update(rate=0.5), "not a valid ReLU layer"),
        (lambda m: m["architecture"]["layers"][0].update(in_features=True), "in_features must be an integer"),
        (lambda m: m.update(kind="script"), "kind must be one of"),
        (lambda m: m["checksums"].update({"layers.0.W": 5}), "checksums.layers.0.W must be a SHA-256"),
    ],
)
def test_every_field_is_validated(saved, change, message):
    _rewrite(saved, change)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def test_version_1_files_load_without_a_metadata_checksum(saved):
    def to_v1(meta):
        meta["format_version"] = 1
        del meta["checksums"]["__glassnet__"]

    _rewrite(saved, to_v1, fix_checksum=False)
    assert load_model(saved).preprocessing == PRE
    _rewrite(saved, lambda m: m["preprocessing"].update(box=30000), fix_checksum=False)
    with pytest.raises(ModelFileError, match="preprocessing.box"):
        load_model(saved)


# --- item 7: malformed metadata of any shape ends in ModelFileError --------------------------------------------


def _fitted_classifier(**params):
    from glassnet import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        return MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize(
    "meta",
    [[1, 2], "text", 3, None, {"format": "glassnet-model", "format_version": 2, "checksums": [1]}],
)
def test_metadata_that_is_not_an_object(saved, meta):
    members = _members(saved)
    members["__glassnet__.npy"] = _npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    _write(saved, members)
    with pytest.raises(ModelFileError):
        load_model(saved)


def test_deeply_nested_metadata(saved):
    members = _members(saved)
    text = b'{"format": "glassnet-model", "info": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    members["__glassnet__.npy"] = _npy(np.frombuffer(text, dtype=np.uint8))
    _write(saved, members)
    with pytest.raises(ModelFileError, match="corrupt metadata: nested too deeply"):
        load_model(saved)


def test_nesting_below_the_parser_limit_is_bounded_too(tmp_path):
    net = build_mlp([3, 2], seed=0)
    info = []
    for _ in range(200):
        info = [info]
    path = save_model(tmp_path / "m.npz", net, info={"x": info})
    with pytest.raises(ModelFileError, match="nested deeper than 32 levels"):
        load_model(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.update(params=[1]), "estimator.params must be a JSON object"),
        (lambda e: e.update(fitted="x"), "estimator.fitted must be a JSON object"),
        (lambda e: e.update(tuples={"a": 1}), "estimator.tuples must be a list"),
        (lambda e: e.update(tuples=["alpha"]), "names 'alpha', whose value is not a list"),
        (
            lambda e: e["fitted"].update(predict=1),
            "only restore the declared fitted attributes .* not 'predict'",
        ),
        (lambda e: e["fitted"].update(__class__=1), "not '__class__'"),
        (lambda e: e["fitted"].update(n_iter_="5"), "estimator.fitted.n_iter_ must be an integer"),
        (lambda e: e["fitted"].update(loss_curve_=[1, "x"]), r"loss_curve_\[1\] must be a finite number"),
        (lambda e: e["params"].update(alpha="big"), "The 'alpha' parameter of MLPClassifier must be"),
        (
            lambda e: e.update(tuples=[]) or e["params"].update(hidden_layer_sizes={"a": 1}),
            "'hidden_layer_sizes'",
        ),
        (lambda e: e["params"].update(os_system=1), "unknown parameter 'os_system'"),
        (lambda e: e.update({"class": "Popen"}), "estimator.class must be one of"),
        (lambda e: e.update(pairs=["alpha"]), "estimator.params.alpha must be a list"),
    ],
)
def test_estimator_fields_are_validated(tmp_path, change, message):
    path = save_estimator(tmp_path / "e.npz", _fitted_classifier())
    _rewrite(path, lambda m: change(m["estimator"]))
    with pytest.raises(ModelFileError, match=message):
        load_estimator(path)


def test_fitted_may_not_shadow_a_method(tmp_path):
    path = save_estimator(tmp_path / "e.npz", _fitted_classifier())
    _rewrite(path, lambda m: m["estimator"]["fitted"].update(predict=1))
    with pytest.raises(ModelFileError, match="not 'predict'"):
        load_estimator(path)


def test_undeclared_array_attribute_is_refused(tmp_path):
    path = save_estimator(tmp_path / "e.npz", _fitted_classifier())
    members = _members(path)
    members["estimator/predict.npy"] = _npy(np.arange(3))
    meta = _meta(members)
    meta["checksums"]["estimator/predict"] = io._sha256(np.arange(3))
    _write(path, members, meta)
    with pytest.raises(ModelFileError, match="'estimator/predict' is not a declared fitted attribute"):
        load_estimator(path)


def test_every_fitted_attribute_of_the_estimators_is_declared(tmp_path):
    # a new fitted attribute must be declared in glassnet._model_schema to survive a round trip
    from glassnet import MLPRegressor

    X = np.random.default_rng(0).normal(size=(30, 3))
    for est in (
        _fitted_classifier(),
        _fitted_classifier(early_stopping=True, validation_fraction=0.3),
        _fitted_classifier(solver="lbfgs"),
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=3),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(est, MLPRegressor):
                est.fit(X, X[:, 0])
        path = save_estimator(tmp_path / "e.npz", est)
        for name in io.read_metadata(path)["estimator"]["skipped_attributes"]:
            value = getattr(est, name)
            assert not isinstance(value, (int, float, str, list, tuple, np.ndarray, type(None))), name


# the hypothesis test: random JSON at random places of the metadata


def _hypothesis():
    return pytest.importorskip("hypothesis")


def test_random_json_at_random_metadata_paths(tmp_path):
    hypothesis = _hypothesis()
    from hypothesis import strategies as st

    files = {
        "network": save_model(tmp_path / "n.npz", build_mlp([6, 4, 3], seed=0), preprocessing=PRE | {
            "n_features": 6, "image_shape": [2, 3], "box": 2}, classes=[0, 1, 2], info={"k": [1, 2]}),
        "estimator": save_estimator(tmp_path / "e.npz", _fitted_classifier(class_weight={0: 2.0, 1: 1.0})),
    }  # fmt: skip
    originals = {kind: _members(path) for kind, path in files.items()}
    target = tmp_path / "x.npz"
    leaves = (
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
        | st.sampled_from(["Dense", "float32", "MLPClassifier", "predict", "estimator", "network", "bbox"])
    )  # fmt: skip
    json_values = st.recursive(
        leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )  # fmt: skip

    @hypothesis.settings(max_examples=200, deadline=None, database=None)
    @hypothesis.given(data=st.data(), kind=st.sampled_from(sorted(files)), fix=st.booleans())
    def check(data, kind, fix):
        members = originals[kind]
        meta = _meta(members)
        parent, key = None, None
        node = meta
        while isinstance(node, (dict, list)) and node and data.draw(st.integers(0, 3)) > 0:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, data.draw(st.sampled_from(keys))
            node = node[key]
        value = data.draw(json_values)
        if parent is None:
            meta = value
        elif isinstance(parent, dict) and data.draw(st.booleans()):
            parent[data.draw(st.text(max_size=8))] = value  # a new key beside the existing ones
        else:
            parent[key] = value
        _write(target, members, meta, fix_checksum=fix)
        for load in (load_model, load_estimator):
            try:
                load(target)
            except ModelFileError:
                pass

    check()


# --- byte flips and truncations anywhere ---------------------------------------------------------------------


def test_byte_flips_and_truncations_at_every_third_offset(tmp_path):
    net = build_mlp([3, 2], seed=0)
    good = save_model(tmp_path / "good.npz", net, classes=["a", "b"]).read_bytes()
    reference = load_model(tmp_path / "good.npz").network.state_dict()
    bad = tmp_path / "bad.npz"
    for offset in range(0, len(good), 3):  # a third of the offsets, spread over every part
        flipped = bytearray(good)
        flipped[offset] ^= 0xFF
        for data in (bytes(flipped), good[:offset]):
            bad.write_bytes(data)
            try:
                loaded = load_model(bad)
            except ModelFileError:
                continue
            # a flip the format does not care about (a zip timestamp): the weights are still exact
            for name, value in loaded.network.state_dict().items():
                assert value.tobytes() == reference[name].tobytes(), (offset, name)
