"""gan_demo.picture_folder.build_folder_zip: a pictures zip from a folder of a student's own.

The folder each test makes holds every format and mode the module takes, as small uniform
pictures of distinct colours, so each one is found in the zip by its place in path order and
checked by its colour (within a few levels where the format is lossy).
"""

import os
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageFile

from gan_demo import picture_folder
from gan_demo.picture_folder import (
    BACKGROUND,
    FolderReport,
    build_folder_zip,
    read_picture,
    to_side,
)
from gan_demo.stable import StableRecipe
from kerasutil.data import FROG_MEMBER, DataError, DataUtil
from tests.conftest import snapshot

SIZE = (40, 30)  # small and not square
BATCH = StableRecipe().batch_size


def solid(colour, mode="RGB", size=SIZE):
    return Image.new(mode, size, colour)


def wide_picture():
    """128x64: red left quarter, green middle half, blue right quarter."""
    pixels = np.zeros((64, 128, 3), np.uint8)
    pixels[:, :32] = (255, 0, 0)
    pixels[:, 32:96] = (0, 255, 0)
    pixels[:, 96:] = (0, 0, 255)
    return Image.fromarray(pixels)


def palette_picture():
    """32x32 palette picture: left half index 0 (transparent red), right half index 1 green."""
    indices = np.zeros((32, 32), np.uint8)
    indices[:, 16:] = 1
    image = Image.fromarray(indices, "P")
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    return image


def rgba_picture():
    """32x32: opaque navy left half, fully transparent (red underneath) right half."""
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[:, :16] = (0, 0, 128, 255)
    pixels[:, 16:] = (255, 0, 0, 0)
    return Image.fromarray(pixels, "RGBA")


def write(folder, name, image, **options):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def make_folder(folder):
    """Write the test folder; return {name: expected} for the 16 pictures kept, in path order.

    expected is ((r, g, b), tolerance) for a uniform picture, or a function checking the
    (32, 32, 3) uint8 picture for the others.
    """
    kept = {}
    write(folder, "B_upper.JPG", solid((200, 30, 30)), quality=95)
    kept["B_upper.JPG"] = ((200, 30, 30), 6)
    write(folder, "big.png", solid((1, 1, 1), size=(120, 100)))        # 12,000 pixels
    write(folder, "bmp.bmp", solid((10, 200, 10)))
    kept["bmp.bmp"] = ((10, 200, 10), 0)
    good = write(folder, "broken.png", solid((5, 5, 5), size=(64, 64))).read_bytes()
    (folder / "broken.png").write_bytes(good[:len(good) // 2])
    write(folder, "cmyk.jpg", solid((55, 155, 205, 0), "CMYK"), quality=95)
    kept["cmyk.jpg"] = ((200, 100, 50), 6)
    (folder / "fake.png").write_text("not a picture at all\n")
    write(folder, "gray.png", solid(90, "L"))
    kept["gray.png"] = ((90, 90, 90), 0)
    write(folder, "huge.png", solid((2, 2, 2), size=(200, 200)))       # 40,000 pixels
    write(folder, "jpeg_named.png", solid((240, 240, 20)), format="JPEG", quality=95)
    kept["jpeg_named.png"] = ((240, 240, 20), 6)
    write(folder, "la.png", solid((100, 128), "LA"))                   # half transparent
    kept["la.png"] = ((177, 177, 177), 1)                              # 100 * a + 255 * (1 - a)
    (folder / "nested").mkdir()
    shutil.copy(folder / "bmp.bmp", folder / "nested" / "copy_of_bmp.bmp")  # a duplicate
    write(folder, "nested/deeper/tiff.tif", solid((30, 60, 90)))
    kept["nested/deeper/tiff.tif"] = ((30, 60, 90), 0)
    write(folder, "nested/webp.webp", solid((60, 30, 200)), lossless=True)
    kept["nested/webp.webp"] = ((60, 30, 200), 0)
    write(folder, "no_extension", solid((70, 0, 70)), format="PNG")
    kept["no_extension"] = ((70, 0, 70), 0)
    (folder / "notes.txt").write_text("my birds\n")
    write(folder, "one_bit.png", solid(0, "1"))
    kept["one_bit.png"] = ((0, 0, 0), 0)
    write(folder, "palette.png", palette_picture(), transparency=0)
    kept["palette.png"] = halves(BACKGROUND, (0, 255, 0))
    write(folder, "rgba.png", rgba_picture())
    kept["rgba.png"] = halves((0, 0, 128), BACKGROUND)
    write(folder, "sixteen.png", Image.fromarray(np.full((30, 40), 40000, np.uint16)))
    kept["sixteen.png"] = ((156, 156, 156), 0)                        # 40000 / 257, not 255
    write(folder, "tiny.png", solid((7, 77, 177), size=(8, 6)))        # enlarged
    kept["tiny.png"] = ((7, 77, 177), 0)
    write(folder, "two_frames.gif", solid((0, 0, 255)), save_all=True,
          append_images=[solid((255, 255, 0))])
    kept["two_frames.gif"] = ((0, 0, 255), 0)                          # the first frame
    write(folder, "wide.png", wide_picture())
    kept["wide.png"] = centre_is_green
    write(folder, ".hidden.png", solid((9, 9, 9)))                     # left out entirely
    write(folder, ".thumbnails/thumb.png", solid((8, 8, 8)))
    return kept


def halves(left, right):
    def check(picture):
        assert (picture[:, :16] == left).all() and (picture[:, 16:] == right).all()
    return check


def centre_is_green(picture):
    """The centre 64x64 of wide.png, scaled to 32: green, bar a filter's width at each side."""
    assert (picture[:, 3:29] == (0, 255, 0)).all()
    assert (picture[..., 1] > 200).all() and (picture[..., [0, 2]] < 60).all()


SKIPPED = ["big.png", "broken.png", "fake.png", "huge.png", "notes.txt"]


@pytest.fixture
def small_pixel_limit(monkeypatch):
    """Pillow's decompression-bomb limit at 10,000 pixels: big.png (12,000) is over it (Pillow
    warns) and huge.png (40,000) over twice it (Pillow raises); wide.png (8,192) is under."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)


@pytest.fixture
def folder(tmp_path, small_pixel_limit):
    folder = tmp_path / "pictures"
    folder.mkdir()
    return folder, make_folder(folder)


def zip_pixels(path):
    """The zip's pictures as uint8 (n, 32, 32, 3), undoing pixel / 255."""
    return np.rint(DataUtil.load_pictures(path) * 255).astype(np.uint8)


def test_every_format_and_mode(folder, tmp_path):
    folder, kept = folder
    output = tmp_path / "my_pictures.zip"
    report = build_folder_zip(folder, output)
    assert report.count == len(kept) == BATCH == 16
    pictures = zip_pixels(output)
    assert len(pictures) == 16
    for picture, (name, expected) in zip(pictures, kept.items()):
        if callable(expected):
            expected(picture)
        else:
            colour, tolerance = expected
            error = np.abs(picture.astype(int) - colour).max()
            assert error <= tolerance, f"{name}: {picture[16, 16]} is not {colour}"
    assert [name for name, _ in report.skipped] == SKIPPED
    assert report.duplicates == (("nested/copy_of_bmp.bmp", "bmp.bmp"),)
    with zipfile.ZipFile(output) as archive:
        assert archive.namelist() == [FROG_MEMBER]
        assert archive.getinfo(FROG_MEMBER).compress_type == zipfile.ZIP_DEFLATED


def test_the_report_says_why(folder, tmp_path):
    folder, _ = folder
    report = build_folder_zip(folder, tmp_path / "out.zip")
    reasons = dict(report.skipped)
    assert reasons["notes.txt"] == reasons["fake.png"] == (
        "not a PNG, JPEG, BMP, GIF, WebP or TIFF picture")
    assert reasons["big.png"] == reasons["huge.png"] == (
        "over Pillow's limit of 10,000 pixels, not decoded")
    assert reasons["broken.png"] == "cannot be decoded: image file is truncated"
    assert report.lines() == [
        f"Wrote 16 pictures from {folder} to {tmp_path / 'out.zip'}",
        ("Skipped 5 files: big.png (over Pillow's limit of 10,000 pixels, not decoded), "
         f"broken.png ({reasons['broken.png']}), fake.png (not a PNG, JPEG, BMP, GIF, WebP or "
         "TIFF picture) and 2 more"),
        "Dropped 1 exact duplicate: nested/copy_of_bmp.bmp (same as bmp.bmp)"]


def test_pictures_over_the_pixel_limit_are_never_decoded(folder, tmp_path, monkeypatch):
    folder, _ = folder
    decoded = []
    real_load = ImageFile.ImageFile.load

    def spying_load(image):
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    build_folder_zip(folder, tmp_path / "out.zip")
    assert decoded and (120, 100) not in decoded and (200, 200) not in decoded
    assert (128, 64) in decoded  # wide.png: decoding is seen


def test_the_same_folder_gives_the_same_file(folder, tmp_path):
    folder, _ = folder
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    build_folder_zip(folder, first)
    # a copy whose files were created in the opposite order: the walk sorts, not the disk
    copy = tmp_path / "copy"
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            target = copy / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    build_folder_zip(copy, second)
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
        assert one.read(FROG_MEMBER) == two.read(FROG_MEMBER)


def test_crop_none_squashes_the_whole_picture(tmp_path):
    folder = tmp_path / "wide"
    write(folder, "wide.png", wide_picture())
    output = tmp_path / "w.zip"
    build_folder_zip(folder, output, crop="none", minimum=1)
    picture = zip_pixels(output)[0].astype(int)
    # the left quarter survives, red; Lanczos rings by a level or two beside an edge
    assert np.abs(picture[:, :7] - (255, 0, 0)).max() <= 2
    assert np.abs(picture[:, 9:23] - (0, 255, 0)).max() <= 2
    assert np.abs(picture[:, 25:] - (0, 0, 255)).max() <= 2
    centre, _ = read_picture(folder / "wide.png")
    centre_is_green(centre.reshape(3, 32, 32).transpose(1, 2, 0))


def test_a_tall_picture_keeps_its_middle_rows(tmp_path):
    tall = np.zeros((96, 48, 3), np.uint8)
    tall[24:72] = (200, 100, 0)
    picture = to_side(Image.fromarray(tall))
    assert picture.size == (32, 32)
    assert (np.asarray(picture)[3:29] == (200, 100, 0)).all()


def test_a_cameras_orientation_is_applied(tmp_path):
    """A photo stored 64 wide and 32 high, tagged "rotate 90 degrees clockwise to view", is
    a tall picture whose stored left (black) half ends up on top."""
    pixels = np.zeros((32, 64, 3), np.uint8)
    pixels[:, 32:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    folder = tmp_path / "photos"
    write(folder, "photo.jpg", Image.fromarray(pixels), exif=exif, quality=95)
    row, reason = read_picture(folder / "photo.jpg", crop="none")
    assert reason is None
    picture = row.reshape(3, 32, 32).transpose(1, 2, 0).astype(int)
    assert picture[:12].max() < 40 and picture[20:].min() > 215  # black on top, white below


def test_output_inside_the_folder_is_not_read_back(tmp_path):
    folder = tmp_path / "mine"
    for level in range(BATCH):
        write(folder, f"{level:02}.png", solid((level, 0, 0)))
    output = folder / "my_pictures.zip"
    assert build_folder_zip(folder, output).skipped == ()
    report = build_folder_zip(folder, output)
    assert report.count == BATCH and report.skipped == ()


def test_pipes_and_dangling_links_are_skipped_not_waited_for(tmp_path):
    folder = tmp_path / "odd"
    for level in range(BATCH):
        write(folder, f"{level:02}.png", solid((0, level, 0)))
    os.mkfifo(folder / "pipe.png")
    os.symlink(folder / "gone.png", folder / "link.png")
    report = build_folder_zip(folder, tmp_path / "out.zip")
    assert report.count == BATCH
    assert report.skipped == (("link.png", "cannot be read: No such file or directory"),
                              ("pipe.png", "not a regular file"))


def test_no_progress_bar_off_a_terminal(tmp_path, capsys):
    folder = tmp_path / "quiet"
    for level in range(BATCH):
        write(folder, f"{level:02}.png", solid((0, 0, level)))
    report = build_folder_zip(folder, tmp_path / "out.zip")
    assert report == FolderReport(str(folder), str(tmp_path / "out.zip"), BATCH)
    assert capsys.readouterr() == ("", "")


# --- refusals: one line, nothing written ----------------------------------------------------

def refused(tmp_path, folder, **options):
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as caught:
        build_folder_zip(folder, tmp_path / "out.zip", **options)
    assert snapshot(tmp_path) == before
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_missing_folder(tmp_path):
    assert refused(tmp_path, tmp_path / "nope") == (
        f"no folder at '{tmp_path / 'nope'}': pass the folder that holds your pictures")


def test_a_file_instead_of_a_folder(tmp_path):
    path = write(tmp_path, "one.png", solid((1, 2, 3)))
    assert refused(tmp_path, path) == (
        f"'{path}' is a file, not a folder: pass the folder that holds your pictures")


def test_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    write(tmp_path, "empty/.hidden.png", solid((1, 2, 3)))
    assert refused(tmp_path, tmp_path / "empty") == (
        f"'{tmp_path / 'empty'}' holds no usable picture (it holds no files): put PNG, JPEG, "
        f"BMP, GIF, WebP or TIFF pictures in it")


def test_a_folder_of_no_pictures(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for name in ("a.txt", "b.heic", "c.doc", "d.md"):
        (folder / name).write_text("words")
    assert refused(tmp_path, folder) == (
        f"'{folder}' holds no usable picture (skipped 4 files: a.txt, b.heic, c.doc and 1 "
        f"more): put PNG, JPEG, BMP, GIF, WebP or TIFF pictures in it")


def test_fewer_pictures_than_one_batch(tmp_path):
    folder = tmp_path / "few"
    for level in range(BATCH - 2):
        write(folder, f"{level:02}.png", solid((level, level, 0)))
    shutil.copy(folder / "00.png", folder / "copy.png")
    (folder / "notes.txt").write_text("x")
    assert refused(tmp_path, folder) == (
        f"'{folder}' holds only 14 usable pictures (skipped 1 file: notes.txt; dropped 1 exact "
        f"duplicate), fewer than one training batch of 16: add at least 2 more")
    assert BATCH == 16  # read from StableRecipe: the message follows it


def test_one_picture_only_by_duplicates(tmp_path):
    folder = tmp_path / "same"
    for index in range(3):
        write(folder, f"{index}.png", solid((4, 4, 4)))
    assert refused(tmp_path, folder) == (
        f"'{folder}' holds only 1 usable picture (dropped 2 exact duplicates), fewer than one "
        f"training batch of 16: add at least 15 more")


def test_more_pictures_than_a_file_may_hold(tmp_path, monkeypatch):
    monkeypatch.setattr(picture_folder, "MAX_PICTURES", 3)
    folder = tmp_path / "many"
    for level in range(4):
        write(folder, f"{level}.png", solid((level, 9, 9)))
    assert refused(tmp_path, folder, minimum=1) == (
        f"'{folder}' holds more than 3 usable pictures, the most a pictures file may hold: "
        f"pass a folder of fewer")


def test_an_unwritable_output(tmp_path):
    folder = tmp_path / "ok"
    for level in range(BATCH):
        write(folder, f"{level:02}.png", solid((level, 1, 1)))
    output = tmp_path / "missing" / "out.zip"
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as caught:
        build_folder_zip(folder, output)
    assert str(caught.value) == (f"cannot write {output} (No such file or directory): check "
                                 f"that its folder exists and is writable")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("options, message", [
    ({"crop": "center"}, "crop must be one of ('centre', 'none'), got 'center'"),
    ({"minimum": 0}, "minimum must be at least 1, got 0")])
def test_bad_arguments_are_value_errors(tmp_path, options, message):
    with pytest.raises(ValueError) as caught:
        build_folder_zip(tmp_path, tmp_path / "out.zip", **options)
    assert str(caught.value) == message and not isinstance(caught.value, DataError)
