"""Grids: 64 frogs from fixed latent vectors at every save, and progress.gif of them at the end."""

import glob
import os
import re

import numpy as np
from PIL import Image

from gan_demo.pictures import grid_image, save_gif, save_picture
from gan_demo.run.callback import Callback

GRID_FROGS = 64
GIF_MAX_FRAMES = 100
GIF_SCALE = 2


class Grids(Callback):
    """Write grid_{epoch}.png at each save and progress.gif at the end.

    The grids always show the same latent vectors, so one frog can be followed from grid to
    grid; a resumed run takes them back from its checkpoint.

    Args:
        seed: seed of the latent vectors; None picks them at random.
        latent_dimensions: the generator's input size.
    """

    def __init__(self, seed=None, latent_dimensions=32):
        self.latents = np.random.default_rng(seed).standard_normal(
            (GRID_FROGS, latent_dimensions)).astype(np.float32)

    def on_train_begin(self, state):
        state.grid_latents = self.latents  # before resume, which puts back the saved ones

    def on_epoch_end(self, state):
        if state.saving:
            picture = grid_image(state.grid_frogs())
            save_picture(picture, os.path.join(state.output, f"grid_{state.epoch}.png"))

    def on_train_end(self, state):
        write_gif(state.output)


def write_gif(output):
    """Write progress.gif of up to GIF_MAX_FRAMES evenly spaced grids, always with the last,
    at half the grids' size; nothing when there is no grid."""
    paths = sorted(glob.glob(os.path.join(output, "grid_*.png")), key=_grid_epoch)
    if not paths:
        return
    picks = np.unique(np.linspace(0, len(paths) - 1, GIF_MAX_FRAMES).round().astype(int))
    frames = []
    for index in picks:
        with Image.open(paths[index]) as grid:
            size = (grid.width * GIF_SCALE // 4, grid.height * GIF_SCALE // 4)
            frames.append(grid.resize(size, resample=0).convert("RGB"))
    save_gif(frames, os.path.join(output, "progress.gif"))


def _grid_epoch(path):
    return int(re.search(r"grid_(\d+)\.png$", path).group(1))
