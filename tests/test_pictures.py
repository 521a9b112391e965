"""The pictures a run writes: grids of frogs, looping GIFs and the plot of the losses."""

import os

import numpy as np
import pytest
from PIL import Image, ImageSequence

from gan_demo import pictures
from gan_demo.pictures import grid_image, plot_losses, save_gif, save_picture
from kerasutil import Gan
from kerasutil.gan import to_pixels

# three solid frogs: values as the generator makes them, and the bytes they must become
SOLID_VALUES = [(1.0, 0.0, 0.2), (0.0, 0.4, 1.0), (0.6, 1.0, 0.0)]
SOLID_PIXELS = [(255, 0, 51), (0, 102, 255), (153, 255, 0)]


def solid_frogs(values, size=32):
    return np.stack([np.full((size, size, 3), colour, np.float32) for colour in values])


def random_frogs(count, seed=0, size=32):
    """Frogs of noise in [-1.2, 1.2]: no two pixels alike, so a misplaced one shows."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.2, 1.2, (count, size, size, 3)).astype(np.float32)


def cell(picture, row, column, size):
    return np.asarray(picture)[row * size:(row + 1) * size, column * size:(column + 1) * size]


def solid_frames(colours, size=(6, 4)):
    return [Image.new("RGB", size, colour) for colour in colours]


def gif_frames(path):
    """(RGB arrays, durations in ms, loop) of every frame of a GIF."""
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        frames, durations = [], []
        for frame in ImageSequence.Iterator(gif):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(frame.info["duration"])
        return frames, durations, gif.info.get("loop")


# -- grid_image ---------------------------------------------------------------------------------

def test_three_frogs_make_a_two_by_two_grid_with_one_black_cell():
    picture = grid_image(solid_frogs(SOLID_VALUES), scale=2)
    assert (picture.mode, picture.size) == ("RGB", (128, 128))
    # each 32x32 frog is a 64x64 block, filled row by row; the fourth cell is black
    for index, (row, column) in enumerate([(0, 0), (0, 1), (1, 0)]):
        block = cell(picture, row, column, 64)
        assert block.shape == (64, 64, 3)
        assert np.all(block == SOLID_PIXELS[index]), (row, column)
    assert np.all(cell(picture, 1, 1, 64) == 0)


def test_the_default_scale_is_four_with_nearest_neighbour_blocks():
    frogs = random_frogs(1)
    picture = grid_image(frogs)
    assert pictures.GRID_SCALE == 4
    assert picture.size == (128, 128)
    expected = to_pixels(frogs[0]).repeat(4, axis=0).repeat(4, axis=1)
    np.testing.assert_array_equal(np.asarray(picture), expected)


def test_every_pixel_of_every_frog_lands_in_its_cell():
    frogs = random_frogs(5, seed=1)
    picture = grid_image(frogs, scale=1)
    # auto columns: ceil(sqrt(5)) = 3, so 2 rows; the last cell is black
    assert picture.size == (96, 64)
    for index, frog in enumerate(frogs):
        np.testing.assert_array_equal(cell(picture, *divmod(index, 3), 32), to_pixels(frog))
    assert np.all(cell(picture, 1, 2, 32) == 0)


@pytest.mark.parametrize("count, columns, size", [
    (3, 3, (96, 32)),   # one row
    (3, 1, (32, 96)),   # one column
    (5, 2, (64, 96)),   # 2 + 2 + 1
    (4, 4, (128, 32)),
    (2, 5, (160, 32)),  # more columns than frogs: the rest stay black
])
def test_explicit_columns_set_the_layout(count, columns, size):
    frogs = random_frogs(count, seed=count)
    picture = grid_image(frogs, columns=columns, scale=1)
    assert picture.size == size
    for index, frog in enumerate(frogs):
        np.testing.assert_array_equal(cell(picture, *divmod(index, columns), 32), to_pixels(frog))
    rows = size[1] // 32
    for index in range(count, rows * columns):
        assert np.all(cell(picture, *divmod(index, columns), 32) == 0)


def test_scale_two_doubles_each_pixel_of_a_grid():
    frogs = random_frogs(4, seed=2)
    small = np.asarray(grid_image(frogs, scale=1))
    big = np.asarray(grid_image(frogs, scale=2))
    assert small.shape == (64, 64, 3) and big.shape == (128, 128, 3)
    np.testing.assert_array_equal(big, small.repeat(2, axis=0).repeat(2, axis=1))


def test_values_map_to_pixels_as_save_image_maps_them(tmp_path):
    values = np.array([-1.0, -0.001, 0.0, 0.2, 0.5, 0.999, 1.0, 1.5, np.nan], np.float32)
    frog = np.zeros((32, 32, 3), np.float32)
    frog[0, :9, 0] = values
    frog[1, :9, 1] = values
    picture = np.asarray(grid_image(frog[None], scale=1))
    # round(255 * value), clipped: a tanh output of -1 is 0, anything past 1 is 255, NaN is 0
    expected = [0, 0, 0, 51, 128, 255, 255, 255, 0]
    assert picture[0, :9, 0].tolist() == expected
    assert picture[1, :9, 1].tolist() == expected
    # byte for byte what the tutorial's Gan.save_image writes for the same frog
    Gan.save_image(frog, 32, 32, tmp_path / "frog.png")
    with Image.open(tmp_path / "frog.png") as saved:
        np.testing.assert_array_equal(picture, np.asarray(saved))


def test_save_picture_writes_the_png_and_nothing_else(tmp_path):
    picture = grid_image(random_frogs(3, seed=4), scale=1)
    save_picture(picture, tmp_path / "grid.png")
    assert os.listdir(tmp_path) == ["grid.png"]
    with Image.open(tmp_path / "grid.png") as saved:
        assert (saved.format, saved.mode, saved.size) == ("PNG", "RGB", (64, 64))
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(picture))


# -- save_gif ----------------------------------------------------------------------------------

def test_save_gif_holds_the_last_frame_and_loops_forever(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    save_gif(solid_frames(colours), tmp_path / "run.gif")
    assert os.listdir(tmp_path) == ["run.gif"]
    frames, durations, loop = gif_frames(tmp_path / "run.gif")
    assert len(frames) == 4
    assert durations == [200, 200, 200, 2000]
    assert loop == 0
    for frame, colour in zip(frames, colours):
        assert frame.shape == (4, 6, 3)
        assert np.all(frame == colour)


def test_save_gif_takes_other_durations(tmp_path):
    save_gif(solid_frames([(10, 20, 30), (200, 100, 0)]), tmp_path / "walk.gif",
             frame_ms=80, last_frame_ms=500)
    _, durations, loop = gif_frames(tmp_path / "walk.gif")
    assert (durations, loop) == ([80, 500], 0)


def test_a_one_frame_gif_shows_it_for_the_last_frame_duration(tmp_path):
    save_gif(solid_frames([(9, 99, 199)]), tmp_path / "one.gif")
    frames, durations, _ = gif_frames(tmp_path / "one.gif")
    assert len(frames) == 1 and durations == [2000]
    assert np.all(frames[0] == (9, 99, 199))


def test_save_gif_refuses_no_frames_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"^save_gif: no frames$"):
        save_gif([], tmp_path / "run.gif")
    assert os.listdir(tmp_path) == []


def test_a_failed_save_gif_keeps_the_old_gif_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "run.gif"
    save_gif(solid_frames([(255, 0, 0), (0, 0, 255)]), path)
    before = path.read_bytes()
    # the first frame is written, then a frame that is not an image breaks the save halfway
    with pytest.raises(AttributeError):
        save_gif(solid_frames([(0, 255, 0)]) + ["not an image"], path)
    assert os.listdir(tmp_path) == ["run.gif"]
    assert path.read_bytes() == before


# -- plot_losses -------------------------------------------------------------------------------

def assert_loss_plot(path):
    with Image.open(path) as plot:
        assert (plot.format, plot.size) == ("PNG", (800, 450))
        colours = {tuple(pixel) for pixel in np.asarray(plot.convert("RGB")).reshape(-1, 3)}
    # both losses are drawn: matplotlib's tab:blue and tab:orange
    assert (0x1F, 0x77, 0xB4) in colours
    assert (0xFF, 0x7F, 0x0E) in colours


def test_plot_losses_writes_an_800x450_png(tmp_path):
    history = [(epoch, 0.7 + 0.1 * np.sin(epoch), 0.9 + 0.1 * np.cos(epoch))
               for epoch in range(0, 300, 3)]
    plot_losses(history, tmp_path / "losses.png")
    assert os.listdir(tmp_path) == ["losses.png"]
    with open(tmp_path / "losses.png", "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert_loss_plot(tmp_path / "losses.png")


def test_plot_losses_draws_a_single_epoch(tmp_path):
    plot_losses([(0, 0.69, 0.71)], tmp_path / "losses.png")
    assert os.listdir(tmp_path) == ["losses.png"]
    assert_loss_plot(tmp_path / "losses.png")


def test_plot_losses_replaces_an_earlier_plot(tmp_path):
    path = tmp_path / "losses.png"
    path.write_bytes(b"an old plot")
    plot_losses(np.array([[0, 0.5, 0.6], [1, 0.4, 0.7]]), path)
    assert os.listdir(tmp_path) == ["losses.png"]
    assert_loss_plot(path)
