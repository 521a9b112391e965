"""Build a pictures zip from a folder of a student's own pictures (make-data --images DIR).

Each picture becomes one 32x32 RGB picture in the tutorial's format (gan_demo.pictures_zip):

* the folder is walked recursively in sorted path order, so the same folder always gives the
  same file; hidden files and folders (names starting with ".", like .DS_Store or .thumbnails)
  are left out, links to folders are not followed, and the output zip itself is not read;
* a file is a picture by its content, not its name: PNG, JPEG, BMP, GIF (its first frame), WebP
  or TIFF, whatever its extension says (.JPG, .jpeg, or none at all);
* a camera's orientation tag (EXIF) is applied, so a portrait photo stands upright;
* every mode becomes RGB: palette, grayscale, 16-bit (scaled to 8 bits, not clipped), CMYK;
  transparent pixels are laid on a plain white background (BACKGROUND);
* the shorter side is scaled to 32 pixels with Pillow's antialiased Lanczos filter and the
  centre 32x32 square kept; crop="none" squashes the whole picture to 32x32 instead;
* a file that is not such a picture, cannot be decoded, or has more pixels than Pillow's
  decompression-bomb limit (Image.MAX_IMAGE_PIXELS, read from its header: it is never decoded)
  is skipped; a file giving exactly the same 32x32 picture as an earlier one is dropped as a
  duplicate. The report names them.
"""

import hashlib
import os
import stat
import sys
import warnings
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from gan_demo.pictures_zip import write_pictures_zip
from gan_demo.stable import StableRecipe
from kerasutil.data import MAX_PICTURES, DataError

FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
CROPS = ("centre", "none")
SIDE = 32
BACKGROUND = (255, 255, 255)  # white, where a picture is transparent
DEFAULT_OUTPUT = "my_pictures.zip"
SHOWN = 3  # names a message lists before "and N more"

_NOT_A_PICTURE = "not a PNG, JPEG, BMP, GIF, WebP or TIFF picture"
_SIXTEEN_BIT = ("I", "I;16", "I;16L", "I;16B", "I;16N")


@dataclass(frozen=True)
class FolderReport:
    """What build_folder_zip wrote and what it left out.

    Attributes:
        folder: the folder read.
        output: the zip written.
        count: the pictures written.
        skipped: (name, reason) of each file left out, names relative to ``folder``, in path
            order.
        duplicates: (name, earlier name) of each file dropped as a copy of an earlier one.
    """

    folder: str
    output: str
    count: int
    skipped: tuple = ()
    duplicates: tuple = ()

    def lines(self, shown=SHOWN):
        """Return the lines make-data prints: what was written, skipped and dropped.

        Example:
            >>> report = FolderReport("birds", "my_pictures.zip", 40,
            ...                       skipped=(("notes.txt", "not a picture"),),
            ...                       duplicates=(("b/copy.png", "a.png"), ("c.png", "a.png")))
            >>> for line in report.lines():
            ...     print(line)
            Wrote 40 pictures from birds to my_pictures.zip
            Skipped 1 file: notes.txt (not a picture)
            Dropped 2 exact duplicates: b/copy.png (same as a.png), c.png (same as a.png)
        """
        lines = [f"Wrote {_plural(self.count, 'picture')} from {self.folder} to {self.output}"]
        if self.skipped:
            lines.append(f"Skipped {_plural(len(self.skipped), 'file')}: " + _listing(
                [f"{name} ({reason})" for name, reason in self.skipped], shown))
        if self.duplicates:
            lines.append(f"Dropped {_plural(len(self.duplicates), 'exact duplicate')}: " +
                         _listing([f"{name} (same as {first})"
                                   for name, first in self.duplicates], shown))
        return lines


def build_folder_zip(folder, output=DEFAULT_OUTPUT, crop="centre", minimum=None,
                     progress=None):
    """Write every usable picture under ``folder`` as a 32x32 pictures zip (see the module).

    Args:
        folder: the folder of pictures, read recursively.
        output: the zip to write; replaced only once the new one is complete.
        crop: "centre" keeps the centre square; "none" squashes the whole picture.
        minimum: the fewest pictures accepted (at least 1); None takes one batch of the
            stable recipe, StableRecipe().batch_size (larger than the tutorial's).
        progress: show a progress bar on stderr; None shows it when stderr is a terminal and
            the folder takes more than a second.

    Returns:
        A FolderReport: the count written, and the files skipped and dropped.

    Raises:
        ValueError: ``crop`` is not one of CROPS, or ``minimum`` is below 1.
        DataError: ``folder`` does not exist, is a file or cannot be read; it holds fewer than
            ``minimum`` usable pictures or more than MAX_PICTURES; or ``output`` cannot be
            written.
    """
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")
    minimum = StableRecipe().batch_size if minimum is None else minimum
    if minimum < 1:
        raise ValueError(f"minimum must be at least 1, got {minimum!r}")
    folder, output = os.fspath(folder), os.fspath(output)
    names, skipped = _picture_files(folder, output)
    rows, first_of, duplicates = [], {}, []
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    with tqdm(names, desc="Reading pictures", unit="file", disable=disable, file=sys.stderr,
              leave=False, delay=1) as bar:
        for name in bar:
            row, reason = read_picture(os.path.join(folder, name), crop)
            if row is None:
                skipped.append((name, reason))
                continue
            key = hashlib.sha256(row).digest()
            if key in first_of:
                duplicates.append((name, first_of[key]))
            elif len(rows) == MAX_PICTURES:
                raise DataError(f"'{folder}' holds more than {MAX_PICTURES:,} usable pictures, "
                                f"the most a pictures file may hold: pass a folder of fewer")
            else:
                first_of[key] = name
                rows.append(row)
    skipped.sort(key=lambda pair: _path_order(pair[0]))
    report = FolderReport(folder, output, len(rows), tuple(skipped), tuple(duplicates))
    _refuse_too_few(report, minimum)
    write_pictures_zip(output, np.stack(rows))
    return report


def read_picture(path, crop="centre"):
    """Read one file as a 32x32 picture, or say why it cannot be one.

    Args:
        path: the file.
        crop: as build_folder_zip.

    Returns:
        (row, None): the picture as uint8 (3 * 32 * 32,), channels first; or (None, reason):
        why the file is skipped, a short phrase for the report.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open(): a pipe would block it
            return None, "not a regular file"
        with open(path, "rb") as stream, warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit: both are refused here,
            # from the header, before a single pixel is decoded. Its other warnings (corrupt
            # EXIF, palette transparency) would be noise on the student's console.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=FORMATS) as image:
                picture = to_side(to_rgb(_upright(image)), crop)
    except Image.UnidentifiedImageError:
        return None, _NOT_A_PICTURE
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None, f"over Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels, not decoded"
    except OSError as error:
        if error.strerror:  # the system's: the file could not be read at all
            return None, f"cannot be read: {error.strerror}"
        return None, f"cannot be decoded: {_one_line(error)}"
    except Exception as error:  # noqa: BLE001 (a damaged file can fail a decoder in any way)
        return None, f"cannot be decoded: {_one_line(error)}"
    return np.asarray(picture, np.uint8).transpose(2, 0, 1).reshape(-1), None


def to_rgb(image):
    """Return ``image`` in RGB: transparent pixels on BACKGROUND, 16-bit values scaled to 8.

    Example:
        >>> to_rgb(Image.new("LA", (1, 1), (0, 0))).getpixel((0, 0))  # fully transparent
        (255, 255, 255)
        >>> to_rgb(Image.new("I;16", (1, 1), 65535)).getpixel((0, 0))
        (255, 255, 255)
    """
    if image.mode in _SIXTEEN_BIT:
        # Pillow's own conversion clips at 255, which turns most 16-bit pictures white
        levels = np.clip(np.rint(np.asarray(image, np.float64) / 257), 0, 255)
        image = Image.fromarray(levels.astype(np.uint8), "L")
    if "transparency" in image.info or image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, BACKGROUND)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def to_side(image, crop="centre"):
    """Scale ``image`` to SIDE x SIDE: the shorter side to SIDE and the centre kept, or squashed.

    Example:
        >>> wide = Image.new("RGB", (96, 64), (255, 0, 0))
        >>> wide.paste((0, 255, 0), (16, 0, 80, 64))  # a green square in the middle
        >>> to_side(wide).getpixel((16, 16)), to_side(wide, "none").getpixel((0, 16))
        ((0, 255, 0), (255, 0, 0))
    """
    width, height = image.size
    box = (0, 0, width, height)
    if crop == "centre":
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
    # Lanczos filters over the whole area each new pixel covers; reducing_gap first averages
    # blocks of a large picture, much faster and as good to the eye
    return image.resize((SIDE, SIDE), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _upright(image):
    """Return ``image`` turned as its EXIF orientation says, a JPEG decoded at a reduced size."""
    # a JPEG can decode at 1/2, 1/4 or 1/8 scale, far faster for a camera's photos; 2 x SIDE
    # leaves the last reduction to the Lanczos filter
    image.draft(None, (2 * SIDE, 2 * SIDE))
    return ImageOps.exif_transpose(image)


def _picture_files(folder, output):
    """Return the files under ``folder`` in path order (relative names), and folders skipped."""
    if not os.path.exists(folder):
        raise DataError(f"no folder at '{folder}': pass the folder that holds your pictures")
    if not os.path.isdir(folder):
        raise DataError(f"'{folder}' is a file, not a folder: pass the folder that holds your "
                        "pictures")
    try:
        os.listdir(folder)
    except OSError as error:
        raise DataError(f"cannot read the folder '{folder}' ({error.strerror}): check its "
                        "permissions") from error
    names, skipped = [], []

    def unreadable(error):
        skipped.append((os.path.relpath(error.filename, folder),
                        f"a folder that cannot be read: {error.strerror}"))

    output = os.path.abspath(output)
    for root, folders, files in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        names += [os.path.relpath(os.path.join(root, name), folder) for name in files
                  if not name.startswith(".")
                  and os.path.abspath(os.path.join(root, name)) != output]
    return sorted(names, key=_path_order), skipped


def _refuse_too_few(report, minimum):
    """Raise DataError if ``report`` counts fewer than ``minimum`` pictures."""
    if report.count >= minimum:
        return
    parts = []
    if report.skipped:
        names = [name for name, _ in report.skipped]
        parts.append(f"skipped {_plural(len(names), 'file')}: {_listing(names, SHOWN)}")
    if report.duplicates:
        parts.append(f"dropped {_plural(len(report.duplicates), 'exact duplicate')}")
    note = f" ({'; '.join(parts)})" if parts else "" if report.count else " (it holds no files)"
    if not report.count:
        raise DataError(f"'{report.folder}' holds no usable picture{note}: put PNG, JPEG, BMP, "
                        "GIF, WebP or TIFF pictures in it")
    raise DataError(f"'{report.folder}' holds only {_plural(report.count, 'usable picture')}"
                    f"{note}, fewer than one training batch of {minimum}: add at least "
                    f"{minimum - report.count} more")


def _path_order(name):
    """Sort key: a path by its parts, so a folder's files stay together."""
    return PurePath(name).parts


def _plural(count, word):
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _listing(items, shown):
    """'a, b, c and 2 more': the first ``shown`` items of a list."""
    more = f" and {len(items) - shown:,} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__
