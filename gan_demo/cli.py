"""The command line: ``python -m gan_demo`` runs the tutorial; subcommands add tools around it."""

import os
import sys

import click

from kerasutil.data import FROG_COUNT, DataError

# a user mistake exits with this code and one line, never a traceback
USAGE_ERROR = 2


class UserError(click.ClickException):
    """A mistake the user can fix: printed as one line, exit code 2."""

    exit_code = USAGE_ERROR

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False),
              help="The tutorial's frog_pictures.zip (or the .bin inside it).")
@click.option("--epochs", default=100_000, show_default=True, type=click.IntRange(min=0),
              help="Training steps: one discriminator step and one GAN step each.")
@click.option("--batch-size", default=8, show_default=True,
              type=click.IntRange(1, FROG_COUNT), help="Real images per step (and as many fakes).")
@click.option("--output", default="images", show_default=True, type=click.Path(file_okay=False),
              help="Folder for generated_frog_{epoch}.png.")
@click.option("--seed", default=None, type=int, help="Seed for a repeatable run.")
@click.option("--download", is_flag=True,
              help="Build --data from CIFAR-10 first if it is missing (needs internet).")
@click.pass_context
def main(ctx, data, epochs, batch_size, output, seed, download):
    """Train a GAN on the 5,000 CIFAR-10 frogs, as the tutorial "Create AI-generated wildlife" does.

    Every 100 epochs it prints both losses; every 1,000 it writes one generated frog to
    OUTPUT/generated_frog_{epoch}.png. Stop it any time with Ctrl-C.
    """
    if ctx.invoked_subcommand is not None:
        return
    from gan_demo import program  # TensorFlow loads only when training really starts

    if download and not os.path.exists(data):
        _make_data(data, None)
    created = not os.path.isdir(output)
    _writable_folder(output, "--output")
    try:
        program.main(data=data, epochs=epochs, batch_size=batch_size, output=output, seed=seed)
    except DataError as error:
        if created and not os.listdir(output):
            os.rmdir(output)  # leave nothing behind for a run that never started
        raise UserError(str(error)) from None
    except KeyboardInterrupt:
        click.echo("\nStopped.", err=True)
        sys.exit(130)


@main.command("make-data")
@click.option("--output", default="frog_pictures.zip", show_default=True,
              type=click.Path(dir_okay=False), help="The zip to write.")
@click.option("--cifar", default=None, type=click.Path(dir_okay=False),
              help="A local cifar-10-python.tar.gz; without it Keras downloads CIFAR-10.")
def make_data(output, cifar):
    """Build the tutorial's frog_pictures.zip from CIFAR-10's 5,000 training frogs."""
    _make_data(output, cifar)


def _make_data(output, cifar):
    from gan_demo.frog_data import build_frog_zip

    source = cifar or "CIFAR-10 (downloading through Keras)"
    click.echo(f"Building {output} from {source}...")
    try:
        count = build_frog_zip(output, cifar_archive=cifar)
    except DataError as error:
        raise UserError(str(error)) from None
    click.echo(f"Wrote {count:,} frogs to {output}")


def _writable_folder(folder, option):
    """Create ``folder`` or fail with one line naming the option, before any slow work starts."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError(f"{option} '{folder}' cannot be created: {error.strerror}; "
                        f"choose a folder you can write to") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} '{folder}' is not writable; choose a folder you can "
                        f"write to") from None
