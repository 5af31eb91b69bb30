import zipfile

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.data import load_dataset, parse_spec, stratified_split

from conftest import SHARED_DATA, has_shared


def test_parse_spec():
    assert parse_spec("hasy:fold=3:test") == ("hasy", ["test"], {"fold": "3"})
    assert parse_spec("folder:/a/b.zip:split=val:seed=2") == ("folder", ["/a/b.zip"], {"split": "val", "seed": "2"})
    assert parse_spec("csv:C:\\x\\y.csv") == ("csv", ["C:\\x\\y.csv"], {})


def test_unknown_dataset_lists_choices():
    with pytest.raises(InkmathError, match="Unknown dataset 'hasy3'.*choose one of.*mnist"):
        load_dataset("hasy3:train")


def test_missing_files_say_where(tmp_path):
    with pytest.raises(InkmathError, match="MNIST file not found.*inkmath download mnist"):
        load_dataset("mnist:train", tmp_path)


def test_mnist_idx(tiny_mnist):
    ds = load_dataset("mnist:train", tiny_mnist)
    assert ds.images.shape == (120, 28, 28) and ds.images.dtype == np.uint8
    assert ds.class_counts()[:4].tolist() == [30, 30, 30, 30]
    assert ds.vocab.names[:3] == ("0", "1", "2") and ds.ink == "white"
    with pytest.raises(InkmathError, match="train or test"):
        load_dataset("mnist:valid", tiny_mnist)


def test_mnist_truncated(tiny_mnist):
    import gzip

    p = tiny_mnist / "mnist" / "t10k-images-idx3-ubyte.gz"
    data = gzip.decompress(p.read_bytes())
    p.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(InkmathError, match="truncated"):
        load_dataset("mnist:test", tiny_mnist)


def test_hasy_archive(tiny_hasy):
    tr = load_dataset("hasy:fold=1:train", tiny_hasy)
    te = load_dataset("hasy:fold=1:test", tiny_hasy)
    assert len(tr) + len(te) == 24 and len(te) == 8
    assert tr.vocab.names == ("|", "-", "o", "\\times") and tr.vocab.latex[3] == "\\times"
    assert tr.ink == "black"
    with pytest.raises(InkmathError, match="folds: 1, 2"):
        load_dataset("hasy:fold=7:test", tiny_hasy)


def test_folder_dir_and_zip_and_split(tiny_folder, tmp_path):
    ds = load_dataset(f"folder:{tiny_folder}", tmp_path)
    assert len(ds) == 100 and ds.vocab.names == ("bar", "minus", "o", "times")
    # the reader stores prepared 32x32 white-on-black symbols
    assert ds.images.shape[1:] == (32, 32) and ds.images[:, 0, 0].max() == 0
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tiny_folder.rglob("*.png"):
            zf.write(f, "extracted_images/" + str(f.relative_to(tiny_folder)))
    dz = load_dataset(f"folder:{z}", tmp_path)
    assert np.array_equal(np.sort(dz.labels), np.sort(ds.labels))
    parts = [load_dataset(f"folder:{z}:split={s}:seed=1", tmp_path) for s in ("train", "val", "test")]
    assert sum(len(p) for p in parts) == 100
    assert all(set(p.labels.tolist()) == {0, 1, 2, 3} for p in parts)  # stratified
    ids = [set(p.ids) for p in parts]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])


def test_csv_map_and_bad_rows(tiny_folder, tmp_path):
    files = sorted(tiny_folder.rglob("*.png"))
    lines = ["path,label"] + [f"{f.relative_to(tiny_folder)},{f.parent.name}" for f in files]
    (tiny_folder / "broken.png").write_bytes(b"not a png")
    lines.append("broken.png,bar")
    (tiny_folder / "map.csv").write_text("\n".join(lines) + "\n")
    ds = load_dataset(f"csv:{tiny_folder / 'map.csv'}", tmp_path)
    assert len(ds) == 100  # the broken row is skipped with a warning
    (tmp_path / "empty.csv").write_text("path,label\n")
    with pytest.raises(InkmathError, match="no rows"):
        load_dataset(f"csv:{tmp_path / 'empty.csv'}", tmp_path)


def test_cache_is_used(tiny_mnist, monkeypatch):
    import inkmath.data.mnist as m

    load_dataset("mnist:train", tiny_mnist)
    monkeypatch.setattr(m, "read_idx", lambda p: (_ for _ in ()).throw(AssertionError("decoded again")))
    load_dataset("mnist:train", tiny_mnist)


def test_stratified_split_fractions():
    y = np.repeat(np.arange(5), 40)
    p = stratified_split(y, (0.8, 0.1, 0.1), seed=0)
    assert [len(p[k]) for k in ("train", "val", "test")] == [160, 20, 20]


@pytest.mark.skipif(not has_shared("mnist"), reason="shared data not present")
def test_real_mnist():
    ds = load_dataset("mnist:train", SHARED_DATA)
    assert ds.class_counts().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert load_dataset("mnist:test", SHARED_DATA).class_counts().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.skipif(not has_shared("handwrittenmathsymbols"), reason="shared data not present")
def test_real_kaggle_zip():
    ds = load_dataset("folder:handwrittenmathsymbols/handwrittenmathsymbols.zip", SHARED_DATA)
    assert len(ds) == 5082 and len(ds.vocab) == 19
    assert ds.vocab.latex[ds.vocab.index("geq")] == "\\geq"


def test_two_data_sets_of_the_same_kind_join_with_a_plus_and_others_are_refused():
    from inkmath.data import load_dataset
    from inkmath.data.sets import _READERS, SymbolDataset, register_reader
    from inkmath.vocab import Vocabulary

    def reader(scheme, names, size, value):
        @register_reader(scheme, usage=f"{scheme}:N")
        def _read(n: str = "2", *, data_dir) -> SymbolDataset:
            return SymbolDataset(np.full((int(n), size, size), value, np.uint8), np.zeros(int(n), np.int64),
                                 Vocabulary(names), scheme, "white", [f"{scheme}/{i}" for i in range(int(n))])

    try:
        reader("joina", ("a", "b"), 8, 1)
        reader("joinb", ("a", "b"), 8, 2)
        reader("joinc", ("a", "c"), 8, 3)
        ds = load_dataset("joina:2+joinb:3")
        assert len(ds) == 5 and ds.images[:2].max() == 1 and ds.images[2:].min() == 2
        assert ds.ids == ["joina/0", "joina/1", "joinb/0", "joinb/1", "joinb/2"]
        with pytest.raises(InkmathError, match="cannot be joined"):
            load_dataset("joina:2+joinc:1")
    finally:
        for k in ("joina", "joinb", "joinc"):
            _READERS.pop(k, None)
