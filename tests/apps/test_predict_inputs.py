"""`glassnet predict` and `evaluate` on odd inputs: wrong files, bad rows, odd pictures (clear messages)."""

import tracemalloc
import warnings

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.data.errors import DataError
from glassnet.io import save_model
from glassnet.network import build_mlp

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

PRE = {"dataset": "digits", "n_features": 64, "image_shape": [8, 8], "scale": 16.0, "light_on_dark": True,
       "fit": "bbox", "box": 8}  # fmt: skip


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def model(tmp_path):
    net = build_mlp([64, 10], seed=0)
    return save_model(tmp_path / "model.npz", net, preprocessing=PRE, classes=list(range(10)))


# --- issue 11 item 9: a file that is not a model ----------------------------------------------------------------


def test_swapped_predict_arguments(capsys, tmp_path, model):
    Image.new("L", (20, 20), 255).save(tmp_path / "img.jpg")
    code, _, err = run(capsys, "predict", str(tmp_path / "img.jpg"), str(model))
    assert code == 1 and err.count("\n") == 1
    assert "img.jpg is not a glassnet model file (it looks like a JPEG image)" in err
    assert "expected a .npz model file" in err and "MODEL, the first argument" in err
    assert "did you swap the model and the inputs?" in err
    assert "pickle" not in err


def test_evaluate_a_text_file(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("shopping: milk, bread\n")
    code, _, err = run(capsys, "evaluate", str(tmp_path / "notes.txt"))
    assert code == 1 and err.count("\n") == 1
    assert "notes.txt is not a glassnet model file (it looks like a text file)" in err
    assert "expected a .npz model file" in err and "the MODEL argument" in err
    assert "pickle" not in err


def test_missing_model_names_the_argument(capsys, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(64))
    code, _, err = run(capsys, "predict", str(tmp_path / "nope.npz"), str(tmp_path / "x.npy"))
    assert code == 1 and "model file not found" in err and "MODEL, the first argument" in err


# --- prediction CSV files ----------------------------------------------------------------------------------------


def test_ragged_csv_names_the_line(capsys, tmp_path, model):
    rows = [",".join(["1"] * 64)] * 2 + [",".join(["1"] * 63)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "r.csv"))
    assert code == 1 and "r.csv: line 3 has 63 values, the model expects 64" in err


def test_bad_csv_value_names_line_column_and_value_only(capsys, tmp_path, model):
    row = ["2"] * 64
    row[5] = "seven"
    (tmp_path / "b.csv").write_text(",".join(["1"] * 64) + "\n" + ",".join(row) + "\n")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "b.csv"))
    assert code == 1 and "b.csv: line 2, column 6: 'seven' is not a number" in err
    assert "'2', '2'" not in err and err.count("2") < 10  # not the whole row


def test_empty_csv(capsys, tmp_path, model):
    (tmp_path / "e.csv").write_text("")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "e.csv"))
    assert code == 1 and "e.csv has no rows of numbers" in err
    (tmp_path / "h.csv").write_text("a,b,c\n")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "h.csv"))
    assert code == 1 and "h.csv has no rows of numbers" in err


def test_csv_with_header_still_works(capsys, tmp_path, model):
    header = ",".join(f"p{i}" for i in range(64))
    (tmp_path / "ok.csv").write_text(header + "\n" + ",".join(["3"] * 64) + "\n")
    code, out, err = run(capsys, "predict", str(model), str(tmp_path / "ok.csv"))
    assert code == 0, err
    assert out.count("\n") == 1


# --- .npy inputs (issue 15 item 13) ------------------------------------------------------------------------------


def test_zero_d_npy(capsys, tmp_path, model):
    np.save(tmp_path / "s.npy", np.float64(3.0))
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "s.npy"))
    assert code == 1 and "s.npy holds a single number (a 0-d array)" in err
    assert "unsized" not in err


def test_npz_renamed_npy(capsys, tmp_path, model):
    np.savez(tmp_path / "a.npz", X=np.zeros((2, 64)))
    (tmp_path / "a.npz").rename(tmp_path / "a.npy")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "a.npy"))
    assert code == 1 and "a.npy is a .npz archive (several named arrays), not one .npy array" in err
    assert "NpzFile" not in err


def test_empty_and_pickled_and_foreign_npy(capsys, tmp_path, model):
    np.save(tmp_path / "e.npy", np.zeros((0, 64)))
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "e.npy"))
    assert code == 1 and "e.npy holds no values" in err
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "o.npy"))
    assert code == 1 and "o.npy holds Python objects" in err
    (tmp_path / "t.npy").write_text("1,2,3\n")
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "t.npy"))
    assert code == 1 and "t.npy is not a .npy array file (it looks like a text file)" in err


def test_hidden_layer_sizes_iterator():
    from glassnet import MLPClassifier

    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter of MLPClassifier must be .* Got <"):
        MLPClassifier(hidden_layer_sizes=iter([50]), max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        MLPClassifier(hidden_layer_sizes=[5], max_iter=2).fit(X, y)  # a list still works


# --- pictures (issue 15 item 12) ---------------------------------------------------------------------------------


def _bar_picture(width=40, height=20):
    """Dark paper with a bright block in the top-left corner: every rotation is different."""
    a = np.zeros((height, width), np.uint8)
    a[1:7, 1:10] = 255
    return a


def test_exif_orientation_is_honoured(tmp_path):
    from glassnet.data.images import load_image

    a = _bar_picture()
    image = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: shown rotated 90 degrees clockwise
    image.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    grey = load_image(tmp_path / "rot.jpg")
    upright = np.rot90(a, k=-1) / 255.0  # what a viewer shows
    assert grey.shape == upright.shape == (40, 20)
    assert np.abs(grey - upright).mean() < 0.05


def test_float_tiff_in_0_1_is_not_clipped_to_black(tmp_path):
    from glassnet.data.images import load_image

    a = np.linspace(0.0, 1.0, 30 * 20, dtype=np.float32).reshape(20, 30)
    Image.fromarray(a, mode="F").save(tmp_path / "f.tif")
    grey = load_image(tmp_path / "f.tif")
    np.testing.assert_allclose(grey, a, atol=1e-6)


def test_16_bit_png_is_scaled(tmp_path):
    from glassnet.data.images import load_image

    a = (np.arange(200, dtype=np.uint16).reshape(10, 20) * 300).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "i16.png")
    grey = load_image(tmp_path / "i16.png")
    assert grey.shape == (10, 20) and 0 <= grey.min() and grey.max() <= 1
    np.testing.assert_allclose(grey, a / 65535.0, atol=1e-6)


def test_multi_frame_gif_says_only_the_first_frame_is_used(tmp_path):
    from glassnet.data.images import load_image

    frames = [Image.fromarray(_bar_picture()), Image.fromarray(255 - _bar_picture())]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match=r"a.gif has 2 frames .* only the first is used"):
        grey = load_image(tmp_path / "a.gif")
    assert grey[3, 3] > 0.9 and grey[15, 30] < 0.1  # the first frame


def test_large_picture_is_reduced_while_decoding(tmp_path):
    from glassnet.data.images import MAX_SIDE, image_to_row, load_image

    a = np.zeros((4000, 4000), np.uint8)
    a[1000:3000, 1800:2200] = 255  # a "1"
    Image.fromarray(a).save(tmp_path / "big.png")
    tracemalloc.start()
    try:
        grey = load_image(tmp_path / "big.png")
        row = image_to_row(grey, PRE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert max(grey.shape) <= MAX_SIDE and row.shape == (64,)
    assert peak < 64 << 20  # the whole picture as float64 would be 128 MB


def _png_header_only(width, height):
    """A PNG that declares width x height pixels but holds almost none (a few hundred bytes)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)  # a sliver of the pixels: the header alone says the size
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [12000, 20000])  # above glassnet's limit; above PIL's own bomb limit
def test_huge_picture_is_refused_clearly(tmp_path, side):
    from glassnet.data.images import load_image

    (tmp_path / "huge.png").write_bytes(_png_header_only(side, side))
    with pytest.raises(
        DataError, match=r"huge.png: it is .*megapixels, more than the 100 megapixels glassnet"
    ):
        load_image(tmp_path / "huge.png")


def test_huge_picture_in_predict_is_one_clear_line(capsys, tmp_path, model):
    (tmp_path / "huge.png").write_bytes(_png_header_only(20000, 20000))
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "huge.png"))
    assert code == 1 and err.count("\n") == 1 and "more than the 100 megapixels" in err
    assert "DecompressionBomb" not in err and "unexpected" not in err


def test_image_to_row_refuses_a_box_larger_than_the_image():
    from glassnet.data.images import image_to_row

    grey = np.ones((20, 20))
    grey[5:15, 8:12] = 0.0
    with pytest.raises(ValueError, match=r"box must be in \[1, 8\] .* got 30000"):
        image_to_row(grey, PRE | {"box": 30000})


def test_predict_gif_notes_the_first_frame_in_one_line(capsys, tmp_path, model):
    frames = [Image.fromarray(_bar_picture()), Image.fromarray(255 - _bar_picture())]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    code, out, err = run(capsys, "predict", str(model), str(tmp_path / "a.gif"))
    assert code == 0 and out.count("\n") == 1
    assert (
        err
        == f"glassnet: note: {tmp_path / 'a.gif'} has 2 frames (an animation or a multi-page file); only the first is used\n"
    )
