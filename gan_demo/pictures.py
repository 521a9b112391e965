"""Pictures a run writes: grids of frogs, the GIF of a run, the plot of its losses."""

import math

import numpy as np
from PIL import Image

from kerasutil.files import atomic_path
from kerasutil.gan import to_pixels

# grids are shown 4x larger with nearest-neighbour upscaling, so each pixel stays a sharp square
GRID_SCALE = 4


def grid_image(images, columns=None, scale=GRID_SCALE):
    """Tile images (n, height, width, 3), values as the generator makes them, into one picture.

    Args:
        images: the frogs; pixels are mapped as ``Gan.save_image`` maps them.
        columns: frogs per row; None makes the grid as square as possible.
        scale: the nearest-neighbour upscaling factor.

    Returns:
        A PIL RGB image of rows x columns frogs; empty cells are black.
    """
    images = to_pixels(images)
    count, height, width, _ = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    canvas = np.zeros((rows * height, columns * width, 3), np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        canvas[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    canvas = canvas.repeat(scale, axis=0).repeat(scale, axis=1)
    return Image.fromarray(canvas, "RGB")


def save_picture(picture, path):
    """Write a PIL image as a PNG, whole or not at all."""
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG")


def save_gif(frames, path, frame_ms=200, last_frame_ms=2000):
    """Write PIL images as a looping GIF that holds its last frame a little longer."""
    if not frames:
        raise ValueError("save_gif: no frames")
    durations = [frame_ms] * (len(frames) - 1) + [last_frame_ms]
    with atomic_path(path) as temporary:
        frames[0].save(temporary, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0)


def plot_losses(history, path):
    """Plot both losses over the run (rows of epoch, discriminator loss, gan loss) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works without a display
    from matplotlib import pyplot

    history = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=100)
    for column, name, colour in ((1, "discriminator", "tab:blue"), (2, "gan", "tab:orange")):
        axes.plot(history[:, 0], history[:, column], color=colour, alpha=0.25, linewidth=0.8)
        axes.plot(history[:, 0], _moving_average(history[:, column]), color=colour,
                  label=f"{name} loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("binary cross-entropy")
    axes.set_title("GAN losses (faint: every epoch; bold: moving average)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)


def _moving_average(values):
    window = max(1, len(values) // 50)
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.convolve(padded, kernel, mode="valid")
