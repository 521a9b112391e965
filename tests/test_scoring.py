"""gan_demo.metrics.scoring: every metric at once, and the report, with a cheap Inception."""

import os

import numpy as np
import pytest
from PIL import Image

from gan_demo.metrics import distances, inception, scoring
from tests.metric_inputs import cheap_features, smooth_images


def test_evaluate_pixels_without_fid_reports_swd_and_memorisation(tmp_path):
    real, fakes = smooth_images(120, seed=7), smooth_images(40, seed=8)
    pairs = tmp_path / "pairs.png"
    result = scoring.evaluate_pixels(fakes, real, fid=False, seed=3, pairs_path=pairs)
    assert list(result) == ["count", "real_count", "fid", "kid", "kid_std", "swd", "swd_32",
                            "swd_16", "nearest_median", "real_nearest_median",
                            "memorised_fraction", "memorised_threshold", "pairs"]
    assert result["count"] == 40 and result["real_count"] == 120
    assert result["fid"] is result["kid"] is result["kid_std"] is None
    assert result["swd"] == pytest.approx((result["swd_32"] + result["swd_16"]) / 2)
    assert result["pairs"] == str(pairs) and os.listdir(tmp_path) == ["pairs.png"]
    with Image.open(pairs) as picture:
        assert picture.size == (1024, 512)
    again = scoring.evaluate_pixels(fakes, real, fid=False, seed=3)
    assert again == {key: value for key, value in result.items() if key != "pairs"}
    assert scoring.evaluate_pixels(fakes, real, fid=False, seed=4)["swd"] != result["swd"]


def test_evaluate_pixels_with_fid_scores_the_features(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(inception, "require_fid", lambda: None)
    monkeypatch.setattr(inception, "inception_features", cheap_features)
    real = smooth_images(60, seed=9)
    fakes = np.random.default_rng(10).integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    result = scoring.evaluate_pixels(fakes, real, seed=1)
    assert result["fid"] == distances.frechet_distance(cheap_features(fakes),
                                                       cheap_features(real))
    kid_rng = np.random.default_rng(1).spawn(3)[0]
    assert (result["kid"], result["kid_std"]) == distances.kernel_inception_distance(
        cheap_features(fakes), cheap_features(real), kid_rng)
    assert result["fid"] > 0 and result["kid"] > 0
    assert len(os.listdir(tmp_path / "cache")) == 1  # the real frogs' features, cached


def test_evaluate_pixels_refuses_images_it_cannot_compare():
    with pytest.raises(ValueError, match=r"fake pixels must be uint8 images \(n, h, w, 3\) with "
                                         r"n >= 2, got float64 \(3, 32, 32, 3\)"):
        scoring.evaluate_pixels(np.zeros((3, 32, 32, 3)), smooth_images(3, 0), fid=False)
    with pytest.raises(ValueError, match=r"fakes of \(16, 16, 3\) and real images of "
                                         r"\(32, 32, 3\) cannot be compared"):
        scoring.evaluate_pixels(smooth_images(3, 0, size=16), smooth_images(3, 0), fid=False)


def test_the_report_has_one_line_per_metric():
    result = {"count": 5000, "real_count": 5000, "fid": 34.5678, "kid": 0.0234567,
              "kid_std": 0.00123456, "swd": 12.345, "swd_32": 10.0, "swd_16": 14.69,
              "nearest_median": 5.4321, "real_nearest_median": 4.98765,
              "memorised_fraction": 0.0024, "memorised_threshold": 2.3456,
              "pairs": "images/closest_pairs.png"}
    assert scoring.report_lines(result) == [
        "FID: 34.57",
        "KID: 0.02346 \u00b1 0.00123",
        "SWD: 12.35 (x1e3; per level 32px 10.00, 16px 14.69)",
        "Nearest training picture (pixel L2): median 5.432 for the fakes, 4.988 for held-out "
        "real pictures",
        "Memorised: 0.2% of the fakes look copied: closer to a training picture than 99% of "
        "held-out real pictures are to another (L2 < 2.346), and far closer to it than to the "
        "average picture",
        "Closest pairs (each fake beside its nearest training picture): "
        "images/closest_pairs.png",
    ]
    without = dict(result, fid=None, kid=None, kid_std=None)
    del without["pairs"]
    assert scoring.report_lines(without) == scoring.report_lines(result)[2:5]
