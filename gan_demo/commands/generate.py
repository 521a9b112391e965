"""``python -m gan_demo generate``: draw pictures with a trained generator."""

import os

import click
import numpy as np

from gan_demo import sample
from gan_demo.commands.errors import UserError, writable_folder
from kerasutil.data import DataError

# generate draws at most this many pictures into one grid or GIF, and this many into an .npz
MOST_PICTURED = 10_000
MOST_SAMPLES = 50_000


@click.command()
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False),
              help="A run's checkpoint.npz or generator.keras.")
@click.option("--count", default=64, show_default=True,
              type=click.IntRange(1, MOST_SAMPLES),
              help=f"How many pictures (at most {MOST_PICTURED:,} in one grid or GIF).")
@click.option("--output", default=None, type=click.Path(),
              help="Where to write [default: frogs.png; frogs/ with --separate; frogs.gif with "
                   "--interpolate]. A name ending in .npz writes the pixels instead: uint8 "
                   "(count, 32, 32, 3) under the key \"images\", for evaluate --samples.")
@click.option("--separate", is_flag=True, help="One 32x32 PNG per picture instead of a grid.")
@click.option("--interpolate", is_flag=True,
              help="A looping GIF of the pictures morphing as they walk through latent space.")
@click.option("--seed", default=None, type=int, help="Seed for the same pictures every time.")
def generate(checkpoint, count, output, separate, interpolate, seed):
    """Draw pictures with a trained generator."""
    if separate and interpolate:
        raise UserError("--separate and --interpolate cannot be combined: pick one")
    pixels = output is not None and output.lower().endswith(".npz")
    if pixels and (separate or interpolate):
        raise UserError(f"--output {output} writes the pictures' pixels: drop "
                        f"{'--separate' if separate else '--interpolate'}, or write a picture")
    if count > MOST_PICTURED and not pixels:
        raise UserError(f"--count {count:,} is too many for one grid or GIF (at most "
                        f"{MOST_PICTURED:,}): write an .npz (--output samples.npz) for up to "
                        f"{MOST_SAMPLES:,}")
    try:
        generator = sample.load_generator(checkpoint)
    except DataError as error:
        raise UserError(str(error)) from None
    rng = np.random.default_rng(seed)
    if separate:
        output = output or "frogs"
        writable_folder(output, "--output")
        paths = sample.write_separate(generator, count, output, rng)
        click.echo(f"Wrote {_pictures(len(paths))} to {output}/")
        return
    output = output or ("frogs.gif" if interpolate else "frogs.png")
    writable_folder(os.path.dirname(os.path.abspath(output)), "--output")
    if pixels:
        write = sample.write_npz
    else:
        write = sample.write_interpolation if interpolate else sample.write_grid
    write(generator, count, output, rng)
    click.echo(f"Wrote {_pictures(count)} to {output}")


def _pictures(count):
    return f"{count:,} picture{'' if count == 1 else 's'}"
