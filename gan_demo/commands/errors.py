"""One-line errors for the command line: a user's mistake is one line and exit code 2.

:class:`UserError` is such a mistake, :class:`OneLineErrors` the click group that prints every
error (click's own option checks too) as one line, and :func:`writable_folder` the check that
an output folder can be written before any slow work starts.
"""

import os
import sys

import click

# a user mistake exits with this code and one line, never a traceback
USAGE_ERROR = 2


class UserError(click.ClickException):
    """A mistake the user can fix: printed as one line, exit code 2."""

    exit_code = USAGE_ERROR


class OneLineErrors(click.Group):
    """A command group whose every error, click's own option checks too, is one line."""

    def main(self, *args, standalone_mode=True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            exit_code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:  # Ctrl-C outside training (training handles its own)
            sys.exit(130)
        sys.exit(exit_code if isinstance(exit_code, int) else 0)


def writable_folder(folder, option):
    """Create ``folder`` or fail with one line naming the option, before any slow work starts."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError(f"{option} '{folder}' cannot be created: {error.strerror}; "
                        f"choose a folder you can write to") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} '{folder}' is not writable; choose a folder you can "
                        f"write to") from None
