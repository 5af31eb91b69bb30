"""CROHME: InkML expressions, the symbol data set cut from them, and the WAP offline test images.

Read straight from the official archives (``.tar.xz``; no unpacking by hand) or from a folder:

    for expr in iter_inkml("crohme2014_test_inkml.tar.xz", skipped=bad): ...   # InkmlExpression
    load_dataset("crohme:train")        # ~86k symbol crops (32x32, white ink on black), 101 classes
    for sample in iter_wap("crohme2014_test_offline_wap.tar.xz"): ...           # WapSample(id, image, tokens)

Symbols are cut the way they look inside their expression: the expression's canonical scale
(``ink.normalization_scale`` of all its strokes) is used to render each symbol's own strokes, so a subscript keeps
the pen width of its expression; the crop then goes through the project's ``preprocess.prepare``.
"""

from __future__ import annotations

import csv
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Iterator
from xml.etree import ElementTree as ET

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, cached_arrays, register_reader
from inkmath.vocab import Vocabulary
from inkmath.data.sets import data_dir as default_dir

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

# spec split -> (archive, folder inside it)
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("crohme2014_train_inkml.tar.xz", "TrainINKML"),
    "val": ("crohme2011-2013_test_inkml.tar.xz", "TestINKMLGT"),  # CROHME 2013 test
    "test": ("crohme2014_test_inkml.tar.xz", "TestEM2014GT"),  # CROHME 2014 test
    "test2013": ("crohme2011-2013_test_inkml.tar.xz", "TestINKMLGT"),
    "test2012": ("crohme2011-2013_test_inkml.tar.xz", "testDataGT"),
    "test2011": ("crohme2011-2013_test_inkml.tar.xz", "CROHME_testGT"),
}
WAP_TEST = "crohme2014_test_offline_wap.tar.xz"
# an offline set's caption files (the WAP archive's test_caption.txt, CoMER's caption.txt, HME100K's
# test_labels.txt) and its images
CAPTION_FILES = ("caption.txt", "labels.txt")
IMAGE_FILES = (".bmp", ".png", ".jpg", ".jpeg")

# Spellings some writers (and later CROHME releases) use for the same class.
LABEL_ALIASES = {"<": "\\lt", ">": "\\gt", "COMMA": ",", "\\lbrace": "\\{", "\\rbrace": "\\}", "\\ge": "\\geq",
                 "\\le": "\\leq", "\\ne": "\\neq", "\\to": "\\rightarrow", "\\dots": "\\ldots"}


# --------------------------------------------------------------------------------------------- InkML
@dataclass
class TraceGroup:
    """One truth symbol: its label as written in the file, and positions (into ``strokes``) of its strokes."""

    label: str
    stroke_ids: list[int]
    xml_id: str = ""
    href: str = ""


@dataclass
class InkmlExpression:
    id: str  # file base name without .inkml
    strokes: list[np.ndarray]  # float64 (P, 2) each, x/y as in the file (y down)
    groups: list[TraceGroup] = field(default_factory=list)
    latex_truth: str | None = None
    mathml: str | None = None  # the <annotationXML type="truth"> content, as written
    # the folder holding the file within the set read (``iter_inkml``: "CROHME_labeled_2016/TestINKMLGT"), "" at its top
    folder: str = ""


# the annotations that give an expression's LaTeX, the first present taken: CROHME's "truth"; MathWriting's
# "normalizedLabel" (its ground truth), else its "label" (the only one of its symbols/ inks)
TRUTH_ANNOTATIONS = ("truth", "normalizedLabel", "label")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# one value of a trace point (the InkML grammar): a difference order (! explicit, ' first, " second), a number
# (decimal, double or #hex, a sign before it), T / F (a boolean channel), * or ? (inferred / not given)
_TRACE_VALUE = re.compile(r"""([!'"])|([-+]?\s*(?:#[0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))|([TF*?])""")
_PLAIN = re.compile(r"[!'\"#TF*?|+]")  # a trace without any of these is plain "x y, x y": read in one go
# "x,y x,y ...": points apart by spaces, x and y by a comma (not InkML's grammar, but written by some tools: the
# InkSight derenderings)
_NUMBER = r"[-+]?[\d.]+(?:[eE][-+]?\d+)?"
_SPACED_PAIRS = re.compile(rf"\s*{_NUMBER},{_NUMBER}(?:\s+{_NUMBER},{_NUMBER})*\s*")


def parse_trace(text: str, where: str = "trace", channels: tuple[int, int, int | None] = (0, 1, None)) -> np.ndarray:
    """'x y, x y, ...' (also 'x y t', trailing commas, newlines) -> float64 (P, 2): the X and Y channels, at
    ``channels`` (X's and Y's places among the file's ``<traceFormat>`` channels, and how many it declares: None
    without one). InkML's difference orders are read too: a value after ' is the change since the last point, after
    " the change in that change, after ! the value itself; each holds for its channel until another is given. Points
    written without commas are cut by the declared channel count; 'x,y x,y' (pairs apart by spaces) is read too."""
    if _SPACED_PAIRS.fullmatch(text or ""):
        text = ", ".join(pair.replace(",", " ") for pair in text.split())
    pts = [p for p in (text or "").split(",") if p.strip()]
    if not pts:
        return np.zeros((0, 2))
    ix, iy, count = channels
    try:
        if _PLAIN.search(text) or (len(pts) == 1 and count):  # prefixed values, or points written without commas
            a = _differenced(pts, max(ix, iy) + 1, count)[:, [ix, iy]]
        else:
            k = len(pts[0].split())
            vals = np.array(" ".join(pts).split(), dtype=np.float64)
            if k > max(ix, iy) and vals.size == k * len(pts):
                a = vals.reshape(len(pts), k)[:, [ix, iy]]
            else:  # points with different numbers of channels: take x, y of each
                rows = [p.split() for p in pts]
                if any(len(r) <= max(ix, iy) for r in rows):
                    raise ValueError(f"a point has fewer than {max(ix, iy) + 1} values")
                a = np.array([[r[ix], r[iy]] for r in rows], dtype=np.float64)
    except ValueError as e:
        raise InkmathError(f"{where}: cannot read the points ({e}); expected 'x y, x y, ...'") from None
    if not np.isfinite(a).all():
        raise InkmathError(f"{where}: NaN or infinite coordinates; the file is broken - skip or repair it")
    return a


def _differenced(points: list[str], need: int, count: int | None = None) -> np.ndarray:
    """The first ``need`` channels of InkML points written with difference orders (``parse_trace``); a single
    group of values (points written without commas) is cut into points of ``count``."""
    rows: list[list[tuple[str | None, str | None, str | None]]] = []
    for point in points:
        regular = point.split("|", 1)[0]  # intermittent channels follow a bar: not X or Y
        row, pos, prefix = [], 0, None
        for m in _TRACE_VALUE.finditer(regular):
            if regular[pos:m.start()].strip():
                raise ValueError(f"unexpected {regular[pos:m.start()].strip()!r}")
            pos = m.end()
            mark, number, symbol = m.groups()
            if mark:
                prefix = mark
            else:
                row.append((prefix, number, symbol))
                prefix = None
        if regular[pos:].strip():
            raise ValueError(f"unexpected {regular[pos:].strip()!r}")
        rows.append(row)
    if len(rows) == 1 and count and len(rows[0]) > count and len(rows[0]) % count == 0:
        rows = [rows[0][k:k + count] for k in range(0, len(rows[0]), count)]
    order: dict[int, str] = {}
    last: dict[int, float] = {}
    step: dict[int, float] = {}  # each channel's last change (its "velocity")
    out = []
    for row in rows:
        values: list[float] = []
        for ch, (prefix, number, symbol) in enumerate(row):
            if prefix:
                order[ch] = prefix
            if number is not None:
                digits = re.sub(r"\s", "", number)
                x = float(int(digits.lstrip("+-#"), 16)) * (-1 if digits.startswith("-") else 1) \
                    if "#" in digits else float(digits)
                kind = order.get(ch, "!") if ch in last else "!"
                v = x if kind == "!" else last[ch] + x if kind == "'" else last[ch] + step.get(ch, 0.0) + x
            elif symbol in "TF":
                v = 1.0 if symbol == "T" else 0.0
            else:  # * or ?: the channel's last value
                if ch not in last:
                    raise ValueError(f"{symbol!r} in a trace's first point")
                v = last[ch]
            step[ch] = v - last[ch] if ch in last else 0.0
            last[ch] = v
            values.append(v)
        if len(values) < need:
            raise ValueError(f"a point has fewer than {need} values")
        out.append(values[:need])
    return np.array(out, dtype=np.float64)


def trace_channels(root) -> tuple[int, int, int | None]:
    """Where X and Y sit among a trace's values, and how many values a point has: the first ``<traceFormat>``
    naming both channels (its channels, or its ``<regularChannels>``); without one, x then y, count unknown."""
    for el in root.iter():
        if _local(el.tag) == "traceFormat":
            regular = next((c for c in el if _local(c.tag) == "regularChannels"), el)
            names = [(c.get("name") or "").upper() for c in regular if _local(c.tag) == "channel"]
            if "X" in names and "Y" in names:
                return names.index("X"), names.index("Y"), len(names)
    return 0, 1, None


def read_inkml(source: str | Path | bytes, name: str | None = None) -> InkmlExpression:
    """Parse one InkML file (CROHME's, MathWriting's, any W3C InkML; a path or its bytes). Broken files raise
    ``InkmathError`` saying why."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = name or "<bytes>"
    else:
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InkmathError(f"Cannot read InkML file {path}: {e}") from None
    if not data.strip():
        raise InkmathError(f"{name}: the InkML file is empty (0 bytes of XML); it holds no expression - skip it")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise InkmathError(f"{name}: not well-formed XML ({e}); the file is broken - skip or repair it") from None
    if _local(root.tag) != "ink":
        raise InkmathError(f"{name}: the root element is <{_local(root.tag)}>, not <ink>; is this an InkML file?")
    stem = re.sub(r"\.inkml$", "", Path(name).name, flags=re.I)

    strokes: list[np.ndarray] = []
    index: dict[str, int] = {}
    mathml = None
    group_root = None
    own: dict[int, int] = {}  # a trace written inside a traceGroup (not referred to by a traceView): its stroke
    channels = trace_channels(root)
    for el in root.iter():  # traces anywhere, in document order: InkML may nest them in traceGroups
        if _local(el.tag) == "trace":
            tid = el.get("id") or el.get(XML_ID) or str(len(strokes))
            index[tid] = own[id(el)] = len(strokes)
            strokes.append(parse_trace(el.text or "", f"{name}: trace {tid}", channels))
    labels: dict[str, str] = {}  # the expression's annotations that give its LaTeX, by type
    for el in root:
        tag = _local(el.tag)
        if tag == "annotation" and el.get("type") in TRUTH_ANNOTATIONS and el.get("type") not in labels:
            if (el.text or "").strip():
                labels[el.get("type")] = el.text.strip()
        elif tag == "annotationXML" and el.get("type") == "truth" and mathml is None:
            m = re.search(rb"<annotationXML[^>]*>(.*?)</annotationXML>", data, re.S)
            mathml = m.group(1).decode("utf-8", "replace").strip() if m else None
        elif tag == "traceGroup" and group_root is None:
            group_root = el
    if not strokes:
        raise InkmathError(f"{name}: no <trace> elements; the file holds no ink")
    latex = next((labels[t] for t in TRUTH_ANNOTATIONS if t in labels), None)

    groups: list[TraceGroup] = []
    if group_root is not None:
        for g in group_root.iter():
            if g is group_root or _local(g.tag) != "traceGroup":
                continue
            label, href, refs = "", "", []
            for c in g:
                tag = _local(c.tag)
                if tag == "annotation" and c.get("type") == "truth" and not label:
                    label = (c.text or "").strip()
                elif tag == "traceView":
                    ref = c.get("traceDataRef")
                    if ref not in index and (ref or "").startswith("#"):  # a URI reference: "#0" is trace "0"
                        ref = ref[1:]
                    if ref not in index:
                        raise InkmathError(f"{name}: traceGroup {g.get(XML_ID)!r} refers to missing trace {ref!r}")
                    refs.append(index[ref])
                elif tag == "trace":
                    refs.append(own[id(c)])
                elif tag == "annotationXML":
                    href = c.get("href", "")
            groups.append(TraceGroup(label, refs, g.get(XML_ID, ""), href))
    return InkmlExpression(stem, strokes, groups, latex, mathml)


@dataclass
class Skipped:
    name: str
    reason: str


def archive_members(source: Path, subset: str | None, suffixes: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the matching files in a folder, a tar archive (any compression), a zip archive (as the
    later CROHME sets are distributed) or a single file."""
    def wanted(name: str) -> bool:
        return name.lower().endswith(suffixes) and (subset is None or subset in Path(name).parts)

    if source.is_dir():
        for p in sorted(source.rglob("*")):
            rel = p.relative_to(source).as_posix()
            if p.is_file() and wanted(rel):
                yield rel, p.read_bytes()
    elif source.is_file() and tarfile.is_tarfile(source):
        with tarfile.open(source, "r:*") as tf:
            for m in tf:  # streaming: members in archive order
                if m.isfile() and wanted(m.name):
                    f = tf.extractfile(m)
                    yield m.name, f.read() if f is not None else b""
    elif source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for m in zf.infolist():  # members in archive order, as for a tar archive
                if not m.is_dir() and not m.filename.startswith("__MACOSX/") and wanted(m.filename):
                    yield m.filename, zf.read(m)
    elif source.is_file():
        if not wanted(source.name):
            raise InkmathError(f"{source} is neither a folder, a tar or zip archive nor a {'/'.join(suffixes)} file")
        yield source.name, source.read_bytes()
    else:
        raise InkmathError(f"{source} not found. Point to a CROHME .tar.xz or .zip archive or a folder of .inkml "
                           f"files.")


def iter_inkml(source: str | Path, subset: str | None = None,
               skipped: list[Skipped] | None = None) -> Iterator[InkmlExpression]:
    """Every readable expression under ``source``; broken files are skipped and appended to ``skipped``.

    ``subset`` keeps only files below a folder of that name (e.g. "TestINKMLGT" in the 2011-2013 archive).
    """
    for name, data in archive_members(Path(source), subset, (".inkml",)):
        try:
            expr = read_inkml(data, name)
        except InkmathError as e:
            if skipped is not None:
                skipped.append(Skipped(name, str(e)))
            continue
        folder = PurePosixPath(name).parent.as_posix()
        expr.folder = "" if folder == "." else folder
        yield expr


# ------------------------------------------------------------------------------------------ symbol set
@lru_cache(maxsize=1)
def crohme_vocab() -> Vocabulary:
    """The 101 CROHME 2014 symbol classes (names as the InkML truth labels write them)."""
    text = resources.files("inkmath.data").joinpath("crohme_symbols.tsv").read_text(encoding="utf-8")
    rows = [r for r in csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
            if r and not r[0].startswith("#")]
    return Vocabulary(tuple(r[0] for r in rows), tuple(r[1] for r in rows))


def normalize_label(label: str) -> str | None:
    """A truth label as a CROHME class name ('<' -> '\\lt', 'COMMA' -> ','), None if not one of the 101."""
    label = label.strip()
    label = LABEL_ALIASES.get(label, label)
    return label if label in crohme_vocab().names else None


def split_archive(split: str, data_dir: Path) -> tuple[Path, str]:
    if split not in SPLITS:
        raise InkmathError(f"Unknown CROHME split {split!r}; choose one of: {', '.join(SPLITS)}")
    archive, subset = SPLITS[split]
    for p in (data_dir / "crohme" / archive, data_dir / archive):
        if p.is_file():
            return p, subset
    raise InkmathError(f"CROHME archive {archive} not found under {data_dir}/crohme. Download the CROHME InkML "
                       f"archives there, or set INKMATH_DATA / --data-dir to the folder that holds crohme/.")


def truth_symbols(expr: InkmlExpression) -> tuple[list[np.ndarray], list[tuple[int, list[np.ndarray]]]]:
    """The expression's strokes (``ink.as_strokes``) and its known symbols: (group index, the group's non-empty
    strokes) of each traceGroup with ink and a label among the 101 classes."""
    from inkmath import ink

    strokes = ink.as_strokes(expr.strokes)
    found = []
    for k, g in enumerate(expr.groups):
        own = [strokes[i] for i in g.stroke_ids if len(strokes[i])]
        if own and normalize_label(g.label) is not None:
            found.append((k, own))
    return strokes, found


def symbol_crops(expr: InkmlExpression) -> tuple[list[np.ndarray], list[int], list[tuple[float, ...]]]:
    """Raw crops (white ink on black) of the expression's known symbols, their group indices, and geometry.

    Geometry per symbol: (x0, y0, x1, y1) of its box relative to the expression's top-left corner, in units of
    the expression's typical symbol size (so 1.0 is one ordinary symbol).
    """
    from inkmath import ink

    strokes, symbols = truth_symbols(expr)
    scale = ink.normalization_scale(strokes)
    ex0, ey0, _, _ = ink.bbox(strokes)
    unit = ink.DEFAULT_HEIGHT / scale
    crops, which, geom = [], [], []
    for k, own in symbols:
        crops.append(ink.render_symbol(own, scale=scale))
        x0, y0, x1, y1 = ink.bbox(own)
        geom.append(((x0 - ex0) / unit, (y0 - ey0) / unit, (x1 - ex0) / unit, (y1 - ey0) / unit))
        which.append(k)
    return crops, which, geom


class CropTable:
    """The arrays of a symbol-crop data set, filled one expression at a time: images (prepared with ``preset``),
    labels, ids (``expr/group``), expr_index, expr_ids; ``geometry`` too when the crops come with it."""

    def __init__(self, preset: str):
        self.preset, self.vocab = preset, crohme_vocab()
        self.images, self.labels, self.ids, self.expr_index, self.expr_ids, self.geometry = [], [], [], [], [], []

    def add(self, expr: InkmlExpression, crops: list, which: list[int], geometry: list | None = None) -> None:
        from inkmath.preprocess import prepare_uint8

        if not crops:
            return
        self.images.append(prepare_uint8(crops, self.preset, ink="white"))
        self.labels += [self.vocab.index(normalize_label(expr.groups[k].label)) for k in which]
        self.ids += [f"{expr.id}/{k}" for k in which]
        self.expr_index += [len(self.expr_ids)] * len(which)
        self.geometry += geometry or []
        self.expr_ids.append(expr.id)

    def arrays(self, archive: Path, subset: str) -> dict[str, np.ndarray]:
        if not self.labels:
            raise InkmathError(f"No symbols found in {archive} (folder {subset}); is it a CROHME InkML archive?")
        return {"images": np.concatenate(self.images), "labels": np.array(self.labels, np.int64),
                "ids": np.array(self.ids), "expr_index": np.array(self.expr_index, np.int32)}


def _build(archive: Path, subset: str, limit: int | None, preset: str = "symbol32") -> dict[str, np.ndarray]:
    table = CropTable(preset)
    skipped: list[Skipped] = []
    unknown: dict[str, int] = {}
    for expr in iter_inkml(archive, subset, skipped):
        if limit is not None and len(table.expr_ids) >= limit:
            break
        crops, which, geom = symbol_crops(expr)
        for g in expr.groups:
            if normalize_label(g.label) is None:
                unknown[g.label] = unknown.get(g.label, 0) + 1
        table.add(expr, crops, which, geom)
    return {
        **table.arrays(archive, subset),
        "geometry": np.array(table.geometry, np.float32),
        "expr_ids": np.array(table.expr_ids),
        "skipped": np.array([f"{s.name}\t{s.reason}" for s in skipped] or [""])[: len(skipped)],
        "unknown_labels": np.array([f"{k}\t{v}" for k, v in sorted(unknown.items())] or [""])[: len(unknown)],
        "names": np.array(table.vocab.names),
    }


def load_crohme_arrays(split: str = "train", data_dir: Path | str | None = None,
                       limit: int | None = None, preset: str = "symbol32") -> dict[str, np.ndarray]:
    """All cached arrays of a split: images, labels, ids, expr_index, geometry (N, 4), expr_ids, skipped, ...

    Decoded once (the first call renders every symbol; a few tens of seconds for the training set), then read
    from the ``.npz`` cache. A context model can use ``geometry`` / ``expr_index``; the SymbolDataset stays
    images + labels.
    """
    from inkmath import ink

    dd = Path(data_dir) if data_dir is not None else default_dir()
    archive, subset = split_archive(split, dd)
    extra = f"crohme-v2|raster{ink.RASTER_VERSION}|{subset}|{limit}|{ink.DEFAULT_HEIGHT}|{ink.DEFAULT_THICKNESS}|{preset}"
    return cached_arrays(f"crohme-{split}", [archive], extra, lambda: _build(archive, subset, limit, preset))


@register_reader("crohme", usage="crohme:train|val|test|test2013|test2012|test2011[:limit=N][:preset=P] "
                                 "(val = CROHME 2013 test, test = CROHME 2014 test)")
def load_crohme(split: str = "train", *, data_dir: Path, limit: str | None = None,
                preset: str = "symbol32") -> SymbolDataset:
    """Symbol crops (uint8 32x32, white ink on black) of a CROHME split, labelled with the 101 classes."""
    n = None
    if limit is not None:
        if not str(limit).isdigit() or int(limit) < 1:
            raise InkmathError(f"limit must be a positive whole number of expressions, got {limit!r}")
        n = int(limit)
    # the crops are stored already prepared with ``preset`` (crohme:train:preset=crohme32 keeps relative size)
    a = load_crohme_arrays(split, data_dir, n, preset)
    if tuple(a["names"]) != crohme_vocab().names:
        raise InkmathError("The CROHME cache was built with another class list; delete it from the cache dir")
    return SymbolDataset(a["images"], a["labels"], crohme_vocab(), f"crohme:{split}", "white", a["ids"].tolist(),
                         prepared=preset)


# ------------------------------------------------------------------------------------------------ WAP
@dataclass
class WapSample:
    id: str  # the InkML base name (e.g. "18_em_0")
    image: np.ndarray  # uint8 (H, W), white ink on black
    tokens: list[str]  # the caption, space-separated LaTeX tokens


def read_captions(text: str) -> dict[str, list[str]]:
    """``ID<TAB>tok tok ...`` (or ``ID tok tok ...``) lines -> {ID: tokens}; an ID written as a path (``img\\a.bmp``,
    ``img/a.bmp``) is its file name, and a leading byte-order mark is not part of the first ID."""
    out: dict[str, list[str]] = {}
    for line in text.removeprefix("\ufeff").splitlines():
        if not line.strip():
            continue
        key, sep, rest = line.partition("\t")
        if not sep:
            key, _, rest = line.strip().partition(" ")
        out[re.split(r"[\\/]", key.strip())[-1]] = rest.split()
    return out


def iter_wap(source: str | Path, limit: int | None = None, skipped: list[Skipped] | None = None,
             uncaptioned: list[str] | None = None) -> Iterator[WapSample]:
    """WAP offline images with their captions, from ``crohme2014_test_offline_wap.tar.xz`` or its folder, or a set
    laid out as the later offline sets are (a ``caption.txt`` beside or above each folder of images, zipped or not;
    HME100K's ``test_labels.txt`` beside its ``test_images/``).

    An image (bmp, png or jpg) belongs to the captions of the nearest folder above it that has a caption file; its id
    is its file name without the extension, or without a trailing ``_0`` too (the 2014 archive's ``18_em_0.bmp`` is
    caption ``18_em``), or with the extension (HME100K's captions name ``train_0.jpg``). An image without a caption is
    passed over (its name appended to ``uncaptioned``); one that cannot be decoded is appended to ``skipped``, or,
    without that list, raises ``InkmathError``."""
    import cv2

    src = Path(source)
    files = dict(archive_members(src, None, IMAGE_FILES + CAPTION_FILES))
    caps = [n for n in files if n.lower().endswith(CAPTION_FILES)]
    if not caps:
        raise InkmathError(f"No caption file (*caption.txt or *labels.txt) in {src}; expected the WAP offline "
                           f"archive (images + test_caption.txt) or a set laid out like it")
    captions: dict[str, dict[str, list[str]]] = {}  # folder of a caption file -> {id: tokens}
    for n in caps:
        try:
            text = files[n].decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InkmathError(f"{src}:{n}: the caption file is not UTF-8 text ({e.reason} at byte {e.start}); "
                               f"save it as UTF-8") from None
        captions.setdefault(Path(n).parent.as_posix(), {}).update(read_captions(text))
    count = 0
    for name in sorted(n for n in files if n not in caps):
        found = _caption_of(name, captions)
        if found is None:
            if uncaptioned is not None:
                uncaptioned.append(name)
            continue
        key, tokens = found
        img = cv2.imdecode(np.frombuffer(files[name], np.uint8), cv2.IMREAD_GRAYSCALE)
        if img is None:
            if skipped is None:
                raise InkmathError(f"{src}:{name}: cannot decode the image")
            skipped.append(Skipped(name, f"{name}: cannot decode the image; the file is broken - skip or repair it"))
            continue
        yield WapSample(key, img, tokens)
        count += 1
        if limit is not None and count >= limit:
            return


def _caption_of(name: str, captions: dict[str, dict[str, list[str]]]) -> tuple[str, list[str]] | None:
    """(id, tokens) of the image ``name`` from the nearest caption file above it, None if it has no caption."""
    path = Path(name)
    keys = (path.stem, re.sub(r"_0$", "", path.stem), path.name)  # captions keyed by the file's name too (HME100K)
    for folder in path.parents:
        table = captions.get(folder.as_posix())
        if table is None:
            continue
        for key in keys:
            if key in table:
                return key, table[key]
        return None
    return None
