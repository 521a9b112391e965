"""Any number of pictures: both recipes and the scores run on a pictures zip of 37.

37 is no multiple of either recipe's batch (8, 16), so the tutorial's walk through the data
must wrap early, and nothing may assume the 5,000 frogs.
"""

import re

import numpy as np
import pytest

from gan_demo import program, stable
from gan_demo.metrics import scoring
from kerasutil import DataUtil
from kerasutil.gan import to_pixels
from tests.frog_files import synthetic_frog_pixels, write_frog_zip

COUNT = 37
EPOCH_LINE = re.compile(r"Epoch: (\d+), Discriminator loss: (\S+), Gan loss: (\S+)")


@pytest.fixture(scope="module")
def zip_of_37(tmp_path_factory):
    path = tmp_path_factory.mktemp("pictures") / "my_pictures.zip"
    return write_frog_zip(path, synthetic_frog_pixels(COUNT, seed=37))


def test_the_tutorial_recipe_trains_on_37_pictures(zip_of_37, tmp_path, monkeypatch, capsys,
                                                    eager_steps):
    starts = []
    real_batch = program.Gan.get_training_batch

    def spying_batch(generated, training_data, batch_size, start, rng=None):
        assert len(training_data) == COUNT
        starts.append(int(start))
        return real_batch(generated, training_data, batch_size, start, rng)

    monkeypatch.setattr(program.Gan, "get_training_batch", spying_batch)
    program.main(data=zip_of_37, epochs=7, output=tmp_path, seed=0, width=8)
    losses = EPOCH_LINE.findall(capsys.readouterr().out)
    assert [int(epoch) for epoch, *_ in losses] == [0]
    assert all(np.isfinite(float(loss)) for _, *pair in losses for loss in pair)
    assert (tmp_path / "generated_frog_0.png").is_file()
    # batches of 8: the fifth ends at the 37th picture, then the walk wraps to the start
    assert starts == [0, 8, 16, 24, 29, 0, 8]


def test_the_stable_recipe_trains_on_37_pictures(zip_of_37, tmp_path, capsys):
    gan = stable.main(data=zip_of_37, epochs=3, output=tmp_path, seed=0, width=8)
    assert gan.frogs.shape[0] == COUNT
    assert EPOCH_LINE.search(capsys.readouterr().out)


def test_the_scores_run_against_37_real_pictures(zip_of_37, tmp_path):
    real = to_pixels(DataUtil.load_pictures(zip_of_37))
    fakes = np.random.default_rng(0).integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    result = scoring.evaluate_pixels(fakes, real, fid=False, pairs_path=tmp_path / "pairs.png")
    assert result["count"] == 12 and result["real_count"] == COUNT
    assert np.isfinite(result["swd"]) and 0 <= result["memorised_fraction"] <= 1
    assert (tmp_path / "pairs.png").is_file()
