"""``python -m gan_demo make-data``: build a pictures zip from a CIFAR-10 class or a folder."""

import click

import gan_demo.cifar  # not `from gan_demo import cifar`: the --cifar option's name
from gan_demo import picture_folder
from gan_demo.cifar import CLASS_NAMES, DEFAULT_CLASS, zip_name
from gan_demo.commands.errors import UserError
from kerasutil.data import DataError

HELP = f"""Build a pictures zip to train on: a CIFAR-10 class, or a folder of your own pictures.

--class NAME writes NAME_pictures.zip from CIFAR-10's training pictures of that class (5,000
each; {DEFAULT_CLASS}, the tutorial's {zip_name()}, by default), from --cifar or from Keras's
download.

--images DIR writes {picture_folder.DEFAULT_OUTPUT} from every PNG, JPEG, BMP, GIF, WebP
or TIFF picture in DIR and the folders below it, in path order. Each is cut to 32x32: its
shorter side is scaled to 32 pixels and the centre square kept (--crop none squashes the whole
picture instead); transparent pixels become white. Files that are not pictures are skipped and
exact duplicates dropped, and it says which.

Then train on the file with --data, e.g. python -m gan_demo --recipe stable --data
deer_pictures.zip.
"""


@click.command("make-data", help=HELP)
@click.option("--class", "class_name", default=None, metavar="NAME",
              type=click.Choice(CLASS_NAMES),
              help=f"The CIFAR-10 class: {', '.join(CLASS_NAMES)}.  [default: {DEFAULT_CLASS}]")
@click.option("--cifar", default=None, type=click.Path(dir_okay=False),
              help="A local cifar-10-python.tar.gz; without it Keras downloads CIFAR-10.")
@click.option("--images", "folder", default=None, type=click.Path(), metavar="DIR",
              help="A folder of your own pictures instead of a CIFAR-10 class.")
@click.option("--crop", default=None, type=click.Choice(picture_folder.CROPS),
              help="How --images cuts a picture to 32x32: centre scales its shorter side to 32 "
                   "and keeps the centre square; none squashes it whole.  [default: centre]")
@click.option("--output", default=None, type=click.Path(dir_okay=False),
              help=f"The zip to write.  [default: NAME_pictures.zip; "
                   f"{picture_folder.DEFAULT_OUTPUT} with --images]")
def make_data(class_name, cifar, folder, crop, output):
    """Build the zip the options say: a CIFAR-10 class, or with --images a folder's pictures."""
    if folder is None:
        if crop is not None:
            raise UserError("--crop cuts the pictures of --images: drop it, or pass --images DIR")
        class_name = class_name or DEFAULT_CLASS
        write_class_zip(output or zip_name(class_name), cifar, class_name)
        return
    if class_name is not None or cifar is not None:
        given = "--class" if class_name is not None else "--cifar"
        raise UserError(f"--images builds from your own pictures, {given} from CIFAR-10: pass "
                        f"one of them")
    write_folder_zip(folder, output or picture_folder.DEFAULT_OUTPUT, crop or "centre")


def write_class_zip(output, cifar, class_name=DEFAULT_CLASS):
    """Build a CIFAR-10 class's pictures zip at ``output``, saying what it does.

    Args:
        output: the zip to write.
        cifar: a local cifar-10-python.tar.gz, or None to download CIFAR-10 through Keras.
        class_name: one of CIFAR-10's CLASS_NAMES; the tutorial's "frog" by default.

    Raises:
        UserError: if the archive is missing or malformed (one line, exit code 2).
    """
    source = cifar or "CIFAR-10 (downloading through Keras)"
    click.echo(f"Building {output} from {source}...")
    try:
        count = gan_demo.cifar.build_class_zip(output, cifar_archive=cifar,
                                               class_name=class_name)
    except DataError as error:
        raise UserError(str(error)) from None
    click.echo(f"Wrote {count:,} {class_name} picture{'' if count == 1 else 's'} to {output}")


def write_folder_zip(folder, output, crop="centre"):
    """Build a pictures zip at ``output`` from the pictures in ``folder``, saying what it does.

    A progress bar shows on a terminal when the folder takes more than a second; then the
    report: the count written, the files skipped and the duplicates dropped.

    Args:
        folder: the folder of pictures, read recursively.
        output: the zip to write.
        crop: "centre" or "none", as picture_folder.build_folder_zip.

    Raises:
        UserError: if ``folder`` is missing or a file, or holds fewer usable pictures than one
            batch of the stable recipe (one line, exit code 2; nothing is written).
    """
    click.echo(f"Building {output} from the pictures in {folder}...")
    try:
        report = picture_folder.build_folder_zip(folder, output, crop)
    except DataError as error:
        raise UserError(str(error)) from None
    for line in report.lines():
        click.echo(line)
