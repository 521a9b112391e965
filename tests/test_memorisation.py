"""gan_demo.metrics.memorisation: nearest training frogs, likely copies and the closest pairs."""

import numpy as np

from gan_demo.metrics import memorisation
from kerasutil import DataUtil
from kerasutil.gan import to_pixels


def test_nearest_distances_are_exact_and_leave_one_out_skips_the_query_itself():
    rng = np.random.default_rng(3)
    references = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    queries = rng.integers(0, 256, (9, 4, 4, 3), dtype=np.uint8)
    queries[2] = references[17]  # an exact copy
    distances, indices = memorisation.nearest_distances(queries, references)
    brute = np.linalg.norm(queries.reshape(9, 1, -1) / 255.0
                           - references.reshape(1, 40, -1) / 255.0, axis=2)
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    np.testing.assert_allclose(distances, brute.min(axis=1), rtol=1e-12)
    assert distances[2] == 0 and indices[2] == 17
    chosen = np.array([17, 3, 5])
    distances, indices = memorisation.nearest_distances(references[chosen], references,
                                                        exclude=chosen)
    brute = np.linalg.norm(references[chosen].reshape(3, 1, -1) / 255.0
                           - references.reshape(1, 40, -1) / 255.0, axis=2)
    brute[np.arange(3), chosen] = np.inf
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    assert np.all(distances > 0)


def test_nearest_distances_work_in_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    references = rng.integers(0, 256, (30, 4, 4, 3), dtype=np.uint8)
    queries = rng.integers(0, 256, (25, 4, 4, 3), dtype=np.uint8)
    whole = memorisation.nearest_distances(queries, references, exclude=np.arange(25))
    monkeypatch.setattr(memorisation, "CHUNK", 7)
    chunked = memorisation.nearest_distances(queries, references, exclude=np.arange(25))
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0], chunked[0])


def test_a_generator_that_copies_real_frogs_is_flagged_and_noise_is_not(real_frog_zip):
    real = to_pixels(DataUtil.load_frog_pictures(real_frog_zip))
    rng = np.random.default_rng(5)
    copies = real[rng.choice(len(real), 200, replace=False)].astype(int)
    copies = np.clip(copies + rng.integers(-2, 3, copies.shape), 0, 255).astype(np.uint8)
    check = memorisation.memorisation(copies, real, np.random.default_rng(0))
    assert check["fraction"] == 1.0
    assert check["fake_median"] < 0.1 * check["real_median"]
    noise = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    check = memorisation.memorisation(noise, real, np.random.default_rng(0))
    assert check["fraction"] == 0.0
    assert check["fake_median"] > check["real_median"]
    assert len(check["real_distances"]) == 500 and check["threshold"] > 1


def test_flat_average_coloured_fakes_are_not_called_copies(real_frog_zip):
    # what an early generator draws: near many low-contrast frogs, but near the average too
    real = to_pixels(DataUtil.load_frog_pictures(real_frog_zip))
    average = real.reshape(len(real), -1).mean(axis=0).reshape(32, 32, 3)
    rng = np.random.default_rng(7)
    flat = np.clip(average + rng.normal(0, 2, (100, 32, 32, 3)), 0, 255).astype(np.uint8)
    check = memorisation.memorisation(flat, real, np.random.default_rng(0))
    assert check["fake_median"] < check["threshold"]  # closer than real frogs come...
    assert check["fraction"] == 0.0                   # ...yet no copy of any one frog


def test_the_closest_pairs_picture_shows_each_nearest_fake_beside_its_frog():
    rng = np.random.default_rng(6)
    real = rng.integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    fakes = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    fakes[7] = real[31]  # the closest pair
    check = memorisation.memorisation(fakes, real, np.random.default_rng(0), held_out=10)
    picture = np.asarray(memorisation.closest_pairs_picture(fakes, real, check))
    assert picture.shape == (4 * 128, 8 * 128, 3)  # 16 pairs, 4 to a row
    first_fake, first_frog = picture[:128, :128], picture[:128, 128:256]
    np.testing.assert_array_equal(first_fake, fakes[7].repeat(4, 0).repeat(4, 1))
    np.testing.assert_array_equal(first_frog, real[31].repeat(4, 0).repeat(4, 1))
    order = np.argsort(check["fake_distances"])
    second = order[1]
    np.testing.assert_array_equal(picture[:128, 256:384], fakes[second].repeat(4, 0).repeat(4, 1))
    np.testing.assert_array_equal(
        picture[:128, 384:512], real[check["fake_nearest"][second]].repeat(4, 0).repeat(4, 1))
