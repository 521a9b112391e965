"""Every metric of a set of fakes at once, as one JSON-ready dict, and its plain-text report.

This is what ``python -m gan_demo evaluate`` and ``benchmarks/quality.py`` call: FID and KID
(:mod:`~gan_demo.metrics.distances`, when the ``fid`` extra is installed), SWD
(:mod:`~gan_demo.metrics.swd`) and the memorisation check
(:mod:`~gan_demo.metrics.memorisation`), all seeded, so the same pixels score the same every time.
"""

import numpy as np

from gan_demo.metrics import inception, swd
from gan_demo.metrics.distances import frechet_distance, kernel_inception_distance
from gan_demo.metrics.memorisation import closest_pairs_picture, memorisation
from gan_demo.pictures import save_picture


def evaluate_pixels(fake_pixels, real_pixels, fid=True, seed=0, real_features=None,
                    progress=None, pairs_path=None):
    """Every metric of fakes against real frogs, as one JSON-ready dict.

    Args:
        fake_pixels, real_pixels: uint8 RGB images (n, 32, 32, 3) and (m, 32, 32, 3).
        fid: compute FID and KID (needs the ``fid`` extra); False leaves them None.
        seed: seeds the KID subsets, the SWD patches and directions and the held-out frogs,
            so the same pixels score the same every time.
        real_features: the real frogs' Inception features if known; None reads them from the
            cache (:func:`inception.cached_inception_features`) or computes and caches them.
            The fakes' features are read from the cache where it has them, never stored.
        progress: show progress bars on stderr; None shows them on a terminal only.
        pairs_path: where to write the closest pairs PNG (:func:`closest_pairs_picture`).

    Returns:
        {"count", "real_count", "fid", "kid", "kid_std", "swd", "swd_32", "swd_16",
        "nearest_median", "real_nearest_median", "memorised_fraction", "memorised_threshold"}
        plus "pairs" when a picture was written.

    Raises:
        ValueError: the pixels are not uint8 RGB images of one size.
        inception.FidUnavailable: fid is True but the ``fid`` extra is missing.
    """
    fake_pixels, real_pixels = _pixels(fake_pixels, "fake"), _pixels(real_pixels, "real")
    if fake_pixels.shape[1:] != real_pixels.shape[1:]:
        raise ValueError(f"evaluate_pixels: fakes of {fake_pixels.shape[1:]} and real images "
                         f"of {real_pixels.shape[1:]} cannot be compared")
    kid_rng, swd_rng, memorisation_rng = np.random.default_rng(seed).spawn(3)
    result = {"count": len(fake_pixels), "real_count": len(real_pixels),
              "fid": None, "kid": None, "kid_std": None}
    if fid:
        result.update(_inception_scores(fake_pixels, real_pixels, real_features, kid_rng,
                                        progress))
    distances = swd.sliced_wasserstein_distance(fake_pixels, real_pixels, swd_rng)
    result["swd"] = distances.pop("average")
    result.update({f"swd_{resolution}": value for resolution, value in distances.items()})
    check = memorisation(fake_pixels, real_pixels, memorisation_rng)
    result.update({"nearest_median": check["fake_median"],
                   "real_nearest_median": check["real_median"],
                   "memorised_fraction": check["fraction"],
                   "memorised_threshold": check["threshold"]})
    if pairs_path is not None:
        save_picture(closest_pairs_picture(fake_pixels, real_pixels, check), pairs_path)
        result["pairs"] = str(pairs_path)
    return result


def report_lines(result):
    """The plain-text report of :func:`evaluate_pixels`'s dict, one metric a line."""
    lines = []
    if result["fid"] is not None:
        lines.append(f"FID: {result['fid']:.2f}")
        lines.append(f"KID: {result['kid']:.5f} \u00b1 {result['kid_std']:.5f}")
    levels = sorted((int(key[4:]) for key in result if key.startswith("swd_")), reverse=True)
    per_level = ", ".join(f"{level}px {result[f'swd_{level}']:.2f}" for level in levels)
    lines.append(f"SWD: {result['swd']:.2f} (x1e3; per level {per_level})")
    lines.append(f"Nearest training picture (pixel L2): median {result['nearest_median']:.3f} "
                 f"for the fakes, {result['real_nearest_median']:.3f} for held-out real "
                 f"pictures")
    lines.append(f"Memorised: {100 * result['memorised_fraction']:.1f}% of the fakes look "
                 f"copied: closer to a training picture than 99% of held-out real pictures are to "
                 f"another (L2 < {result['memorised_threshold']:.3f}), and far closer to it "
                 f"than to the average picture")
    if "pairs" in result:
        lines.append(f"Closest pairs (each fake beside its nearest training picture): "
                     f"{result['pairs']}")
    return lines


def _inception_scores(fake_pixels, real_pixels, real_features, rng, progress):
    """{"fid", "kid", "kid_std"} of the fakes' Inception features against the real frogs'."""
    inception.require_fid()
    if real_features is None:
        real_features = inception.cached_inception_features(real_pixels, progress=progress)
    # fakes are looked up, not stored: real frogs scored as fakes (a floor) cost nothing
    fake_features = inception.cached_inception_features(
        fake_pixels, progress=progress, description="Inception (fakes)", store=False)
    fid = frechet_distance(fake_features, real_features)
    kid, kid_std = kernel_inception_distance(fake_features, real_features, rng)
    return {"fid": fid, "kid": kid, "kid_std": kid_std}


def _pixels(pixels, name):
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[-1] != 3 or len(pixels) < 2:
        raise ValueError(f"evaluate_pixels: {name} pixels must be uint8 images (n, h, w, 3) "
                         f"with n >= 2, got {pixels.dtype} {pixels.shape}")
    return pixels
