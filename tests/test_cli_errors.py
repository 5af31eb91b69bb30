"""One image decoder and one error style for every CLI path (issue 24, items 4-5).

A batch with a decompression bomb, a transparent PNG, a text file named .png, a folder and a missing path among
good files: the good ones are read, each bad one gets one line on stderr, exit code 1. The other exit codes:
0 when all files are read, 2 for a usage error before any file is read (reported once), 1 for --json all failed.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import struct
import subprocess
import sys
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkmath import InkmathError
from inkmath.cli import build_parser, main
from inkmath.weights import list_shipped

EXAMPLES = resources.files("inkmath.examples")
needs = pytest.mark.skipif(not {"mnist", "crohme"} <= set(list_shipped()), reason="needs the shipped weights")


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height grey pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def transparent_copy(src, dest: Path) -> Path:
    """Black ink on a transparent background: RGB all black, the ink only in the alpha channel."""
    grey = np.asarray(Image.open(src).convert("L"))
    rgba = np.zeros(grey.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - grey
    Image.fromarray(rgba, "RGBA").save(dest)
    return dest


@pytest.fixture()
def batch(tmp_path) -> dict[str, Path]:
    files = {
        "good": Path(shutil.copy(EXAMPLES / "equation_linear.png", tmp_path / "good.png")),
        "bomb": tmp_path / "bomb.png",
        "transparent": transparent_copy(EXAMPLES / "equation_linear.png", tmp_path / "transparent.png"),
        "text": tmp_path / "text.png",
        "folder": tmp_path / "folder",
        "missing": tmp_path / "missing.png",
        "good2": Path(shutil.copy(EXAMPLES / "equation_quadratic.png", tmp_path / "good2.png")),
    }
    files["bomb"].write_bytes(png_header_only(15000, 15000))
    files["text"].write_text("these are notes, not pixels\n")
    files["folder"].mkdir()
    return files


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inkmath", *args], capture_output=True, text=True, timeout=600)


# ------------------------------------------------------------------------------------------------ the batch
@needs
def test_recognize_batch_reads_the_good_files_and_gives_each_bad_one_one_line(batch):
    order = ["good", "bomb", "transparent", "text", "folder", "missing", "good2"]
    r = run("recognize", *[str(batch[k]) for k in order])
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "DecompressionBomb" not in r.stderr and "BytesIO" not in r.stderr
    out = r.stdout
    assert f"{batch['good']}: 3x+5=11" in out and f"{batch['good2']}: x^{{2}}-5x+6=0" in out
    assert f"{batch['transparent']}: 3x+5=11" in out  # black ink on transparent is ink, not "blank"
    lines = r.stderr.strip().splitlines()
    bad = ["bomb", "text", "folder", "missing"]
    assert len(lines) == len(bad), lines
    for key, line in zip(bad, lines):
        name = str(batch[key])
        assert line.startswith(f"{name}: ") and line.count(name) == 1 and "; " in line, line
    assert "225,000,000 pixels is too large" in lines[0] and "scale it down" in lines[0]
    assert "not a readable image" in lines[1]
    assert "is a folder" in lines[2] and "no such file" in lines[3]


@needs
def test_predict_batch_same_decoder_same_errors(batch, capsys):
    digits = [str(EXAMPLES / f"digit_{d}.png") for d in (3, 7, 9)]
    transparent = transparent_copy(EXAMPLES / "digit_9.png", batch["folder"].parent / "digit_t.png")
    bad = [str(batch[k]) for k in ("bomb", "text", "folder", "missing")]
    code = main(["predict", *digits, str(transparent), *bad, "--weights", "mnist", "--top", "2", "--json"])
    assert code == 1
    captured = capsys.readouterr()
    rows = [json.loads(x) for x in captured.out.splitlines()]
    assert [r["predictions"][0]["label"] for r in rows if "predictions" in r] == ["3", "7", "9", "9"]
    errors = {r["file"]: r["error"] for r in rows if "error" in r}
    assert list(errors) == bad and all(errors.values())
    err_lines = captured.err.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in err_lines] == bad
    assert all(e in line for e, line in zip(errors.values(), err_lines))  # the same message in both places
    assert "BytesIO" not in captured.out + captured.err


# ------------------------------------------------------------------------------------------------ exit codes
@needs
def test_exit_code_0_when_every_file_is_read(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich's width: file names then fit on one line
    digits = [str(EXAMPLES / f"digit_{d}.png") for d in (3, 7, 9)]
    assert main(["predict", *digits, "--top", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out
    assert "weights crohme" in out  # which weights answered
    firsts = [line.split("│")[1:4] for line in out.splitlines() if "digit_" in line]
    got = {Path(f.strip()).name: (rank.strip(), label.strip()) for f, rank, label in firsts}
    assert got == {f"digit_{d}.png": ("1", d) for d in "379"}  # the default weights read the digits as digits


def test_unknown_weights_is_a_usage_error_reported_once(batch, capsys):
    files = [str(batch["good"]), str(batch["good2"]), str(batch["missing"])]
    for command in (["recognize", *files, "--weights", "nosuch"], ["predict", *files, "--weights", "nosuch"]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Unknown weights 'nosuch'" in err[0], err


def test_bad_flag_is_exit_2():
    r = run("predict", "x.png", "--no-such-flag")
    assert r.returncode == 2 and "unrecognized arguments: --no-such-flag" in r.stderr
    with pytest.raises(SystemExit) as e:
        main(["predict", "x.png", "--top", "0"])
    assert e.value.code == 2


@needs
def test_json_all_failed_is_exit_1_with_error_objects(batch, capsys):
    bad = [str(batch[k]) for k in ("text", "missing")]
    assert main(["recognize", *bad, "--json"]) == 1
    captured = capsys.readouterr()
    rows = [json.loads(x) for x in captured.out.splitlines()]
    assert [r["file"] for r in rows] == bad and all(r["error"] for r in rows)
    assert len(captured.err.strip().splitlines()) == 2


def test_datasets_on_a_missing_folder_is_an_error(capsys):
    assert main(["datasets", "--data-dir", "/nonexistent/inkmath-data"]) == 2
    err = capsys.readouterr().err
    assert "/nonexistent/inkmath-data: no such folder" in err and "Data sets under" not in err


def test_serve_on_a_busy_port_says_use_port(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"port {port}" in err[0] and "--port" in err[0], err


# ------------------------------------------------------------------------------------------------ help
def test_every_command_and_option_has_help_and_states_defaults():
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command_help = {c.dest: c.help for c in sub._choices_actions}
    missing = []
    for name, p in sub.choices.items():
        if not command_help.get(name):
            missing.append(name)
        for a in p._actions:
            if not isinstance(a, argparse._HelpAction) and not a.help:
                missing.append(f"{name} {'/'.join(a.option_strings) or a.dest}")
        text = p.format_help()
        assert "(default: None)" not in text, name
        for a in p._actions:
            if a.option_strings and a.default not in (None, False, [], argparse.SUPPRESS):
                flag = a.option_strings[-1]
                options = text.split("\noptions:", 1)[1]
                block = options.split(f"  {a.option_strings[0]}", 1)[1].split("\n  -", 1)[0]
                assert "default" in " ".join(block.split()), (name, flag)
    assert not missing, missing


# ------------------------------------------------------------------------------------------------ the decoder
def test_decoder_flattens_alpha_applies_exif_and_names_the_file_once(tmp_path):
    import inkmath.data.images
    from inkmath.imageio import FileError, as_image, decode_image, read_image

    assert inkmath.data.images.decode_image is decode_image  # what the web app and the data readers call

    rgba = np.zeros((10, 30, 4), np.uint8)
    rgba[4:6, 5:25, 3] = 255  # a black bar on a transparent background
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    grey = decode_image(buf.getvalue(), "bar.png")
    assert grey.shape == (10, 30) and grey[5, 10] == 0 and grey[0, 0] == 255

    im = Image.fromarray(np.full((10, 30), 255, np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif)
    assert decode_image(buf.getvalue()).shape == (30, 10)

    with pytest.raises(FileError) as e:
        decode_image(b"not an image at all", "notes.png")
    assert str(e.value).count("notes.png") == 1 and "BytesIO" not in str(e.value) and "; " in str(e.value)
    with pytest.raises(FileError, match="is a folder"):
        read_image(tmp_path)
    with pytest.raises(FileError, match="no such file"):
        read_image(tmp_path / "nope.png")
    assert as_image(Image.fromarray(rgba, "RGBA")).shape == (10, 30)

    grey = np.full((10, 30), 240, np.uint8)
    grey[4:6, 5:25] = 90  # grey ink: a 16-bit PNG or a float TIFF keeps it (Pillow's own conversion clips it white)
    for deep, mode, fmt in ((grey.astype(np.uint16) * 257, None, "PNG"), (grey / np.float32(255), "F", "TIFF")):
        buf = io.BytesIO()
        Image.fromarray(deep, mode).save(buf, fmt)
        assert np.abs(decode_image(buf.getvalue()).astype(int) - grey).max() <= 1
    with pytest.raises(InkmathError, match="Cannot read an image from a dict"):
        as_image({"x": 1})


def test_prediction_table_prints_each_label_once_and_never_as_markup():
    from types import SimpleNamespace

    from rich.console import Console

    from inkmath.cli.symbols import prediction_table
    from inkmath.predict import Prediction

    pred = SimpleNamespace(vocab=[0] * 101, card={"name": "crohme"}, engine="torch")
    rows = [("a.png", [Prediction("\\lt", "<", 0.5), Prediction("9", "9", 0.4), Prediction("[", "[", 0.1)])]
    con = Console(width=100, record=True, file=io.StringIO())
    con.print(prediction_table(rows, pred))
    lines = [line for line in con.export_text().splitlines() if "│" in line]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert cells[0] == ["a.png", "1", "\\lt", "<", "0.500"]
    assert cells[1] == ["", "2", "9", "", "0.400"] and cells[2] == ["", "3", "[", "", "0.100"]


def test_a_broken_inkml_trace_names_the_file_once(tmp_path, capsys):
    """`recognize` on an InkML file with an unreadable or infinite trace: one line, the file named once (it was
    "bad.inkml: bad.inkml trace 0: ..."), and what to do."""
    ink = '<ink xmlns="http://www.w3.org/2003/InkML"><trace>{}</trace></ink>'
    letters = tmp_path / "letters.inkml"
    letters.write_text(ink.format("abc def, 1 2"))
    infinite = tmp_path / "infinite.inkml"
    infinite.write_text(ink.format("1 2, inf 3"))
    assert main(["recognize", str(letters), str(infinite), "--no-solve"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2, lines
    for path, line in zip((letters, infinite), lines):
        assert line.startswith(f"{path}: trace 0: ") and line.count(path.name) == 1 and "; " in line, line
    assert "cannot read the points" in lines[0] and "NaN or infinite" in lines[1]


@needs
def test_an_output_path_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path, capsys):
    """`--out`, `--result`, `--details` naming a folder (or a path through a file) ended in a traceback from
    os.replace naming the temporary file; now one line naming the path given, exit 2, and nothing left behind."""
    from inkmath.atomic import WriteError, atomic_write_text

    folder = tmp_path / "out"
    folder.mkdir()
    digit = str(EXAMPLES / "digit_3.png")
    for command in (["submit", "mnist", digit, "--out", str(folder)],
                    ["export-onnx", "mnist", "--out", str(folder), "--no-check"]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == f"error: {folder}: cannot write it (it is a folder); choose another path", err
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(WriteError) as e:
        atomic_write_text(a_file / "graph.svg", "<svg/>")
    assert str(e.value) == f"{a_file / 'graph.svg'}: cannot write it ({a_file} is a file, not a folder); choose another path"
    assert isinstance(e.value, OSError) and isinstance(e.value, InkmathError)


def test_page_mode_says_what_to_do_with_an_empty_file_and_an_inkml_file(tmp_path, capsys):
    """`recognize --page`: an empty file got "the file is empty (0 bytes)" without what to do, an .inkml file
    "not a readable image (unknown format)"; each line now says what to give."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    ink = tmp_path / "eq.inkml"
    ink.write_text('<ink xmlns="http://www.w3.org/2003/InkML"><trace>1 2, 3 4</trace></ink>')
    assert main(["recognize", "--page", str(empty), str(ink)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"{empty}: the file is empty (0 bytes); give a JPEG or PNG photo of the page",
                     f"{ink}: an InkML file is ink, not a photo of a page; read it without --page"], lines


def test_the_reader_commands_name_the_default_weights_they_use():
    """crohme-eval's --weights said "default: shipped" (four classifiers are shipped); it and recognize name the
    one the reader loads without --weights."""
    import argparse

    from inkmath.equation.recognize import DEFAULT_WEIGHTS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("recognize", "crohme-eval"):
        weights = next(a for a in sub.choices[command]._actions if "--weights" in a.option_strings)
        assert f"default: {DEFAULT_WEIGHTS}," in weights.help, (command, weights.help)


@needs
def test_an_output_folder_where_a_file_is_is_one_line_not_a_traceback(tmp_path, capsys):
    """report --out, train --out, recognize --page --debug-dir naming a file ended in FileExistsError or
    NotADirectoryError from mkdir; the command now prints one line naming the path, exit 2."""
    from inkmath.cli.common import os_error_line

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    page = Path(__file__).parent / "fixtures" / "page_photo.jpg"
    assert main(["recognize", "--page", str(page), "--debug-dir", str(a_file), "--no-solve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {a_file / 'page_photo'}: Not a directory (a file is where a folder is needed); "
                   "check the path, or give another one"], err
    assert os_error_line(FileExistsError(17, "File exists", "out")) == \
        "out: File exists (a file is where a folder is needed); check the path, or give another one"
    assert os_error_line(OSError("disk on fire")) == "disk on fire; check the paths given"


def test_recognize_refuses_a_plot_file_that_is_one_of_its_inputs(tmp_path, capsys):
    """`recognize eq.png --plot eq.png` wrote the graph over the picture it had just read (and a second file's
    graph could land on another input, eq-1.svg); it is now a usage error and the input is left as it was."""
    picture = Path(shutil.copy(EXAMPLES / "equation_quadratic.png", tmp_path / "eq.png"))
    before = picture.read_bytes()
    assert main(["recognize", str(picture), "--plot", str(picture)]) == 2
    assert "would write a graph over the input" in capsys.readouterr().err
    svg = tmp_path / "g-2.svg"
    svg.write_text("<svg/>")  # read as an input (and refused as an unsupported type), but never overwritten
    assert main(["recognize", str(picture), str(svg), "--plot", str(tmp_path / "g.svg")]) == 2
    assert picture.read_bytes() == before and svg.read_text() == "<svg/>"


def test_recognize_no_solve_with_steps_or_plot_is_a_usage_error(tmp_path, capsys):
    """--no-solve with --steps or --plot printed the LaTeX alone, exit 0: no steps, no graph, no word why."""
    picture = str(EXAMPLES / "equation_quadratic.png")
    for extra in (["--steps"], ["--plot", str(tmp_path / "g.svg")]):
        assert main(["recognize", picture, "--no-solve", *extra]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "drop them or --no-solve" in captured.err
    assert not (tmp_path / "g.svg").exists()


def test_download_takes_the_data_dir_its_help_names_and_no_negative_retries(capsys):
    """download's help gave --dest's default as "--data-dir / $INKMATH_DATA", but --data-dir was an unknown flag;
    --retries -1 made no attempt at all and ended in a missing .part file."""
    args = build_parser("download").parse_args(["download", "mnist", "--data-dir", "/some/where"])
    assert args.dest == "/some/where"
    with pytest.raises(SystemExit) as e:
        main(["download", "mnist", "--retries", "-1"])
    assert e.value.code == 2 and "argument --retries: -1 must be 0 or more" in capsys.readouterr().err
    assert build_parser("download").parse_args(["download", "mnist", "--retries", "0"]).retries == 0


def test_serve_refuses_ports_that_do_not_exist_and_zero_processes(capsys):
    """serve --port 70000 started, and uvicorn said it ran on http://127.0.0.1:70000; --port -5 was blamed on the
    host ("not an address of this machine"); --workers 0 and --threads 0 were taken. Each is now a usage error."""
    for option, value, words in (("--port", "70000", "70000 is not a port: give 0-65535"),
                                 ("--port", "-5", "-5 is not a port: give 0-65535"),
                                 ("--workers", "0", "0 must be 1 or more"), ("--threads", "0", "0 must be 1 or more")):
        with pytest.raises(SystemExit) as e:
            main(["serve", option, value])
        assert e.value.code == 2 and f"argument {option}: {words}" in capsys.readouterr().err
    assert build_parser("serve").parse_args(["serve", "--port", "0"]).port == 0


def test_a_folder_as_plot_is_a_usage_error_before_any_work(tmp_path, capsys, monkeypatch):
    """`solve "x^2=4" --plot out/` (an existing folder) solved the problem, then failed to write the graph: exit 1,
    the folder named as a file it could not write; with several problems the graphs went beside the folder
    (out-1.svg). A folder there is now a usage error: exit 2, one line saying what to give, before any work."""
    import io

    folder = tmp_path / "out"
    folder.mkdir()
    picture = str(EXAMPLES / "equation_quadratic.png")
    stdin = io.StringIO("x=1\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    for command in (["solve", "x^2=4"], ["solve", "x^2=4", "x=1"], ["solve", "-"], ["recognize", picture],
                    ["recognize", picture, "--json"]):
        assert main([*command, "--plot", str(folder)]) == 2, command
        captured = capsys.readouterr()
        assert captured.out == "", command
        assert captured.err.splitlines() == [f"error: --plot needs a file name such as {folder / 'graph.svg'}, "
                                             f"not the folder {folder}"], command
    assert stdin.tell() == 0  # no problem was read
    assert list(tmp_path.iterdir()) == [folder] and not any(folder.iterdir())  # no graph written anywhere
    r = subprocess.run([sys.executable, "-m", "inkmath", "solve", "--no-daemon", "x^2=4", "--plot", str(folder)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
