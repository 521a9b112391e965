"""Shared fixtures: a full-size synthetic frog_pictures.zip and the real one when present."""

from pathlib import Path

import pytest

from kerasutil.data import FROG_COUNT
from tests.frog_files import synthetic_frog_pixels, write_frog_zip

REAL_FROG_ZIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "frog_pictures.zip"


@pytest.fixture(scope="session")
def frog_zip(tmp_path_factory):
    """A full-size frog_pictures.zip of synthetic_frog_pixels(FROG_COUNT) (stored, ~61 MB)."""
    path = tmp_path_factory.mktemp("frog_data") / "frog_pictures.zip"
    return write_frog_zip(path, synthetic_frog_pixels(FROG_COUNT))


@pytest.fixture
def real_frog_zip():
    """The real ../shared/data/frog_pictures.zip beside the repository, or skip."""
    if not REAL_FROG_ZIP.is_file():
        pytest.skip("../shared/data/frog_pictures.zip is absent: "
                    "tests with the real CIFAR-10 frogs need it beside the repository")
    return REAL_FROG_ZIP
