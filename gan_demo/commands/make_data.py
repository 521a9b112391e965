"""``python -m gan_demo make-data``: build the tutorial's frog_pictures.zip from CIFAR-10."""

import click

import gan_demo.cifar  # not `from gan_demo import cifar`: the --cifar option's name
from gan_demo.commands.errors import UserError
from kerasutil.data import DataError


@click.command("make-data")
@click.option("--output", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The zip to write.")
@click.option("--cifar", default=None, type=click.Path(dir_okay=False),
              help="A local cifar-10-python.tar.gz; without it Keras downloads CIFAR-10.")
def make_data(output, cifar):
    """Build the tutorial's frog_pictures.zip from CIFAR-10's 5,000 training frogs."""
    write_frog_zip(output, cifar)


def write_frog_zip(output, cifar):
    """Build the frogs zip at ``output`` from CIFAR-10, saying what it does.

    Args:
        output: the zip to write.
        cifar: a local cifar-10-python.tar.gz, or None to download CIFAR-10 through Keras.

    Raises:
        UserError: if the archive is missing or malformed (one line, exit code 2).
    """
    source = cifar or "CIFAR-10 (downloading through Keras)"
    click.echo(f"Building {output} from {source}...")
    try:
        count = gan_demo.cifar.build_class_zip(output, cifar_archive=cifar)
    except DataError as error:
        raise UserError(str(error)) from None
    click.echo(f"Wrote {count:,} frogs to {output}")
