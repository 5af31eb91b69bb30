"""What data sets inkmath knows: their official files, where they come from and where they go under the data dir.

The layout under the data dir (``inkmath.data.data_dir()``) is the one the readers expect, e.g.
``mnist/train-images-idx3-ubyte.gz`` or ``hasyv2/HASYv2.tar.bz2``. A mirror (``--mirror`` / ``$INKMATH_MIRROR``)
serves the same layout: file ``mnist/train-images-idx3-ubyte.gz`` is fetched from ``MIRROR/mnist/train-...gz``.

Sets whose files have no official direct link (CROHME is distributed after registration; Kaggle needs a login)
carry ``manual`` instructions instead: ``inkmath download`` prints them and ``inkmath datasets`` checks for the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inkmath.errors import InkmathError


@dataclass(frozen=True)
class DataFile:
    """One file of a data set. ``path`` is POSIX and relative to the data dir."""

    path: str
    urls: tuple[str, ...] = ()  # official sources, tried in order; empty: the file must be fetched by hand
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None  # bytes, where known
    # False when the checksum describes one particular packing rather than the published file (for example the
    # CROHME archives, which users pack themselves): a mismatch is then reported, never treated as damage.
    checksum_official: bool = True
    how: str = ""  # for manual files: how to make or get exactly this file

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def checksum(self) -> tuple[str, str] | None:
        """(algorithm, hex digest) to verify against; sha256 is preferred when both are known."""
        if self.sha256:
            return "sha256", self.sha256.lower()
        if self.md5:
            return "md5", self.md5.lower()
        return None


@dataclass(frozen=True)
class DataSetInfo:
    name: str
    title: str
    scheme: str  # the load_dataset() scheme that reads these files
    files: tuple[DataFile, ...]
    specs: tuple[str, ...] = ()  # spec strings that work once the files are in place; empty: ask the reader registry
    homepage: str = ""
    licence: str = ""
    manual: str = ""  # non-empty when the set cannot be downloaded automatically
    aliases: tuple[str, ...] = field(default=())

    @property
    def downloadable(self) -> bool:
        return not self.manual and all(f.urls for f in self.files)


# MNIST: the four files torchvision and Keras-era tutorials fetch; md5s as published by torchvision.
_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def _mnist(name: str, md5: str, size: int) -> DataFile:
    return DataFile(f"mnist/{name}", tuple(m + name for m in _MNIST_MIRRORS), md5=md5, size=size)


_CROHME_GET = (
    "CROHME is distributed by IAPR TC-11 after registration: http://tc11.cvc.uab.es/datasets/ICFHR-CROHME-2016_1 "
    "(the CROHME_labeled_2016 package; a mirror of its InkML folders is https://github.com/vndee/offline-crohme). "
    "The offline test images and captions come with WAP: https://github.com/JianshuZhang/WAP (folder data/). "
    "Pack each part as tar.xz, keeping the official folder names: run the commands below in the folder that holds "
    "CROHME_labeled_2016 (or the WAP files) and put the archives where the arrows point."
)

CATALOG: dict[str, DataSetInfo] = {
    "mnist": DataSetInfo(
        name="mnist",
        title="MNIST handwritten digits (LeCun, Cortes, Burges)",
        scheme="mnist",
        files=(
            _mnist("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
            _mnist("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881),
            _mnist("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
            _mnist("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542),
        ),
        specs=("mnist:train", "mnist:test"),
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "hasy": DataSetInfo(
        name="hasy",
        title="HASYv2, 369 handwritten LaTeX symbols (Martin Thoma, arXiv:1701.08380)",
        scheme="hasy",
        files=(
            DataFile(
                "hasyv2/HASYv2.tar.bz2",
                ("https://zenodo.org/records/259444/files/HASYv2.tar.bz2?download=1",),
                md5="fddf23f36e24b5236f6b3a0880c778e3",
            ),
        ),
        specs=("hasy:fold=1..10:train|test", "hasy:all"),
        homepage="https://doi.org/10.5281/zenodo.259444",
        licence="ODbL-1.0",
        aliases=("hasyv2",),
    ),
    "crohme": DataSetInfo(
        name="crohme",
        title="CROHME handwritten expressions (InkML) and the WAP offline 2014 test images",
        scheme="crohme",
        files=(
            DataFile(
                "crohme/crohme2014_train_inkml.tar.xz",
                sha256="8d717ffe50fd265c1a55f7d3a491d09532a93daa06f2d8d2060b5db545b84b1a",
                checksum_official=False,
                how="tar -cJf crohme2014_train_inkml.tar.xz CROHME_labeled_2016/TrainINKML",
            ),
            DataFile(
                "crohme/crohme2011-2013_test_inkml.tar.xz",
                sha256="5beffcfe1951399d304a2b4a63d53f14d93f85e6972a7f1267450e40fda997ba",
                checksum_official=False,
                how="tar -cJf crohme2011-2013_test_inkml.tar.xz CROHME_labeled_2016/TestINKMLGT "
                    "CROHME_labeled_2016/testDataGT CROHME_labeled_2016/CROHME_testGT",
            ),
            DataFile(
                "crohme/crohme2014_test_inkml.tar.xz",
                sha256="6e6b2b6a5c1ab95213a5b018e4f71e177910ff7d595669b40aec808a33aa54e5",
                checksum_official=False,
                how="tar -cJf crohme2014_test_inkml.tar.xz CROHME_labeled_2016/TestEM2014GT",
            ),
            DataFile(
                "crohme/crohme2014_test_offline_wap.tar.xz",
                sha256="ff07a9ecaa346dbd342d9abfd38fe5f7637a64df1d983c95a41f84e4bc8c6a68",
                checksum_official=False,
                how="a folder crohme2014_test_offline_wap/ holding WAP's off_image_test/ (*.bmp), test_caption.txt "
                    "and dictionary.txt: tar -cJf crohme2014_test_offline_wap.tar.xz crohme2014_test_offline_wap",
            ),
            DataFile(
                "crohme/crohme2014_train_offline_wap_captions.tar.xz",
                sha256="f0b6cceffff45fde6b9794e8a91f1179b9eb36a635d32f8513f5441f106a6383",
                checksum_official=False,
                how="a folder crohme2014_train_offline_wap_captions/ holding WAP's train_caption.txt and "
                    "dictionary.txt: tar -cJf crohme2014_train_offline_wap_captions.tar.xz "
                    "crohme2014_train_offline_wap_captions",
            ),
        ),
        homepage="http://tc11.cvc.uab.es/datasets/ICFHR-CROHME-2016_1",
        licence="research and non-commercial use, with attribution",
        manual=_CROHME_GET,
    ),
    "kaggle-symbols": DataSetInfo(
        name="kaggle-symbols",
        title="Kaggle 'Handwritten math symbols' (xainano), 45x45 JPEGs per class",
        scheme="folder",
        files=(
            DataFile(
                "handwrittenmathsymbols/handwrittenmathsymbols.zip",
                how="the zip Kaggle serves; inside: extracted_images/<class>/<image>.jpg",
            ),
        ),
        specs=("folder:handwrittenmathsymbols/handwrittenmathsymbols.zip[:split=train|val|test]",),
        homepage="https://www.kaggle.com/datasets/xainano/handwrittenmathsymbols",
        licence="CC0 (the CROHME terms apply to the underlying data)",
        manual=(
            "Kaggle needs a login, so inkmath cannot fetch this set. Sign in at "
            "https://www.kaggle.com/datasets/xainano/handwrittenmathsymbols and press Download (or run "
            "`kaggle datasets download -d xainano/handwrittenmathsymbols` with your Kaggle API token)."
        ),
        aliases=("kaggle", "handwrittenmathsymbols"),
    ),
}

# `inkmath download all` fetches these; the others need a person.
DOWNLOADABLE = tuple(n for n, d in CATALOG.items() if d.downloadable)


def get(name: str) -> DataSetInfo:
    """The catalog entry for a name or alias; unknown names raise with the list of choices."""
    key = name.strip().lower()
    for info in CATALOG.values():
        if key == info.name or key in info.aliases:
            return info
    raise InkmathError(f"Unknown data set {name!r}; choose one of: {', '.join(CATALOG)}")


def manual_instructions(info: DataSetInfo, data_dir) -> str:
    """Where to get a set by hand and exactly where each file must go."""
    lines = [f"{info.title}:", info.manual or f"Download the files from {info.homepage}."]
    for f in info.files:
        target = f"{data_dir}/{f.path}"
        lines.append(f"  -> {target}" + (f"   ({f.how})" if f.how else ""))
    return "\n".join(lines)
