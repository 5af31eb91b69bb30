"""CROHME InkML / WAP readers, the crohme: symbol data set and the benchmark harness.

Tiny real-format fixtures are written by the tests (InkML as the official writers produce it, a malformed file,
a 0-byte file, .tar.xz archives with the official folder names); a few tests read the real archives.
"""

import io
import os
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.data import load_dataset
from inkmath.data import crohme
from inkmath.evaluation.crohme import detect_kind, evaluate_crohme
from inkmath.equation.core.tree import Box, Candidate, SymbolHyp

REAL = Path(os.environ.get("INKMATH_DATA", "data")) / "crohme"

# "x^2 = 1" as written by the CROHME 2013/2014 tools: namespaces, "x y" points, MathML, a segmentation block.
INKML_XY = """<ink xmlns="http://www.w3.org/2003/InkML">
<traceFormat><channel name="X" type="decimal"/><channel name="Y" type="decimal"/></traceFormat>
<annotation type="UI">fixture_xy</annotation>
<annotation type="truth">$x^2=1$</annotation>
<annotationXML type="truth" encoding="Content-MathML">
  <math xmlns='http://www.w3.org/1998/Math/MathML'><mrow><msup><mi xml:id="x_1">x</mi><mn xml:id="2_1">2</mn>
  </msup><mrow><mo xml:id="=_1">=</mo><mn xml:id="1_1">1</mn></mrow></mrow></math>
</annotationXML>
<trace id="0">
10 10, 20 20, 30 30
</trace>
<trace id="1">30 10, 20 20, 10 30</trace>
<trace id="2">32 2, 36 0, 38 4, 32 10, 38 10,</trace>
<trace id="3">50 15, 70 15</trace>
<trace id="4">50 25, 70 25</trace>
<trace id="5">
90 10, 90 30
</trace>
<traceGroup xml:id="6">
  <annotation type="truth">Segmentation</annotation>
  <traceGroup xml:id="7"><annotation type="truth">x</annotation>
    <traceView traceDataRef="0"/><traceView traceDataRef="1"/><annotationXML href="x_1"/></traceGroup>
  <traceGroup xml:id="8"><annotation type="truth">2</annotation>
    <traceView traceDataRef="2"/><annotationXML href="2_1"/></traceGroup>
  <traceGroup xml:id="9"><annotation type="truth">=</annotation>
    <traceView traceDataRef="3"/><traceView traceDataRef="4"/><annotationXML href="=_1"/></traceGroup>
  <traceGroup xml:id="10"><annotation type="truth">1</annotation>
    <traceView traceDataRef="5"/><annotationXML href="1_1"/></traceGroup>
</traceGroup>
</ink>
"""

# "a < b" as MfrDB writes it: an XML declaration, x y t points, MathBrush-style ids, a '<' label spelled raw.
INKML_XYT = """<?xml version="1.0" encoding="utf-8"?>
<ink xmlns="http://www.w3.org/2003/InkML">
  <traceFormat><channel name="X" type="decimal" /><channel name="Y" type="decimal" />
    <channel name="T" type="decimal" /></traceFormat>
  <annotation type="truth">$a \\lt b$</annotation>
  <trace id="0">100 200 5000, 110 190 5010, 120 200 5020, 110 210 5030, 100 200 5040</trace>
  <trace id="1">150 190 6000, 130 200 6010, 150 210 6020</trace>
  <trace id="2">170 170 7000, 170 210 7010, 185 200 7020, 170 195 7030</trace>
  <trace id="3">200 200 8000</trace>
  <traceGroup xml:id="9">
    <annotation type="truth">Segmentation</annotation>
    <traceGroup xml:id="0:"><annotation type="truth">a</annotation><traceView traceDataRef="0" /></traceGroup>
    <traceGroup xml:id="1:"><annotation type="truth">&lt;</annotation><traceView traceDataRef="1" /></traceGroup>
    <traceGroup xml:id="2:"><annotation type="truth">b</annotation><traceView traceDataRef="2" /></traceGroup>
    <traceGroup xml:id="3:"><annotation type="truth">\\bullet</annotation><traceView traceDataRef="3" /></traceGroup>
  </traceGroup>
</ink>
"""

BROKEN = (b'<ink xmlns="http://www.w3.org/2003/InkML">\n<annotation type="truth">$a \\c\xffdot b$</annotation>\n'
          b'<trace id="0">1 2, 3 4</trace>\n<ink')


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def make_archive(path: Path, folder: str, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:xz") as tf:
        for name, data in files.items():
            _add(tf, f"CROHME_labeled_2016/{folder}/{name}", data)
    return path


FIXTURES = {"a.inkml": INKML_XY.encode(), "b.inkml": INKML_XYT.encode(), "broken.inkml": BROKEN,
            "empty.inkml": b"", "listTestInkml.txt": b"a.inkml\n"}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "crohme").mkdir()
    make_archive(tmp_path / "crohme" / "crohme2014_test_inkml.tar.xz", "TestEM2014GT", FIXTURES)
    return tmp_path


# ---------------------------------------------------------------------------------------------- InkML
def test_read_inkml_xy_format():
    e = crohme.read_inkml(INKML_XY.encode(), "dir/fixture_xy.inkml")
    assert e.id == "fixture_xy" and e.latex_truth == "$x^2=1$"
    assert len(e.strokes) == 6 and e.strokes[0].shape == (3, 2) and e.strokes[2].shape == (5, 2)  # trailing comma
    assert [g.label for g in e.groups] == ["x", "2", "=", "1"]
    assert [g.stroke_ids for g in e.groups] == [[0, 1], [2], [3, 4], [5]]
    assert e.groups[0].href == "x_1" and e.groups[0].xml_id == "7"
    assert "<math" in e.mathml and "msup" in e.mathml


def test_read_inkml_xyt_format_and_label_normalisation(tmp_path):
    p = tmp_path / "b.inkml"
    p.write_text(INKML_XYT, encoding="utf-8")
    e = crohme.read_inkml(p)
    assert e.id == "b" and e.mathml is None
    assert np.array_equal(e.strokes[3], [[200.0, 200.0]])  # time dropped
    assert [crohme.normalize_label(g.label) for g in e.groups] == ["a", "\\lt", "b", None]


def _with_traces(fixture: str, traces: list[str], channels: str | None = None) -> bytes:
    """INKML_XY with its traces' text replaced (and its traceFormat's channels, when given)."""
    import re

    out = fixture
    for k, text in enumerate(traces):
        out = re.sub(rf'(<trace id="{k}">)(.*?)(</trace>)', lambda m: m.group(1) + text + m.group(3), out, flags=re.S)
    if channels is not None:
        out = re.sub(r"<traceFormat>.*?</traceFormat>", channels, out, flags=re.S)
    return out.encode()


def test_read_inkml_difference_orders_channel_order_and_other_point_layouts():
    """InkML's trace grammar beyond 'x y, x y': ' (first) and \" (second) differences held per channel until
    changed, ! explicit, * the last value, a sign or #hex; X and Y where the traceFormat puts them; points without
    commas cut by the channel count; 'x,y x,y' pairs. Each reads the strokes of the plain fixture."""
    plain = crohme.read_inkml(INKML_XY.encode(), "plain.inkml").strokes
    differenced = ["10 10, '10 '10, \"0 \"0", "30 10, '-10 '+10, -10 10", "#20 2, '4 '-2, 2 4, !32 !10, '6 *",
                   "50 15, '20 '0", "50 25, !70 25", "90 10, '0 '20"]
    e = crohme.read_inkml(_with_traces(INKML_XY, differenced), "differenced.inkml")
    assert all(np.array_equal(a, b) for a, b in zip(e.strokes, plain)) and len(e.strokes) == len(plain)
    tyx = '<traceFormat><channel name="T"/><channel name="Y"/><channel name="X"/></traceFormat>'
    swapped = [", ".join(f"{7 * n} {y:g} {x:g}" for n, (x, y) in enumerate(s)) for s in plain]
    e = crohme.read_inkml(_with_traces(INKML_XY, swapped, tyx), "tyx.inkml")
    assert all(np.array_equal(a, b) for a, b in zip(e.strokes, plain))
    no_commas = [" ".join(f"{x:g} {y:g}" for x, y in s) for s in plain]
    e = crohme.read_inkml(_with_traces(INKML_XY, no_commas), "no_commas.inkml")
    assert all(np.array_equal(a, b) for a, b in zip(e.strokes, plain))
    pairs = [" ".join(f"{x:g},{y:g}" for x, y in s) for s in plain]
    e = crohme.read_inkml(_with_traces(INKML_XY, pairs), "pairs.inkml")
    assert all(np.array_equal(a, b) for a, b in zip(e.strokes, plain))


@pytest.mark.parametrize("text, needle", [("10 20, 'x 3", "unexpected 'x'"), ("? 3, 1 2", "first point"),
                                          ("10 20, 30", "fewer than 2 values"), ("10 20, 'nan 3", "unexpected")])
def test_unreadable_trace_values_name_the_trace(text, needle):
    with pytest.raises(InkmathError, match=rf"bad.inkml: trace 0: cannot read the points \(.*{needle}"):
        crohme.read_inkml(_with_traces(INKML_XY, [text]), "bad.inkml")


def test_read_inkml_traces_written_inside_trace_groups():
    """InkML lets a file nest its traces in traceGroups rather than refer to them by traceViews (other tools than
    CROHME's write it so); they were not read ("no <trace> elements")."""
    data = b"""<ink xmlns="http://www.w3.org/2003/InkML">
      <traceGroup>
        <traceGroup><annotation type="truth">x</annotation>
          <trace>10 10, 30 30</trace><trace>10 30, 30 10</trace></traceGroup>
        <traceGroup><annotation type="truth">1</annotation><trace>50 10, 50 30</trace></traceGroup>
      </traceGroup>
    </ink>"""
    e = crohme.read_inkml(data, "nested.inkml")
    assert len(e.strokes) == 3 and np.array_equal(e.strokes[2], [[50.0, 10.0], [50.0, 30.0]])
    assert [(g.label, g.stroke_ids) for g in e.groups] == [("x", [0, 1]), ("1", [2])]


@pytest.mark.parametrize("data,needle", [(b"", "empty"), (b"   \n", "empty"), (BROKEN, "well-formed"),
                                         (b"<svg/>", "not <ink>"), (b"<ink><trace>1 x, 2 3</trace></ink>", "points"),
                                         (b"<ink></ink>", "no <trace>")])
def test_broken_files_raise_clear_errors(data, needle):
    with pytest.raises(InkmathError, match=needle):
        crohme.read_inkml(data, "f.inkml")


@pytest.mark.parametrize("text,needle", [("<trace>1 2, 3</trace>", "trace 0: cannot read the points"),
                                         ("", "no <trace> elements"), ("<trace>1 2", "well-formed")])
def test_recognize_names_a_broken_inkml_file_once(tmp_path, text, needle):
    """``inkmath recognize`` gives a broken InkML file one line naming it once, as it does a broken image (before, a
    trace it could not read named the file twice: 'F: F trace 0: ...')."""
    from inkmath.equation.inputs import load_input
    from inkmath.imageio import FileError

    path = tmp_path / "bad.inkml"
    path.write_text(f'<ink xmlns="http://www.w3.org/2003/InkML">{text}</ink>' if "well" not in needle else text)
    with pytest.raises(FileError) as e:
        load_input(path)
    assert str(e.value).count("bad.inkml") == 1 and needle in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_missing_trace_reference_is_an_error():
    bad = INKML_XY.replace('traceDataRef="5"', 'traceDataRef="55"')
    with pytest.raises(InkmathError, match="missing trace"):
        crohme.read_inkml(bad.encode())
    with pytest.raises(InkmathError, match="missing trace"):
        crohme.read_inkml(INKML_XY.replace('traceDataRef="5"', 'traceDataRef="#55"').encode())


def test_trace_references_written_as_uri_fragments():
    """InkML's traceDataRef is a URI reference: ``#0`` names the trace with id ``0`` as ``0`` does (before, the file
    was refused: 'refers to missing trace')."""
    plain = crohme.read_inkml(INKML_XY.encode(), "a.inkml")
    uri = crohme.read_inkml(INKML_XY.replace('traceDataRef="', 'traceDataRef="#').encode(), "a.inkml")
    assert [(g.label, g.stroke_ids) for g in uri.groups] == [(g.label, g.stroke_ids) for g in plain.groups]
    assert [g.stroke_ids for g in uri.groups] == [[0, 1], [2], [3, 4], [5]]


def test_iter_inkml_reads_archive_and_folder_and_reports_skipped(data_dir, tmp_path):
    archive = data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"
    skipped = []
    got = list(crohme.iter_inkml(archive, skipped=skipped))
    assert [e.id for e in got] == ["a", "b"]
    assert sorted(Path(s.name).name for s in skipped) == ["broken.inkml", "empty.inkml"]
    assert any("empty" in s.reason for s in skipped) and any("well-formed" in s.reason for s in skipped)
    folder = tmp_path / "unpacked" / "TestEM2014GT"
    folder.mkdir(parents=True)
    for n, d in FIXTURES.items():
        (folder / n).write_bytes(d)
    assert [e.id for e in crohme.iter_inkml(tmp_path / "unpacked")] == ["a", "b"]
    assert [e.id for e in crohme.iter_inkml(tmp_path / "unpacked", subset="Other")] == []


def test_zip_archives_read_as_tar_archives_do(tmp_path):
    """The later CROHME sets (2016, 2019) and their offline images are distributed as zip files."""
    arch = tmp_path / "crohme2019_test.zip"
    with zipfile.ZipFile(arch, "w") as zf:
        zf.writestr("Test2019/", b"")
        zf.writestr("__MACOSX/Test2019/._a.inkml", b"\x00\x05")  # resource forks a Mac zip carries
        for n, d in FIXTURES.items():
            zf.writestr(f"Test2019/{n}", d)
    skipped = []
    assert [e.id for e in crohme.iter_inkml(arch, skipped=skipped)] == ["a", "b"]
    assert sorted(Path(s.name).name for s in skipped) == ["broken.inkml", "empty.inkml"]
    assert detect_kind(arch) == "inkml"
    wap = tmp_path / "offline.zip"
    with tarfile.open(make_wap(tmp_path / "wap.tar.xz")) as tf, zipfile.ZipFile(wap, "w") as zf:
        for m in tf:
            zf.writestr(m.name, tf.extractfile(m).read())
    assert detect_kind(wap) == "wap"
    assert [s.id for s in crohme.iter_wap(wap)] == ["e1", "e2"]
    # the later offline sets' layout: a caption.txt per folder, images beside it named as their ids
    img = np.zeros((30, 60), np.uint8)
    cv2.line(img, (5, 15), (55, 15), 255, 3)
    bmp = cv2.imencode(".bmp", img)[1].tobytes()
    later = tmp_path / "data.zip"
    with zipfile.ZipFile(later, "w") as zf:
        zf.writestr("data/2016/caption.txt", b"UN19_1041_em_597\t-\n18_em_0\t1\n")
        zf.writestr("data/2016/UN19_1041_em_597.bmp", bmp)
        zf.writestr("data/2016/18_em_0.bmp", bmp)
        zf.writestr("data/2019/caption.txt", b"UN19_1041_em_597\t2\n")
        zf.writestr("data/2019/UN19_1041_em_597.bmp", bmp)
        zf.writestr("data/2019/no_caption.bmp", bmp)
    assert detect_kind(later) == "wap"
    got = [(s.id, s.tokens) for s in crohme.iter_wap(later)]
    assert got == [("18_em_0", ["1"]), ("UN19_1041_em_597", ["-"]), ("UN19_1041_em_597", ["2"])]
    other = tmp_path / "notes.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", b"nothing here")
    with pytest.raises(InkmathError, match="neither .inkml files nor WAP"):
        detect_kind(other)


def test_upper_case_inkml_extensions_are_read_like_lower_case_ones(tmp_path):
    """Files named ``X.INKML`` (as Windows tools write them): a zip or folder of them, or one alone, is an InkML
    set, and the expression's id is its name without the extension, whatever its case."""
    arch = tmp_path / "upper.zip"
    with zipfile.ZipFile(arch, "w") as zf:
        zf.writestr("Test2019/A.INKML", INKML_XY.encode())
        zf.writestr("Test2019/B.InkML", INKML_XYT.encode())
    assert detect_kind(arch) == "inkml"
    assert [e.id for e in crohme.iter_inkml(arch)] == ["A", "B"]
    one = tmp_path / "C.INKML"
    one.write_text(INKML_XY)
    assert detect_kind(one) == "inkml"
    r = evaluate_crohme(one, lambda strokes, predictor=None: SimpleNamespace(latex="x^{2}=1", symbols=[]),
                        details=True)
    assert r["expressions"] == 1 and r["exprate"] == 1.0 and r["details"][0]["id"] == "C"


# -------------------------------------------------------------------------------------- symbol dataset
def test_crohme_vocabulary_is_the_101_classes():
    v = crohme.crohme_vocab()
    assert len(v) == 101
    for name in ("\\sin", "\\lim", "\\lt", "\\{", ",", "\\ldots", "\\sqrt", "|"):
        assert name in v.names
    assert v.latex[v.index("\\lt")] == "<"


def test_crohme_dataset_from_archive(data_dir):
    ds = load_dataset("crohme:test", data_dir)
    assert ds.ink == "white" and ds.images.shape == (7, 32, 32) and ds.images.dtype == np.uint8
    assert [ds.vocab.names[i] for i in ds.labels] == ["x", "2", "=", "1", "a", "\\lt", "b"]  # \bullet dropped
    assert ds.ids[0] == "a/0" and ds.ids[-1] == "b/2"
    assert all(img.max() > 200 and img[0].max() < 40 for img in ds.images)  # ink centred, black border
    a = crohme.load_crohme_arrays("test", data_dir)  # second load comes from the cache
    assert a["geometry"].shape == (7, 4) and a["expr_ids"].tolist() == ["a", "b"]
    assert a["expr_index"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert len(a["skipped"]) == 2 and a["unknown_labels"].tolist() == ["\\bullet\t1"]
    # the superscript "2" sits higher than the "x" and is smaller; units are typical symbol sizes
    gx, g2 = a["geometry"][0], a["geometry"][1]
    assert g2[1] < gx[1] and (g2[3] - g2[1]) < (gx[3] - gx[1])
    assert len(list((data_dir / "cache").glob("crohme-test-*.npz"))) == 1
    assert len(load_dataset("crohme:test:limit=1", data_dir)) == 4


def test_crohme_dataset_errors(data_dir, tmp_path):
    with pytest.raises(InkmathError, match="Unknown CROHME split"):
        load_dataset("crohme:nope", data_dir)
    with pytest.raises(InkmathError, match="not found"):
        load_dataset("crohme:train", data_dir)
    with pytest.raises(InkmathError, match="limit"):
        load_dataset("crohme:test:limit=zero", data_dir)


# ------------------------------------------------------------------------------------------------ WAP
def make_wap(path: Path) -> Path:
    img = np.zeros((40, 90), np.uint8)
    cv2.line(img, (10, 20), (80, 20), 255, 3)
    ok, bmp = cv2.imencode(".bmp", img)
    with tarfile.open(path, "w:xz") as tf:
        _add(tf, "crohme2014_test_offline_wap/off_image_test/e1_0.bmp", bmp.tobytes())
        _add(tf, "crohme2014_test_offline_wap/off_image_test/e2_0.bmp", bmp.tobytes())
        _add(tf, "crohme2014_test_offline_wap/test_caption.txt", b"e1\t-\ne2\t\\frac { 1 } { 2 }\n")
        _add(tf, "crohme2014_test_offline_wap/dictionary.txt", b"-\t1\n")
    return path


def test_iter_wap(tmp_path):
    arch = make_wap(tmp_path / "wap.tar.xz")
    got = list(crohme.iter_wap(arch))
    assert [s.id for s in got] == ["e1", "e2"]
    assert got[1].tokens == ["\\frac", "{", "1", "}", "{", "2", "}"]
    assert got[0].image.shape == (40, 90) and got[0].image[20, 40] == 255 and got[0].image[0, 0] == 0
    assert detect_kind(arch) == "wap"


def test_iter_wap_reads_jpeg_images_captioned_by_their_file_names(tmp_path):
    """HME100K's layout: JPEG images, a caption file whose ids are the images' file names."""
    folder = tmp_path / "test_images"
    folder.mkdir()
    img = np.zeros((40, 90), np.uint8)
    img[10:30, 20:60] = 255
    cv2.imwrite(str(folder / "test_7.jpg"), img)
    (tmp_path / "caption.txt").write_text("test_7.jpg\tx ^ { 2 }\n")
    got = list(crohme.iter_wap(tmp_path))
    assert [(s.id, s.tokens) for s in got] == [("test_7.jpg", ["x", "^", "{", "2", "}"])]
    assert got[0].image.shape == (40, 90) and detect_kind(tmp_path) == "wap"


def test_caption_files_written_on_windows_read_whole(tmp_path):
    """A caption file saved by a Windows editor: a byte-order mark, CRLF line ends, ids written as paths with
    backslashes; none of them may cost an image its caption (before, the first line's id kept the BOM and that
    image was dropped without a word). A caption file that is not UTF-8 text is one clear error."""
    img = np.zeros((30, 60), np.uint8)
    cv2.line(img, (5, 15), (55, 15), 255, 3)
    folder = tmp_path / "data" / "2016"
    (folder / "img").mkdir(parents=True)
    for name in ("UN_101_em_0", "UN_101_em_1", "UN_101_em_2"):
        cv2.imwrite(str(folder / "img" / f"{name}.bmp"), img)
    (folder / "caption.txt").write_bytes("\ufeffUN_101_em_0\t-\r\nUN_101_em_1 1\r\nimg\\UN_101_em_2.bmp\t2\r\n"
                                         .encode("utf-8"))
    got = [(s.id, s.tokens) for s in crohme.iter_wap(tmp_path / "data")]
    assert got == [("UN_101_em_0", ["-"]), ("UN_101_em_1", ["1"]), ("UN_101_em_2.bmp", ["2"])]
    assert crohme.read_captions("\ufeffa\tx\r\nb/c.jpg\ty\r\n") == {"a": ["x"], "c.jpg": ["y"]}
    (folder / "caption.txt").write_bytes(b"UN_101_em_0\t\xe9\n")
    with pytest.raises(InkmathError, match="caption.txt.*not UTF-8"):
        list(crohme.iter_wap(tmp_path / "data"))


def test_hme100k_layout_with_its_labels_file(tmp_path):
    """HME100K as distributed: ``test_images/*.jpg`` beside ``test_labels.txt`` (``test_0.jpg<TAB>tokens``), in a
    folder or a zip: read as an offline image set (before: 'No expressions with a truth reading' for the folder,
    'holds neither' for the zip). A folder with neither InkML nor captioned images says so."""
    img = np.full((40, 90), 255, np.uint8)
    cv2.line(img, (10, 20), (80, 20), 0, 3)
    jpg = cv2.imencode(".jpg", img)[1].tobytes()
    root = tmp_path / "HME100K"
    (root / "test_images").mkdir(parents=True)
    for k in range(2):
        (root / "test_images" / f"test_{k}.jpg").write_bytes(jpg)
    (root / "test_labels.txt").write_text("test_0.jpg\t-\ntest_1.jpg\t\\frac { 1 } { 2 }\n")
    arch = tmp_path / "HME100K.zip"
    with zipfile.ZipFile(arch, "w") as zf:
        for p in sorted(root.rglob("*")):
            zf.write(p, p.relative_to(tmp_path).as_posix())
    for source in (root, arch):
        assert detect_kind(source) == "wap"
        got = [(s.id, s.tokens) for s in crohme.iter_wap(source)]
        assert got == [("test_0.jpg", ["-"]), ("test_1.jpg", ["\\frac", "{", "1", "}", "{", "2", "}"])]
        r = evaluate_crohme(source, lambda image, predictor=None: SimpleNamespace(latex="-", symbols=[]))
        assert r["kind"] == "wap" and r["expressions"] == 2 and r["exprate"] == 0.5
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing")
    with pytest.raises(InkmathError, match="neither .inkml files nor"):
        detect_kind(tmp_path / "empty")


# ------------------------------------------------------------------------------------------ benchmark
def truth_recognizer(source):
    """A fake recogniser that reads the answer from the InkML files (keyed by the strokes' coordinates)."""
    table = {}
    for e in crohme.iter_inkml(source):
        table[b"".join(s.tobytes() for s in e.strokes)] = e

    def recognize(strokes, predictor=None):
        e = table[b"".join(np.ascontiguousarray(s).tobytes() for s in strokes)]
        syms = [SymbolHyp(Box(0, 0, 1, 1), [Candidate(g.label, 1.0)], list(g.stroke_ids)) for g in e.groups]
        return SimpleNamespace(latex=e.latex_truth, symbols=syms, expr=e)

    return recognize


def test_evaluate_perfect_recogniser(data_dir):
    arch = data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"
    r = evaluate_crohme(arch, truth_recognizer(arch))
    assert r["kind"] == "inkml" and r["expressions"] == 2 and r["skipped_files"] == 2
    assert r["exprate"] == r["within1"] == r["seg_precision"] == r["seg_recall"] == r["symbol_rec_rate"] == 1.0
    assert r["stages"] == {"correct": 2, "segmentation_wrong": 0, "symbol_wrong": 0, "layout_wrong": 0}


def test_a_set_of_several_folders_is_scored_by_folder_too(tmp_path):
    """The 2011-2013 validation archive holds three years' tests in three folders, which read differently (its 2013
    part like the 2014 test): crohme-eval gives each folder's figures beside the whole's, and the results page a row
    for each."""
    from inkmath.evaluation.results import folder_rows

    arch = tmp_path / "val.tar.xz"
    with tarfile.open(arch, "w:xz") as tf:
        _add(tf, "CROHME_labeled_2016/TestINKMLGT/a.inkml", INKML_XY.encode())
        _add(tf, "CROHME_labeled_2016/TestINKMLGT/b.inkml", INKML_XYT.encode())
        _add(tf, "CROHME_labeled_2016/testDataGT/c.inkml", INKML_XY.encode().replace(b'id="0">', b'id="0">1 1, '))
    assert [e.folder for e in crohme.iter_inkml(arch)] == ["CROHME_labeled_2016/TestINKMLGT"] * 2 + [
        "CROHME_labeled_2016/testDataGT"]
    right = truth_recognizer(arch)

    def recognize(strokes, predictor=None):  # b is read one token short
        rec = right(strokes)
        return SimpleNamespace(**{**vars(rec), "latex": "a" if rec.expr.id == "b" else rec.latex})

    r = evaluate_crohme(arch, recognize, details=True)
    assert r["exprate"] == pytest.approx(2 / 3)
    assert [(f["folder"].rsplit("/", 1)[-1], f["expressions"], f["read_right"], f["exprate"], f["within1"])
            for f in r["by_folder"]] == [("TestINKMLGT", 2, 1, 0.5, 0.5), ("testDataGT", 1, 1, 1.0, 1.0)]
    assert {d["id"]: d["folder"] for d in r["details"]}["c"] == "CROHME_labeled_2016/testDataGT"
    rows = folder_rows(r, "val")
    assert [(x["test set"], x["read right"], x["ExpRate"]) for x in rows] == [
        ("CROHME 2011-2013 test (validation): its 2012 test", 1, 1.0),
        ("CROHME 2011-2013 test (validation): its 2013 test", 1, 0.5)]
    single = tmp_path / "one.tar.xz"
    make_archive(single, "TestEM2014GT", {"a.inkml": INKML_XY.encode(), "b.inkml": INKML_XYT.encode()})
    assert "by_folder" not in evaluate_crohme(single, truth_recognizer(single)) and folder_rows({}, "test") == []


# "x^2=1" as MathWriting writes it: no traceFormat, no trace ids, "x y t" points, the LaTeX in "normalizedLabel"
# (its ground truth; "label" is the unnormalised original), no segmentation
MATHWRITING = """<ink xmlns="http://www.w3.org/2003/InkML">
<annotation type="label">x^2 = 1</annotation>
<annotation type="normalizedLabel">x^{2}=1</annotation>
<annotation type="splitTagOriginal">test</annotation>
<annotation type="sampleId">{sid}</annotation>
<annotation type="inkCreationMethod">human</annotation>
<trace>10 10 0,20 20 16.7,30 30 33.3</trace>
<trace>30 10 250,20 20 266.7,10 30 283.3</trace>
<trace>32 2 500,36 0 516,38 4 533,32 10 550,38 10 566</trace>
<trace>50 15 800,70 15 816</trace>
<trace>50 25 900,70 25 916</trace>
<trace>90 10 1100,90 30 1116</trace>
</ink>
"""


def test_mathwriting_files_read_with_their_normalised_label_as_truth(tmp_path):
    """MathWriting's InkML (Google, 2024): the truth is its normalizedLabel; with no traceGroups, crohme-eval scores
    the readings and claims no segmentation figures or error stages."""
    e = crohme.read_inkml(MATHWRITING.replace("{sid}", "00aa").encode(), "00aa.inkml")
    plain = crohme.read_inkml(INKML_XY.encode(), "plain.inkml").strokes
    assert e.latex_truth == "x^{2}=1" and e.groups == [] and len(e.strokes) == 6
    assert all(np.array_equal(a, b) for a, b in zip(e.strokes, plain))
    only_label = MATHWRITING.replace('<annotation type="normalizedLabel">x^{2}=1</annotation>', "")
    assert crohme.read_inkml(only_label.replace("{sid}", "x").encode(), "x.inkml").latex_truth == "x^2 = 1"
    folder = tmp_path / "test"
    folder.mkdir()
    for sid in ("00aa", "00bb"):
        (folder / f"{sid}.inkml").write_text(MATHWRITING.replace("{sid}", sid))
    readings = {6: "x^{2}=1"}

    def reader(strokes, predictor=None):
        return SimpleNamespace(latex=readings.get(len(strokes), "x^{2}=7"), symbols=[])

    r = evaluate_crohme(folder, reader)
    assert r["kind"] == "inkml" and r["expressions"] == 2 and r["exprate"] == 1.0
    assert "stages" not in r and "seg_precision" not in r
    readings.clear()
    r = evaluate_crohme(folder, reader)
    assert r["exprate"] == 0.0 and r["within1"] == 1.0 and "stages" not in r
    with pytest.raises(InkmathError, match="no expression has a segmentation truth"):
        evaluate_crohme(folder, predictor=SimpleNamespace(), expressions=False)


def test_evaluate_counts_each_stage(data_dir):
    arch = data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"
    perfect = truth_recognizer(arch)

    def flawed(strokes, predictor=None):
        r = perfect(strokes)
        if r.expr.id == "a":  # layout wrong only: x_2 instead of x^2, symbols and segmentation right
            r.latex = "x_{2}=1"
        else:  # 'a' and '<' merged into one symbol, read as "x"
            s = r.symbols
            r.symbols = [SymbolHyp(s[0].box, [Candidate("x", 1.0)], [0, 1])] + s[2:]
            r.latex = "x b"
        return r

    r = evaluate_crohme(arch, flawed, details=True)
    assert r["exprate"] == 0.0 and r["within1"] == 0.5 and r["within2"] == 1.0  # "x_{2}" vs "x^{2}": 1 edit
    assert r["stages"] == {"correct": 0, "segmentation_wrong": 1, "symbol_wrong": 0, "layout_wrong": 1}
    # 4 + 3 truth symbols with strokes ('\bullet' has one too: 8); predicted 4 + 3 sets, 4 + 2 match
    assert r["truth_symbols"] == 8 and r["seg_recall"] == pytest.approx(6 / 8)
    assert r["seg_precision"] == pytest.approx(6 / 7)
    assert [d["stage"] for d in r["details"]] == ["layout_wrong", "segmentation_wrong"]

    def wrong_symbol(strokes, predictor=None):
        r = perfect(strokes)
        r.symbols[0].candidates = [Candidate("y", 0.9)]
        r.latex = r.latex.replace("x", "y").replace("a", "y")
        return r

    r = evaluate_crohme(arch, wrong_symbol)
    assert r["stages"]["symbol_wrong"] == 2 and r["symbol_rec_rate"] == pytest.approx(6 / 8)

    def fixed_in_context(strokes, predictor=None):  # the classifier's best is wrong, the reading chosen is right
        r = wrong_symbol(strokes)
        r.tokens = [s.candidates[0].token for s in perfect(strokes).symbols]
        return r

    r = evaluate_crohme(arch, fixed_in_context)
    assert r["stages"]["symbol_wrong"] == 0 and r["stages"]["layout_wrong"] == 2 and r["symbol_rec_rate"] == 1.0


class FakePredictor:
    """Classifies by aspect ratio: wide crops are '=', everything else 'x' (enough to test the bookkeeping)."""

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            label = "=" if im.shape[1] > 1.5 * im.shape[0] else "x"
            out.append([SimpleNamespace(label=label, latex=label, prob=1.0)])
        return out


def test_symbol_accuracy_on_truth_segmentation(data_dir):
    arch = data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"
    r = evaluate_crohme(arch, None, predictor=FakePredictor(), expressions=False)
    assert r["gt_symbols"] == 7 and r["symbol_accuracy_gt_seg"] == pytest.approx(2 / 7)  # 'x' and '='
    assert "exprate" not in r


def test_evaluate_on_wap_images(tmp_path):
    arch = make_wap(tmp_path / "wap.tar.xz")

    def reader(image, predictor=None):
        return SimpleNamespace(latex="-" if image.shape[1] > 0 else "", symbols=[])

    r = evaluate_crohme(arch, reader)
    assert r["kind"] == "wap" and r["expressions"] == 2 and r["exprate"] == 0.5 and "seg_recall" not in r


def test_captions_written_as_plain_latex_score_like_spaced_ones(tmp_path):
    """A caption file whose LaTeX is not cut into space-separated tokens (``\\frac{1}{2}``, ``\\left(x\\right)``):
    a right reading scores right (before, ``\\frac{1}{2}`` stayed one token and no reading could equal it)."""
    img = np.zeros((30, 60), np.uint8)
    cv2.line(img, (5, 15), (55, 15), 255, 3)
    for name in ("a", "b", "c"):
        cv2.imwrite(str(tmp_path / f"{name}.bmp"), img)
    (tmp_path / "caption.txt").write_text("a\t\\frac{1}{2}\nb\t\\left(x^2\\right)\nc\t\\frac { 1 } { 2 }\n")
    readings = iter([r"\frac{1}{2}", "(x^{2})", r"\frac12"])
    r = evaluate_crohme(tmp_path, lambda image, predictor=None: SimpleNamespace(latex=next(readings), symbols=[]),
                        details=True)
    assert r["expressions"] == 3 and r["exprate"] == 1.0, r["details"]
    assert [d["truth"] for d in r["details"]] == [r"\frac { 1 } { 2 }", "( x ^ { 2 } )", r"\frac { 1 } { 2 }"]


def test_image_sets_count_images_without_caption_and_broken_images(tmp_path):
    """As for InkML: an image no caption names is counted in ``no_truth``, one that cannot be decoded is skipped and
    counted in ``skipped_files``; the others are scored (before: the first was dropped without a word, the second
    stopped the whole run)."""
    img = np.zeros((30, 60), np.uint8)
    cv2.line(img, (5, 15), (55, 15), 255, 3)
    for name in ("a", "b"):
        cv2.imwrite(str(tmp_path / f"{name}.bmp"), img)
    (tmp_path / "c.bmp").write_bytes(b"BM not really")
    (tmp_path / "caption.txt").write_text("a\t-\nc\t1\n")
    r = evaluate_crohme(tmp_path, lambda image, predictor=None: SimpleNamespace(latex="-", symbols=[]))
    assert (r["expressions"], r["no_truth"], r["skipped_files"], r["exprate"]) == (1, 1, 1, 1.0)
    skipped, uncaptioned = [], []
    assert [s.id for s in crohme.iter_wap(tmp_path, skipped=skipped, uncaptioned=uncaptioned)] == ["a"]
    assert [s.name for s in skipped] == ["c.bmp"] and "cannot decode" in skipped[0].reason
    assert uncaptioned == ["b.bmp"]
    with pytest.raises(InkmathError, match="c.bmp: cannot decode"):  # without a list to report to: an error
        list(crohme.iter_wap(tmp_path))


# ------------------------------------------------------------------------------------ real archives
def real(name: str) -> Path:
    p = REAL / name
    if not p.is_file():
        pytest.skip(f"{p} not available")
    return p


def test_real_2014_test_archive():
    skipped = []
    exprs = list(crohme.iter_inkml(real("crohme2014_test_inkml.tar.xz"), skipped=skipped))
    assert len(exprs) == 986 and skipped == []
    by_id = {e.id: e for e in exprs}
    assert by_id["34_em_225"].mathml is None  # named in the erratum
    labels = {crohme.normalize_label(g.label) for e in exprs for g in e.groups}
    assert None not in labels and len(labels) == 101


def test_real_2013_test_has_three_expressions_without_truth():
    exprs = list(crohme.iter_inkml(real("crohme2011-2013_test_inkml.tar.xz"), subset="TestINKMLGT"))
    assert len(exprs) == 671
    assert sorted(e.id for e in exprs if e.latex_truth is None) == ["rit_4295_2", "rit_4295_3", "ritm_426_0"]


@pytest.mark.slow
def test_real_train_archive_skips_the_two_broken_files():
    skipped = []
    n = sum(1 for _ in crohme.iter_inkml(real("crohme2014_train_inkml.tar.xz"), skipped=skipped))
    assert n == 8834
    assert sorted(Path(s.name).name for s in skipped) == ["MfrDB0104.inkml", "MfrDB3088.inkml"]


def test_real_symbol_crops(tmp_path, monkeypatch):
    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path))
    real("crohme2014_test_inkml.tar.xz")
    ds = load_dataset("crohme:test:limit=30", REAL.parent)
    assert len(ds) > 200 and ds.images.shape[1:] == (32, 32)
    peak = ds.images.reshape(len(ds), -1).max(axis=1)
    assert (peak > 120).all() and (peak > 200).mean() > 0.97  # every crop has clear ink, even fraction bars


def test_cli_crohme_eval_symbols_only_json(data_dir, monkeypatch, capsys):
    import argparse
    import json

    from inkmath.cli import crohme as crohme_cli
    from inkmath.evaluation import crohme as crohme_eval

    monkeypatch.setattr(crohme_eval, "load_predictor", lambda weights: FakePredictor())
    parser = argparse.ArgumentParser()
    crohme_cli.register(parser.add_subparsers())
    args = parser.parse_args(["crohme-eval", "test", "--symbols-only", "--json", "--limit", "1"])
    monkeypatch.setenv("INKMATH_DATA", str(data_dir))
    assert args.func(args) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["expressions"] == 1 and res["gt_symbols"] == 4 and res["symbol_accuracy_gt_seg"] == 0.5
    args = parser.parse_args(["crohme-eval", str(data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"),
                              "--symbols-only"])
    assert args.func(args) == 0
    assert "symbol_accuracy_gt_seg" in capsys.readouterr().out
    with pytest.raises(InkmathError, match="not found"):
        args = parser.parse_args(["crohme-eval", "nowhere.tar.xz"])
        args.func(args)


# ---------------------------------------------------------------------------------------- layout relation model
def test_mathml_rows_give_each_symbols_relation():
    from inkmath.training.recipes.layout import mathml_rows, truth_relation

    # (a+b)^2 y_1 = \frac{c}{d}
    mathml = """<math xmlns='http://www.w3.org/1998/Math/MathML'><mrow><msup><mrow><mo xml:id="(">(</mo>
      <mi xml:id="a">a</mi><mo xml:id="+">+</mo><mi xml:id="b">b</mi><mo xml:id=")">)</mo></mrow>
      <mn xml:id="2">2</mn></msup><msub><mi xml:id="y">y</mi><mn xml:id="1">1</mn></msub><mo xml:id="=">=</mo>
      <mfrac xml:id="bar"><mi xml:id="c">c</mi><mi xml:id="d">d</mi></mfrac></mrow></math>"""
    rows, in_base = mathml_rows(mathml)
    assert truth_relation(")", "2", rows, in_base) == "sup"  # the bracket closes the exponent's base
    assert truth_relation("y", "1", rows, in_base) == "sub"
    assert truth_relation("2", "y", rows, in_base) == "right"  # back on the baseline after the exponent
    assert truth_relation("a", "b", rows, in_base) == "right" and truth_relation("=", "bar", rows, in_base) == "right"
    assert truth_relation("(", "2", rows, in_base) == "sup"  # every symbol of the base has the exponent
    assert truth_relation("c", "d", rows, in_base) is None  # numerator and denominator: neither
    assert truth_relation("y", "missing", rows, in_base) is None


def test_relation_dataset_asks_the_parsers_questions(data_dir):
    from inkmath.equation.reader.layout_model import N_FEATURES, RELATIONS_OUT
    from inkmath.training.recipes.layout import relation_dataset

    X, y, rule, n = relation_dataset(data_dir / "crohme" / "crohme2014_test_inkml.tar.xz")
    assert n == 1  # only x^2=1 has MathML
    assert X.shape == (3, N_FEATURES) and [RELATIONS_OUT[k] for k in y] == ["sup", "right", "right"]
    assert rule.shape == y.shape


def test_evaluate_reports_alternatives_and_calibration(data_dir):
    arch = data_dir / "crohme" / "crohme2014_test_inkml.tar.xz"
    perfect = truth_recognizer(arch)

    def unsure(strokes, predictor=None):  # 'a' read wrong first but right second; the other right and sure
        r = perfect(strokes)
        truth = r.latex
        if r.expr.id == "a":
            r.latex = "x_{2}=1"
            r.confidence, r.alternatives = 0.3, [{"latex": r.latex, "confidence": 0.3},
                                                 {"latex": truth, "confidence": 0.2}]
        else:
            r.confidence, r.alternatives = 0.9, [{"latex": truth, "confidence": 0.9}]
        return r

    r = evaluate_crohme(arch, unsure, details=True)
    assert r["exprate"] == 0.5 and r["alternatives_coverage"] == 1.0
    assert r["top_half_accuracy"] == 1.0 and r["mean_confidence"] == pytest.approx(0.6)
    assert r["reliability"] == [{"bin": "0.3-0.4", "count": 1, "mean_confidence": 0.3, "accuracy": 0.0},
                                {"bin": "0.9-1.0", "count": 1, "mean_confidence": 0.9, "accuracy": 1.0}]
    assert r["calibration_error"] == pytest.approx(0.5 * 0.3 + 0.5 * 0.1)
    assert [d["among_alternatives"] for d in r["details"]] == [True, True]
    assert "alternatives_coverage" not in evaluate_crohme(arch, perfect)  # a recogniser without alternatives


def test_score_recognize_json_counts_missing_and_errors_wrong(data_dir, tmp_path, monkeypatch):
    """benchmarks/score_recognize_json.py: the user's path scored over every expression of the archive."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import score_recognize_json

    monkeypatch.setenv("INKMATH_DATA", str(data_dir))
    lines = tmp_path / "rec.jsonl"
    lines.write_text(json.dumps({"file": "/x/a.inkml", "latex": "x^{2}=1"}) + "\n")
    result = tmp_path / "r.json"
    assert score_recognize_json.main([str(lines), "test", "--result", str(result)]) == 0
    row = json.loads(result.read_text())["rows"][0]
    assert (row["expressions"], row["read right"], row["missing"], row["errors"]) == (2, 1, 1, 0)
    assert row["ExpRate"] == 0.5  # the missing one counts wrong
    lines.write_text(json.dumps({"file": "a.inkml", "error": "a.inkml: broken"}) + "\n" +
                     json.dumps({"file": "b.inkml", "latex": "x^{2}=1"}) + "\n")
    assert score_recognize_json.main([str(lines), "test", "--result", str(result)]) == 0
    row = json.loads(result.read_text())["rows"][0]
    assert (row["read right"], row["missing"], row["errors"]) == (0, 0, 1)
