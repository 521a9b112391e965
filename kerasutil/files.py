"""Writing files so that a crash or a full disk never leaves a half-written one behind."""

import contextlib
import glob
import os
import tempfile

# temporary files are named ".{name}-tmp-{random}{extension}": hidden, and easy to find again
_MARK = "-tmp-"


@contextlib.contextmanager
def atomic_path(path):
    r"""Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds.

    The temporary name keeps ``path``'s extension (Keras and NumPy look at it). On any error,
    Ctrl-C included, the temporary file is removed and ``path`` keeps its old content.

    Example:
        >>> from pathlib import Path
        >>> from kerasutil.files import atomic_path
        >>> with atomic_path("losses.csv") as temporary:
        ...     _ = Path(temporary).write_text("epoch,loss\n")
        >>> with atomic_path("losses.csv") as temporary:  # fails half-way: nothing changes
        ...     _ = Path(temporary).write_text("epo")
        ...     raise OSError("disk full")
        Traceback (most recent call last):
        OSError: disk full
        >>> Path("losses.csv").read_text(), [path.name for path in Path().iterdir()]
        ('epoch,loss\n', ['losses.csv'])
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    extension = os.path.splitext(name)[1]
    handle, temporary = tempfile.mkstemp(prefix=f".{name}{_MARK}", suffix=extension, dir=folder)
    os.close(handle)
    try:
        yield temporary
        # mkstemp makes the file private; give it the permissions a plain open() would
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_stale_temporaries(folder):
    """Delete the temporary files that a killed process (SIGKILL, power cut) left in ``folder``.

    Returns:
        The paths removed.
    """
    stale = glob.glob(os.path.join(glob.escape(os.fspath(folder)), f".*{_MARK}*"))
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return stale


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
