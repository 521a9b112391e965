"""Bad inputs end to end: each mistake or hostile file exits 2 with one line, changing nothing.

Every case runs the command line (``gan_demo.commands.main`` through click's CliRunner) from an
empty working folder inside ``tmp_path`` and snapshots the whole ``tmp_path`` tree (names,
sizes, modification times) before and after: a refused run may not leave an output folder, a
temporary file or a half-written file anywhere.
"""

import json
import os
import shlex
import shutil
import struct
import tracemalloc
import zipfile
import zlib
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner

from gan_demo.commands import main
from kerasutil.data import FROG_COUNT, FROG_MEMBER, IMAGE_SIZE
from tests.conftest import remount_read_only, snapshot
from tests.frog_files import set_declared_size, write_cifar_tar, write_frog_zip

FROG_BYTES = FROG_COUNT * IMAGE_SIZE * 4  # 61,440,000
REBUILD = "rebuild it with `python -m gan_demo make-data`"
GET_ARCHIVE = ("download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
               "and pass it with `python -m gan_demo make-data --cifar PATH`")
# narrow networks and no training: only the refusal is under test
TINY = ["--width", "16", "--epochs", "0"]


# -- helpers ----------------------------------------------------------------------------------

def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def assert_refused(result, message, stdout=""):
    """Exit code 2, and stderr is exactly the one line "Error: {message}"."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == stdout


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working folder inside tmp_path: relative defaults (images/, frogs.png) land
    where the snapshot sees them."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def write_bin(path, values):
    path.write_bytes(np.asarray(values, dtype="<f4").tobytes())
    return path


def write_zip64_declaring(path, size, payload=bytes(4096)):
    """A small zip whose central directory declares ``size`` bytes (zip64) for FROG_MEMBER."""
    with mock.patch.object(zipfile, "ZIP64_LIMIT", 0):  # every entry gets zip64 size fields
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(FROG_MEMBER, payload)
    raw = bytearray(path.read_bytes())
    entry = raw.find(b"PK\x01\x02")
    name_length = struct.unpack_from("<H", raw, entry + 28)[0]
    extra = entry + 46 + name_length
    assert struct.unpack_from("<H", raw, extra)[0] == 1  # the zip64 extra field
    struct.pack_into("<Q", raw, extra + 4, size)  # its uncompressed size comes first
    path.write_bytes(bytes(raw))
    return path


# -- the frog data ----------------------------------------------------------------------------

def test_a_missing_frog_zip(work, tmp_path):
    before = snapshot(tmp_path)
    result = invoke("--data", "frog_pictures.zip", *TINY)  # the default output, images/
    assert_refused(result, "frog_pictures.zip not found at 'frog_pictures.zip': build it from "
                           "CIFAR-10 with `python -m gan_demo make-data` (or pass --data PATH to "
                           "your copy)", stdout="Loading data files...\n")
    assert snapshot(tmp_path) == before
    assert not (work / "images").exists()


def test_a_refused_run_keeps_an_output_folder_that_existed_before(work, tmp_path):
    (work / "mine").mkdir()
    before = snapshot(tmp_path)
    result = invoke("--data", "nothing.zip", "--output", "mine", *TINY)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no pictures file at 'nothing.zip'")
    assert snapshot(tmp_path) == before  # the user's empty folder stays


def _not_a_zip(folder):
    path = folder / "frog_pictures.zip"
    path.write_bytes(b"these are not the frogs you are looking for\n" * 100)
    return path, (f"{path} is not a zip file: pass a pictures zip (like frog_pictures.zip) or "
                  f"the unpacked {FROG_MEMBER}, or {REBUILD}")


def _no_member(folder):
    path = write_frog_zip(folder / "frog_pictures.zip", np.zeros((1, 8)), member="frogs.bin")
    return path, (f"{path} has no {FROG_MEMBER} (it holds frogs.bin): pass a pictures zip "
                  f"(like the tutorial's frog_pictures.zip), or {REBUILD}")


# Any whole number of pictures loads (the count comes from the file): a short or long file is
# one whose size is not a whole number of 32x32x3 float32 pictures.
def _short_member(folder):
    path = write_frog_zip(folder / "frog_pictures.zip", np.zeros(FROG_COUNT * IMAGE_SIZE - 1),
                          compression=zipfile.ZIP_DEFLATED)
    return path, (f"{path}: {FROG_MEMBER} declares 61,439,996 bytes, not a whole number of "
                  f"32x32x3 float32 pictures (12,288 bytes each); {REBUILD}")


def _short_bin(folder):
    path = write_bin(folder / "x.bin", np.zeros(100 * IMAGE_SIZE - 1))
    return path, (f"{path} holds 1,228,796 bytes, not a whole number of 32x32x3 float32 "
                  f"pictures (12,288 bytes each); {REBUILD}")


def _long_bin(folder):
    path = write_bin(folder / "x.bin", np.zeros(FROG_COUNT * IMAGE_SIZE + 1))
    return path, (f"{path} holds 61,440,004 bytes, not a whole number of 32x32x3 float32 "
                  f"pictures (12,288 bytes each); {REBUILD}")


def _bad_values(value, bare=False):
    def make(folder):
        pixels = np.zeros((FROG_COUNT, IMAGE_SIZE), np.float32)
        pixels[0, 0] = pixels[4999, 3071] = value
        if bare:
            path = write_bin(folder / "x_channels_first_8_5.bin", pixels)
        else:
            path = write_frog_zip(folder / "frog_pictures.zip", pixels,
                                  compression=zipfile.ZIP_DEFLATED)
        return path, (f"{path}: 2 of 15,360,000 values are NaN, infinite or outside [0, 1], but "
                      f"the file should hold pixel/255; {REBUILD}")
    return make


@pytest.mark.parametrize("make", [
    _not_a_zip, _no_member, _short_member, _short_bin, _long_bin,
    _bad_values(np.nan), _bad_values(np.inf), _bad_values(-np.inf), _bad_values(1.5),
    _bad_values(-0.1), _bad_values(np.nan, bare=True),
], ids=["not-a-zip", "no-member", "short-member", "short-bin", "long-bin", "nan", "inf", "-inf",
        "1.5", "-0.1", "nan-bin"])
def test_a_bad_frog_file_is_refused_and_no_output_folder_is_left(make, work, tmp_path):
    data_folder = tmp_path / "data"
    data_folder.mkdir()
    data, message = make(data_folder)
    before = snapshot(tmp_path)
    result = invoke("--data", data, "--output", tmp_path / "out", *TINY)
    assert_refused(result, message, stdout="Loading data files...\n")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("declared", [4_000_000_000, 10**12])
def test_a_zip_bomb_by_declared_size_is_refused_before_reading(declared, work, tmp_path,
                                                                monkeypatch):
    bomb = tmp_path / "frog_pictures.zip"
    if declared < 2**32:
        write_frog_zip(bomb, np.zeros((1, IMAGE_SIZE)))
        set_declared_size(bomb, declared)
    else:
        write_zip64_declaring(bomb, declared)
    with zipfile.ZipFile(bomb) as archive:  # the forged header is what zipfile believes
        assert archive.getinfo(FROG_MEMBER).file_size == declared
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *args, **kwargs: opened.append(args))
    before = snapshot(tmp_path)
    result = invoke("--data", bomb, "--output", tmp_path / "out", *TINY)
    assert_refused(result, f"{bomb}: {FROG_MEMBER} declares {declared:,} bytes, more than the "
                           f"100,000 pictures (1,228,800,000 bytes) a pictures file may hold; "
                           f"{REBUILD}",
                   stdout="Loading data files...\n")
    assert opened == []  # not one byte decompressed
    assert snapshot(tmp_path) == before


def _lying_zip(path, forge_crc):
    """A deflated member of 1 GiB of zeros (5 MB on disk) whose header declares 61,440,000
    bytes; with forge_crc, the header's CRC is that of the first 61,440,000 bytes too."""
    chunk = bytes(1 << 24)
    # the fastest compression level: it deflates the 1 GiB in a second, not five
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(FROG_MEMBER, "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(chunk)
    set_declared_size(path, FROG_BYTES)
    if forge_crc:
        raw = bytearray(path.read_bytes())
        entry = raw.find(b"PK\x01\x02")
        struct.pack_into("<I", raw, entry + 16, zlib.crc32(bytes(FROG_BYTES)))
        path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(FROG_MEMBER).file_size == FROG_BYTES
    return path


@pytest.mark.parametrize("forge_crc", [False, True], ids=["honest-crc", "forged-crc"])
def test_a_member_really_larger_than_declared_is_refused_with_bounded_reads(
        forge_crc, work, tmp_path, monkeypatch):
    lying = _lying_zip(tmp_path / "frog_pictures.zip", forge_crc)
    reads = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        reads.append((n, len(data)))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    before = snapshot(tmp_path)
    tracemalloc.start()
    try:
        result = invoke("--data", lying, "--output", tmp_path / "out", *TINY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(0 <= n <= FROG_BYTES + 1 for n, _ in reads)  # never an unbounded read()
    assert sum(size for _, size in reads) <= FROG_BYTES + 1
    assert peak < 4 * FROG_BYTES  # far below the 1 GiB the member really holds
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {lying}")
    assert result.stderr.endswith(f"; {REBUILD}\n") and result.stderr.count("\n") == 1
    assert_refused(result, f"{lying}: {FROG_MEMBER} really holds more than the 61,440,000 bytes "
                           f"it declares; {REBUILD}", stdout="Loading data files...\n")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["parent", "absolute"])
def test_a_member_named_outside_the_folder_is_never_extracted(where, work, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    name = (f"../{FROG_MEMBER}" if where == "parent" else str(elsewhere / FROG_MEMBER))
    data = tmp_path / "data" / "frog_pictures.zip"
    data.parent.mkdir()
    # a complete, valid payload: only the name is wrong
    write_frog_zip(data, np.zeros((FROG_COUNT, IMAGE_SIZE)), member=name,
                   compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(data) as archive:
        assert archive.namelist() == [name]  # zipfile keeps the hostile name as it is
    output = tmp_path / "data" / "out"
    before = snapshot(tmp_path)
    result = invoke("--data", data, "--output", output, *TINY)
    assert_refused(result, f"{data} has no {FROG_MEMBER} (it holds {name}): pass a pictures zip "
                           f"(like the tutorial's frog_pictures.zip), or {REBUILD}",
                   stdout="Loading data files...\n")
    assert snapshot(tmp_path) == before
    assert not output.exists()
    assert not (tmp_path / FROG_MEMBER).exists() and not (elsewhere / FROG_MEMBER).exists()


# -- make-data with a hostile CIFAR-10 archive ------------------------------------------------

class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


class _OpensAFile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.mark.parametrize("payload, refused_global", [
    (_RunsACommand, "posix.system"), (_OpensAFile, "io.open")], ids=["os.system", "open"])
def test_make_data_never_runs_code_from_a_pickle(payload, refused_global, work, tmp_path):
    import pickle

    marker = tmp_path / "marker"
    hostile = pickle.dumps(payload(marker), protocol=3)
    frogs = (np.zeros((2, IMAGE_SIZE), np.uint8), [6, 6])
    archive = write_cifar_tar(tmp_path / "cifar-10-python.tar.gz", [frogs] * 5, members={
        "cifar-10-batches-py/data_batch_1": hostile,
        "cifar-10-batches-py/batches.meta": hostile})  # never needed, never unpickled
    target = tmp_path / "frog_pictures.zip"
    before = snapshot(tmp_path)
    result = invoke("make-data", "--cifar", archive, "--output", target)
    assert_refused(result, f"{archive} (cifar-10-batches-py/data_batch_1) is not a safe CIFAR-10 "
                           f"batch pickle (refusing to load the global {refused_global}): "
                           f"{GET_ARCHIVE}",
                   stdout=f"Building {target} from {archive}...\n")
    assert not marker.exists()
    assert snapshot(tmp_path) == before  # no frog_pictures.zip, no temporary file
    # the marker would have shown it: a plain unpickler runs the payload
    pickle.loads(hostile)
    assert marker.exists()


# -- bad option values ------------------------------------------------------------------------

CLICK_CASES = [
    (["--batch-size", "0"], "Invalid value for '--batch-size': 0 is not in the range x>=1."),
    (["--batch-size", "-3"], "Invalid value for '--batch-size': -3 is not in the range x>=1."),
    (["--epochs", "-1"], "Invalid value for '--epochs': -1 is not in the range x>=0."),
    (["--width", "0"], "Invalid value for '--width': 0 is not in the range x>=2."),
    (["--save-every", "0"], "Invalid value for '--save-every': 0 is not in the range x>=1."),
    (["--output", "{file}"], "Invalid value for '--output': Directory '{file}' is a file."),
]
CLICK_IDS = ["batch-size-0", "batch-size--3", "epochs--1", "width-0", "save-every-0",
             "output-is-a-file"]


def _bad_option(args, message, tmp_path, frog_zip):
    existing = tmp_path / "work" / "notes.txt"
    existing.write_text("a file, not a folder\n")
    args = [arg.format(file=existing) for arg in args]
    before = snapshot(tmp_path, frog_zip.parent)
    result = invoke("--data", frog_zip, *args)  # the default --output: images/ in work/
    assert snapshot(tmp_path, frog_zip.parent) == before
    assert not (tmp_path / "work" / "images").exists()
    return result, message.format(file=existing)


@pytest.mark.parametrize("args, message", CLICK_CASES, ids=CLICK_IDS)
def test_a_bad_option_value_is_refused_naming_the_option(args, message, work, tmp_path,
                                                         frog_zip):
    result, message = _bad_option(args, message, tmp_path, frog_zip)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert result.stdout == ""


@pytest.mark.parametrize("args, message", CLICK_CASES, ids=CLICK_IDS)
def test_a_bad_option_value_prints_one_line(args, message, work, tmp_path, frog_zip):
    result, message = _bad_option(args, message, tmp_path, frog_zip)
    assert_refused(result, message)


@pytest.mark.parametrize("args, message", [
    (["--width", "15"], "--width 15 must be even: the discriminator gets half of it"),
    (["--recipe", "stable", "--width", "15"],
     "--width 15 must be even: DCGAN's generator ends at half of it"),
], ids=["tutorial", "stable"])
def test_an_odd_width_is_refused(args, message, work, tmp_path, frog_zip):
    result, message = _bad_option(args, message, tmp_path, frog_zip)
    assert_refused(result, message)


@pytest.mark.parametrize("inside", [True, False], ids=["folder-in-read-only", "read-only-folder"])
def test_an_output_on_a_read_only_file_system_is_refused(inside, work, tmp_path, tmpfs,
                                                         frog_zip):
    read_only = tmpfs(tmp_path / "read-only", size="1m")
    remount_read_only(read_only)
    output = read_only / "out" if inside else read_only
    before = snapshot(tmp_path, frog_zip.parent)
    result = invoke("--data", frog_zip, "--output", output, *TINY)
    assert_refused(result, f"--output '{output}' cannot be created: Read-only file system; "
                           f"choose a folder you can write to" if inside else
                           f"--output '{output}' is not writable; choose a folder you can "
                           f"write to")
    assert snapshot(tmp_path, frog_zip.parent) == before


# -- checkpoints and generators from elsewhere ------------------------------------------------

@pytest.fixture(scope="module")
def width_16_run(tmp_path_factory, frog_zip):
    """The output folder of a one-epoch --width 16 run."""
    output = tmp_path_factory.mktemp("width_16") / "out"
    result = invoke("--data", frog_zip, "--output", output, "--width", "16", "--epochs", "1",
                    "--seed", "0")
    assert result.exit_code == 0, result.output
    return output


def test_resuming_with_another_width_is_refused(width_16_run, work, tmp_path, frog_zip):
    output = tmp_path / "out"
    shutil.copytree(width_16_run, output)
    before = snapshot(tmp_path, frog_zip.parent)
    result = invoke("--data", frog_zip, "--output", output, "--resume", "--width", "32",
                    "--epochs", "5")
    assert_refused(result, f"the run in '{output}' was trained with --width 16, not 32: drop "
                           f"--width to resume it")
    assert snapshot(tmp_path, frog_zip.parent) == before


def test_generate_refuses_a_checkpoint_whose_settings_lie_about_its_width(width_16_run, work,
                                                                          tmp_path):
    with np.load(width_16_run / "checkpoint.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    settings = json.loads(str(arrays["settings"]))
    assert settings["width"] == 16
    arrays["settings"] = np.array(json.dumps({**settings, "width": 32}))
    forged = tmp_path / "checkpoint.npz"
    np.savez(forged, **arrays)
    before = snapshot(tmp_path)
    result = invoke("generate", "--checkpoint", forged, "--seed", "0")
    assert_refused(result, f"{forged} holds a generator of another shape (width 32): resume "
                           f"with the same --width, or start a fresh --output")
    assert snapshot(tmp_path) == before  # no frogs.png in work/


def test_generate_refuses_a_keras_file_with_a_lambda_layer(work, tmp_path):
    import keras

    marker = tmp_path / "lambda-ran"
    inputs = keras.Input((32,))
    pixels = keras.layers.Reshape((32, 32, 3))(keras.layers.Dense(32 * 32 * 3)(inputs))
    # the lambda leaves a mark wherever Keras rebuilds the model from the file (the path is a
    # constant in its code: Keras cannot load a lambda's default arguments back)
    mark = eval(f"lambda x: (open({str(marker)!r}, 'a').close(), x)[1]")
    touched = keras.layers.Lambda(mark)(pixels)
    hostile = tmp_path / "generator.keras"
    keras.Model(inputs, touched).save(hostile)
    marker.unlink()  # building the model above ran it once, here
    before = snapshot(tmp_path)
    result = invoke("generate", "--checkpoint", hostile, "--seed", "0")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    prefix = f"Error: {hostile} cannot be loaded as a Keras model in safe mode (Requested the " \
             f"deserialization of a `Lambda` layer whose `function` is a Python lambda."
    suffix = "); pass the generator.keras or checkpoint.npz a run saved\n"
    assert result.stderr.startswith(prefix) and result.stderr.endswith(suffix)
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert not marker.exists()  # the lambda never ran
    assert snapshot(tmp_path) == before
    # the marker would have shown it: outside safe mode, loading runs the lambda
    keras.models.load_model(hostile, compile=False, safe_mode=False)
    assert marker.exists()
