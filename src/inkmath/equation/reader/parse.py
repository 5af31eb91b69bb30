"""Reading the layout: segmented symbols (``SymbolHyp``) -> expression tree (``tree.Node``).

The stages, each its own module:

1. take a token for every symbol (given by the caller: the decoder reads them in context with the symbol-context
   model, ``symbols.read_symbols``; else the classifier's best);
2. group the symbols into atoms: function names, ellipses, relations in two pieces (``atoms``), and lines;
3. read each line's layout (``layout``: a reader of one line of atoms, ``layout_rules.rule_layout`` or the learnt
   ``structure_model.learnt_layout``);
4. fix what no truth has (``tree_passes``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from inkmath.equation.reader.atoms import (
    _Atom, _row_height, merge_dots, merge_function_names, merge_relation_parts, split_lines,
)
from inkmath.equation.reader.layout_model import load_relation_model
from inkmath.equation.reader.layout_rules import Unit, rule_layout  # noqa: F401  (Unit re-exported for the tests)
from inkmath.equation.reader.layout_rules import model_relation
from inkmath.equation.core.tree import Lines, Node, Row, SymbolHyp
from inkmath.equation.reader.tree_passes import (  # noqa: F401  (the passes re-exported for the tests)
    drop_specks, lone_script_marks, passes,
)
from inkmath.equation.reader.layout_choice import chosen_layout
from inkmath.equation.reader.structure_model import load_structure_model, rescored_layout


def _choose_token(h: SymbolHyp) -> str:
    return h.candidates[0].token if h.candidates else "?"


def parse(hyps: list[SymbolHyp], tokens: list[str] | None = None, layout=None, lines: dict | None = None) -> Node:
    """Expression tree for segmented symbols; ``tokens`` fixes the reading per symbol (else the classifier's best;
    the reader chooses them in context with the symbol-context model, ``symbols.read_symbols``);
    ``layout`` reads one line of atoms into a tree (default ``default_layout()``). ``lines``: a dict that keeps
    each (hyps, tokens)'s lines of atoms between the readings of one input (``ParseMemo``; ``hyps`` unchanged
    meanwhile): the same atom objects when the same reading is parsed again with another layout."""
    if not hyps:
        return Row([])
    if tokens is None:
        tokens = [_choose_token(h) for h in hyps]
    elif len(tokens) != len(hyps):
        raise ValueError(f"{len(tokens)} tokens for {len(hyps)} symbols")
    if lines is None:
        atom_lines = line_atoms(hyps, tokens)
    else:
        key = (id(hyps), tuple(tokens))
        kept = lines.get(key)
        if kept is None:
            kept = lines[key] = (hyps, line_atoms(hyps, tokens))  # hyps held: its id names it while the dict lives
        atom_lines = kept[1]
    read = layout if layout is not None else default_layout()
    tree = Lines([read(line) for line in atom_lines]) if len(atom_lines) > 1 else read(atom_lines[0])
    return passes(tree, hyps)


def line_atoms(hyps: list[SymbolHyp], tokens: list[str]) -> list[list[_Atom]]:
    """The atoms of segmented symbols read as ``tokens`` (function names, ellipses and relations in two
    pieces merged), one list per line (``split_lines``; one line: every atom, in order)."""
    atoms = [_Atom(h.box, tokens[i], i, list(h.candidates)) for i, h in enumerate(hyps)]
    atoms = merge_function_names(atoms)
    row_h = _row_height(atoms)
    atoms = merge_dots(atoms, row_h)
    atoms = merge_relation_parts(atoms, row_h)
    lines = split_lines(atoms, row_h)
    return [[atoms[i] for i in line] for line in lines] if len(lines) > 1 else [atoms]


# before ``layout_choice`` (``margin_layout``): the learnt structure model (``structure_model``) replaced the rules'
# tree of a line when it found its own best tree at least exp(STRUCTURE_MARGIN) times likelier than the rules' tree.
# Layout given the true symbols on the 2011-2013 validation (benchmarks/layout_truth.py val), of 1,504 expressions:
# the rules 1,322; the model alone 1,198 (60 gained, 184 lost); margin 0: 1,246, 1: 1,291, 2: 1,312, 3: 1,318, 4:
# 1,330, 5: 1,334, 6: 1,338, 8: 1,342 (29 gained, 9 lost), 12: 1,339 (19 gained, 2 lost). With the model that reads
# symbols in context (2026-11-24, docs/decisions/structure-model.md; the shipped one reads the geometry
# alone, tokens added after): alone 1,322; margin 4: 1,372 (91.22 %), 8: 1,369, 12: 1,356. The decoder on every 3rd
# validation expression (502, strokes, benchmarks/decoder_val.py): margin 2: 63.35 %, 4: 64.34 %, 8: 63.75 %
STRUCTURE_MARGIN = 4.0


def default_layout():
    """The layout reader ``parse`` uses unless told otherwise: each line's tree chosen among the rules' trees and
    the structure model's best ones, with the LaTeX language model (``layout_choice.chosen_layout``)."""
    return chosen_layout()


def margin_layout():
    """The layout reader before ``layout_choice`` (2026-11-24): the rules (``layout_rules``) checked by the
    structure model (``structure_model.rescored_layout`` at ``STRUCTURE_MARGIN``)."""
    return rescored_layout(load_structure_model(), rule_layout(), STRUCTURE_MARGIN)


def parse_scored(hyps: list[SymbolHyp], tokens: list[str] | None = None, model=None,
                 other: bool = False, memo: "ParseMemo | None" = None) -> tuple[Node, float]:
    """``parse`` with the layout the decoder reads every hypothesis with (``margin_layout``: the rules checked by the
    structure model), and the structure model's log-probability of the layout it read (the sum over its lines;
    -inf where the model cannot score the rules' tree): a whole reading's structure score. The decoder's first
    reading is read again with the default layout (``chosen_parse``). ``model``: a ``structure_model.StructureModel``
    (default the shipped one). ``other``: every line read by the layout the margin does not choose (the rules' tree
    where it takes the model's, and the reverse): the second reading of the layout. ``memo``: work kept between the
    readings of one input (``ParseMemo``; the same trees and scores as without)."""
    scores: list[float] = []
    rules = rule_layout() if memo is None else rule_layout(relation=memo.relation, trees=memo.trees)
    layout = rescored_layout(model if model is not None else load_structure_model(), rules, STRUCTURE_MARGIN,
                             scores, other=other, memo=None if memo is None else memo.geometry)
    tree = parse(hyps, tokens, layout=layout, lines=None if memo is None else memo.lines)
    return tree, float(sum(scores))


def chosen_parse(hyps: list[SymbolHyp], tokens: list[str] | None = None,
                 memo: "ParseMemo | None" = None) -> tuple[Node, float]:
    """``parse`` with the default layout (each line's tree chosen among candidates, ``layout_choice``), and the
    structure model's log-probability of the layout it read: the decoder's first reading read again
    (``decode.decode``'s ``final_layout``). ``memo``: as ``parse_scored``'s (shared with it)."""
    scores: list[float] = []
    rules = rule_layout() if memo is None else rule_layout(relation=memo.relation, trees=memo.trees)
    layout = chosen_layout(rules=rules, scores=scores, memo=None if memo is None else memo.geometry)
    tree = parse(hyps, tokens, layout=layout, lines=None if memo is None else memo.lines)
    return tree, float(sum(scores))


@dataclass
class ParseMemo:
    """What ``parse_scored`` keeps between the readings of one input, which the decoder parses with several token
    choices and groupings: the layout rules' relation answers (a ``layout_rules.model_relation`` of the shipped
    relation model, which remembers them) and the structure model's first-layer geometry; and for a reading read
    again with another layout (``other_layout``, ``chosen_parse``: the decoder's first reading), its lines of atoms
    and their rules' trees. (Not the structure model's scores of them: ``log_probs`` updates the last reading's, and
    a float32 sum in another order moves their last bits.) Nothing in it outlives the input (a new one per
    ``decode``), so a reading costs what it costs on new ink, not on ink read before."""

    relation: Callable = field(default_factory=lambda: model_relation(load_relation_model()))
    geometry: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)  # each reading's lines of atoms (``parse``)
    trees: dict = field(default_factory=dict)  # the rules' tree of each line of those atoms (``rule_layout``)


def other_layout(hyps: list[SymbolHyp], tokens: list[str], memo: ParseMemo | None = None) -> tuple[Node, float]:
    """The second reading of the layout (``parse_scored(..., other=True)``), for the decoder's alternatives."""
    return parse_scored(hyps, tokens, other=True, memo=memo)


def _for_one_input(reader):
    """``reader.for_one_input``: the decoder reads one input's readings with ``for_one_input()``
    (``decode.for_one_input``): a fresh ParseMemo each, or the one the input's other layout readers keep (its answers
    do not depend on which layout is chosen)."""
    return lambda memo=None: functools.partial(reader, memo=memo if memo is not None else ParseMemo())


for _reader in (parse_scored, other_layout, chosen_parse):
    _reader.for_one_input = _for_one_input(_reader)  # type: ignore[attr-defined]
