"""Class vocabularies: class name <-> LaTeX (the table of known names lives in data/latex_names.tsv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _latex_table() -> dict[str, str]:
    """Known class names (folder names of the Kaggle set, CROHME labels, ...) mapped to LaTeX."""
    text = resources.files("inkmath.data").joinpath("latex_names.tsv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for row in csv.reader(text.splitlines(), delimiter="\t"):
        if row and not row[0].startswith("#"):
            table[row[0]] = row[1]
    return table


def latex_for(name: str) -> str:
    """LaTeX for a class name: a table entry, else the name itself (HASYv2 and CROHME names already are LaTeX)."""
    return _latex_table().get(name, name)


@dataclass(frozen=True)
class Vocabulary:
    """Ordered class list; index i is the model's output i."""

    names: tuple[str, ...]
    latex: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.latex:
            object.__setattr__(self, "latex", tuple(latex_for(n) for n in self.names))
        if len(self.latex) != len(self.names):
            raise ValueError("names and latex must have the same length")
        if len(set(self.names)) != len(self.names):
            raise ValueError("class names must be unique")

    @classmethod
    def from_names(cls, names) -> "Vocabulary":
        return cls(tuple(str(n) for n in names))

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown class {name!r}; the vocabulary has {len(self)} classes") from None

    def to_dict(self) -> dict:
        return {"names": list(self.names), "latex": list(self.latex)}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        return cls(tuple(d["names"]), tuple(d["latex"]))
