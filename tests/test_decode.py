"""The decoder on hand-built hypotheses: no classifier, no trained model."""

import math

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.equation.reader.decode import (Decoder, DecoderWeights, Reading, Segmentation, alternatives, decode,
                                     k_best_assignments)
from inkmath.equation.core.tree import Box, Candidate, Row, Symbol, SymbolHyp


def hyp(x, *cands, strokes=None):
    return SymbolHyp(Box(x, 0, x + 1, 1), [Candidate(t, p) for t, p in cands], strokes or [x])


def row_structure(symbols, tokens):
    """A stand-in structure model: the symbols left to right in one row."""
    order = sorted(range(len(symbols)), key=lambda k: symbols[k].box.x0)
    return Row([Symbol(tokens[k], k) for k in order])


class TableLM:
    """A stand-in language model: fixed log-probabilities for some token sequences, -10 for the others."""

    def __init__(self, table):
        self.table = {tuple(k.split()): v for k, v in table.items()}

    def logprob(self, tokens):
        return self.table.get(tuple(tokens), -10.0)


def test_k_best_assignments_are_exact():
    dists = [[Candidate("a", 0.6), Candidate("b", 0.4)], [Candidate("c", 0.5), Candidate("d", 0.3),
                                                          Candidate("e", 0.2)], [Candidate("f", 0.9), Candidate("g", 0.1)]]
    got = k_best_assignments(dists, 100)
    brute = sorted(((math.log(dists[0][i].prob) + math.log(dists[1][j].prob) + math.log(dists[2][k].prob), (i, j, k))
                    for i in range(2) for j in range(3) for k in range(2)), key=lambda t: -t[0])
    assert len(got) == 12
    assert [round(s, 9) for s, _ in got] == [round(s, 9) for s, _ in brute]
    assert got[0][1] == (0, 0, 0)
    assert k_best_assignments([], 3) == [(0.0, ())]


def test_symbol_score_alone_keeps_the_classifiers_reading():
    segs = [Segmentation([hyp(0, ("x", 0.6), ("\\times", 0.4)), hyp(2, ("2", 0.9), ("z", 0.1))])]
    rs = decode(segs, structure=row_structure)
    assert rs[0].latex == "x2" and rs[0].tokens == ["x", "2"]
    assert [r.latex for r in rs][:2] == ["x2", "\\times 2"]
    assert sum(r.prob for r in rs) == pytest.approx(1.0)
    assert rs[0].prob == pytest.approx(0.6 * 0.9 / (0.6 * 0.9 + 0.4 * 0.9 + 0.6 * 0.1 + 0.4 * 0.1))


def test_language_model_overturns_a_close_symbol_call():
    segs = [Segmentation([hyp(0, ("2", 0.9)), hyp(2, ("x", 0.55), ("\\times", 0.45)), hyp(4, ("3", 0.9))])]
    lm = TableLM({"2 \\times 3": -2.0, "2 x 3": -6.0})
    without = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=0.0))
    with_lm = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=0.5))
    assert without[0].tokens[1] == "x"
    assert with_lm[0].tokens[1] == "\\times" and with_lm[0].latex == "2\\times 3"
    assert with_lm[0].terms["lm"] == -2.0


def test_segmentation_alternatives_compete_and_pool():
    one = Segmentation([hyp(0, ("1", 0.5), ("l", 0.3)), hyp(2, ("2", 0.5))], score=0.0)
    two = Segmentation([SymbolHyp(Box(0, 0, 3, 1), [Candidate("n", 0.99)], [0, 2])], score=-0.5)
    weights = DecoderWeights(segment=1.0)
    rs = decode([one, two], structure=row_structure, weights=weights)
    assert rs[0].latex == "n" and rs[0].segmentation == 1  # 0.99 * e^-0.5 beats 0.25
    rs = decode([one, two], structure=row_structure, weights=DecoderWeights(segment=10.0))
    assert rs[0].latex == "12" and rs[0].segmentation == 0
    # two derivations of one LaTeX pool their probability
    same = Segmentation([hyp(0, ("1", 0.5)), hyp(2, ("2", 0.5))], score=-0.1)
    rs = decode([one, same], structure=row_structure, weights=DecoderWeights(segment=1.0))
    assert [r.latex for r in rs].count("12") == 1


def test_fixed_symbols_constrain_the_rest():
    segs = [Segmentation([hyp(0, ("2", 0.9)), hyp(2, ("x", 0.55), ("\\times", 0.45)), hyp(4, ("3", 0.9), ("y", 0.05))])]
    lm = TableLM({"2 \\times 3": -2.0, "2 x 3": -6.0, "2 x y": -1.0})
    assert decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0))[0].tokens == ["2", "\\times", "3"]
    rs = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0), fixed={1: "x"})
    assert rs[0].tokens[1] == "x"
    assert all(r.tokens[1] == "x" for r in rs)
    assert rs[0].tokens[2] == "y"  # re-read in the light of the correction: 2 x y is what the LM expects
    with pytest.raises(InkmathError, match="only 3 symbols"):
        decode(segs, structure=row_structure, fixed={5: "x"})


def test_calibration_and_alternatives():
    segs = [Segmentation([hyp(0, ("a", 0.5), ("b", 0.3), ("c", 0.2))])]
    rs = decode(segs, structure=row_structure, calibrate=lambda f: 0.8 if f["margin"] > 0 else 0.1)
    assert rs[0].confidence == 0.8
    alts = alternatives(rs)
    assert [a["latex"] for a in alts] == ["a", "b", "c"]
    assert alts[0]["confidence"] == 0.8
    assert all(alts[i]["confidence"] >= alts[i + 1]["confidence"] for i in range(len(alts) - 1))
    assert sum(a["confidence"] for a in alts) <= 1.0 + 1e-9


def test_alternatives_are_never_above_the_decoders_choice():
    """The decoder's choice may hold less probability than a reading after it (the first reading is read again by
    another layout reader after the search): the others were then scored above it (2014 test: 6 of 986)."""
    def reading(latex, prob, confidence=0.0):
        return Reading(latex, (latex,), [latex], 0, Row([]), 0.0, prob=prob, confidence=confidence)

    for conf in (0.1195, 0.6):
        alts = alternatives([reading("a", 0.2, conf), reading("b", 0.1), reading("c", 0.5), reading("d", 0.2)])
        assert [a["latex"] for a in alts] == ["a", "c", "d", "b"]  # the choice first, the rest by probability
        assert alts[0]["confidence"] == conf
        assert all(alts[i]["confidence"] >= alts[i + 1]["confidence"] for i in range(len(alts) - 1)), alts
        assert sum(a["confidence"] for a in alts) <= 1.0 + 1e-9


def test_structure_log_probability_counts():
    segs = [Segmentation([hyp(0, ("a", 0.5), ("b", 0.5))])]

    def structure(symbols, tokens):
        return row_structure(symbols, tokens), (-3.0 if tokens[0] == "a" else 0.0)

    assert decode(segs, structure=structure)[0].latex == "b"
    dec = Decoder(structure=structure, weights=DecoderWeights(structure=0.0))
    assert {r.latex for r in dec(segs)} == {"a", "b"}


def test_k_best_groups_first_is_best_groups():
    from inkmath.equation.strokes.segment import best_groups, candidate_spans, k_best_groups

    class P:
        def __init__(self, p):
            self.prob = p

    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(1, 9))
        pm = rng.uniform(0.01, 0.99, max(n - 1, 0))
        spans = candidate_spans(pm, n)
        preds = {s: [P(float(rng.uniform(0.05, 1)))] for s in spans}
        kb = k_best_groups(n, pm, preds, 5)
        assert kb[0][0] == best_groups(n, pm, preds)
        scores = [s for _, s in kb]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(g) for g, _ in kb}) == len(kb)
        for g, _ in kb:
            assert g[0][0] == 0 and g[-1][1] == n and all(a[1] == b[0] for a, b in zip(g, g[1:]))


def test_a_layout_the_structure_model_cannot_score_ranks_last_with_defined_probabilities():
    segs = [Segmentation([hyp(0, ("a", 0.6), ("b", 0.4))])]

    def structure(symbols, tokens):
        return row_structure(symbols, tokens), (-math.inf if tokens[0] == "a" else -2.0)

    readings = decode(segs, structure=structure)
    assert [r.latex for r in readings] == ["b", "a"]
    assert all(math.isfinite(r.prob) for r in readings) and readings[1].prob < 1e-6

    def unscorable(symbols, tokens):
        return row_structure(symbols, tokens), -math.inf

    readings = decode(segs, structure=unscorable)  # none can be scored: the other terms decide
    assert readings[0].latex == "a" and math.isclose(sum(r.prob for r in readings), 1.0)


def test_alt_beam_limits_the_parses_of_later_segmentations():
    calls = []

    def counting(symbols, tokens):
        calls.append(len(symbols))
        return row_structure(symbols, tokens)

    three = [hyp(0, ("a", 0.5), ("b", 0.3), ("c", 0.2)), hyp(2, ("d", 0.6), ("e", 0.4))]
    segs = [Segmentation(three, 0.0), Segmentation(three[:1], -0.5)]
    decode(segs, structure=counting, weights=DecoderWeights(beam=6))
    assert calls.count(1) == 3  # half the beam by default
    calls.clear()
    decode(segs, structure=counting, weights=DecoderWeights(beam=6, alt_beam=1))
    assert calls.count(2) == 6 and calls.count(1) == 1


def test_second_layout_of_the_best_readings_competes_and_is_traced():
    from inkmath.equation.core.tree import Sup

    def scored_row(symbols, tokens):
        return row_structure(symbols, tokens), -3.0

    def script_layout(symbols, tokens):
        """A stand-in second layout: the last symbol a superscript of the first, likelier by the structure model."""
        return Row([Sup(Symbol(tokens[0], 0), Symbol(tokens[1], 1))]), -1.0

    segs = [Segmentation([hyp(0, ("x", 0.8), ("y", 0.2)), hyp(2, ("2", 0.9), ("z", 0.1))])]
    lm = TableLM({"x ^ { 2 }": -2.0, "x 2": -3.0})
    off = decode(segs, structure=scored_row, lm=lm, alternative_layout=script_layout,
                 weights=DecoderWeights(lm=1.0, layouts=0))
    assert off[0].latex == "x2" and all("^" not in r.latex for r in off)
    on = decode(segs, structure=scored_row, lm=lm, alternative_layout=script_layout,
                weights=DecoderWeights(lm=1.0, layouts=1))
    assert on[0].latex == "x^{2}" and on[0].terms["structure"] == -1.0
    assert sum(r.latex.startswith("y^") or r.latex.startswith("x^") for r in on) == 1  # only the best one re-read
    # the trace holds every parsed reading's second layout, pointing at the reading it re-reads
    trace: list = []
    traced = decode(segs, structure=scored_row, lm=lm, alternative_layout=script_layout,
                    weights=DecoderWeights(lm=1.0, layouts=1), observe=trace.append)
    assert [(r.latex, r.prob) for r in traced] == [(r.latex, r.prob) for r in on]  # tracing changes no reading
    primaries = [t for t in trace if "alt_of" not in t]
    seconds = [t for t in trace if "alt_of" in t]
    assert len(primaries) == 4 and len(seconds) == 4
    assert all(trace[t["alt_of"]]["symbol"] == t["symbol"] and "alt_of" not in trace[t["alt_of"]] for t in seconds)


def test_final_layout_reads_the_first_reading_alone_again_and_keeps_its_place():
    from inkmath.equation.core.tree import Sup

    calls = []

    def script_layout(symbols, tokens):
        """A stand-in final layout: the second symbol a superscript of the first."""
        calls.append(tuple(tokens))
        return Row([Sup(Symbol(tokens[0], 0), Symbol(tokens[1], 1))]), -1.0

    segs = [Segmentation([hyp(0, ("x", 0.8), ("y", 0.2)), hyp(2, ("2", 0.9), ("z", 0.1))])]
    lm = TableLM({"x ^ { 2 }": -2.0, "x 2": -3.0})
    plain = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0), calibrate=lambda f: 0.5)
    again = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0),
                   calibrate=lambda f: 0.5 + 0.1 * f["layout_tokens"], final_layout=script_layout)
    assert calls == [tuple(plain[0].tokens)]  # the first reading alone, once
    assert again[0].latex == "x^{2}" and again[0].tokens == plain[0].tokens
    # the calibration reads the beam as ranked (the first's features: no layout token), as it was fitted
    assert again[0].prob == plain[0].prob and again[0].confidence == 0.5 and again[0].score == plain[0].score
    assert [r.latex for r in again[1:]] == [r.latex for r in plain][:len(again) - 1]  # the first follows it
    assert len({r.norm for r in again}) == len(again)
    # a final layout that reads as the first did: nothing changes
    same = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0), calibrate=lambda f: 0.5,
                  final_layout=lambda symbols, tokens: (row_structure(symbols, tokens), -1.0))
    assert [(r.latex, r.prob) for r in same] == [(r.latex, r.prob) for r in plain]


def test_offline_rescoring_of_a_trace_ranks_as_the_decoder_does():
    """benchmarks/decoder_val.py chooses the weights by re-ranking stored traces: it must agree with ``decode``."""
    import sys
    from pathlib import Path

    from inkmath.equation.core.tree import Sup

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import rank

    def scored_row(symbols, tokens):
        return row_structure(symbols, tokens), -2.5 if tokens[0] == "x" else -2.0

    def script_layout(symbols, tokens):
        return Row([Sup(Symbol(tokens[0], 0), Symbol(tokens[1], 1))]), -1.5

    segs = [Segmentation([hyp(0, ("x", 0.5), ("y", 0.3), ("k", 0.2)), hyp(2, ("2", 0.7), ("z", 0.3))])]
    lm = TableLM({"x ^ { 2 }": -2.0, "x 2": -3.0, "y 2": -2.5, "y ^ { z }": -1.0})
    for layouts in (0, 1, 2, 6):
        w = DecoderWeights(lm=0.7, structure=0.5, length=0.1, temperature=0.8, layouts=layouts)
        trace: list = []
        live = decode(segs, structure=scored_row, lm=lm, alternative_layout=script_layout, weights=w,
                      observe=trace.append)
        row = {"readings": trace}
        sim = rank([row], {"symbol": w.symbol, "lm": w.lm, "segment": w.segment, "structure": w.structure,
                           "temperature": w.temperature, "length": w.length, "beam": w.beam, "layouts": layouts})[0]
        assert [list(r.norm) for r in live] == [list(k) for k, _, _ in sim][:len(live)]
        assert [round(r.prob, 9) for r in live] == [round(p, 9) for _, p, _ in sim][:len(live)]


def test_the_calibration_reads_the_same_features_offline_as_the_decoder_does():
    """The calibration is fitted on features computed from dumped traces (decoder_val.features_of); the live decoder
    must compute the same ones, from all its distinct readings and not only the n best it returns."""
    import sys
    from pathlib import Path

    from inkmath.equation.reader.calibrate import FEATURES, IMAGE_FEATURES

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import features_of, rank

    segs = [Segmentation([hyp(0, ("x", 0.5), ("y", 0.3), ("k", 0.2)), hyp(2, ("2", 0.7), ("z", 0.3))]),
            Segmentation([hyp(0, ("X", 0.6), ("x", 0.4))], -1.0)]
    lm = TableLM({"x 2": -3.0, "y 2": -2.5, "X": -1.0})
    w = DecoderWeights(lm=0.7, segment=1.0, structure=0.5, length=0.1, temperature=0.8)
    seen: list[dict] = []
    trace: list = []
    live = decode(segs, structure=row_structure, lm=lm, weights=w, observe=trace.append, n_best=2,
                  calibrate=lambda f: seen.append(f) or 0.5)
    assert len(live) == 2 and len(seen) == 1
    row = {"readings": trace, "segs": [{"symbols": len(s.symbols), "min_prob": min(h.prob for h in s.symbols)}
                                       for s in segs]}
    sim = rank([row], {"symbol": w.symbol, "lm": w.lm, "segment": w.segment, "structure": w.structure,
                       "temperature": w.temperature, "length": w.length, "beam": w.beam})[0]
    offline = features_of(row, sim)
    assert set(FEATURES) >= set(IMAGE_FEATURES) and set(offline) >= set(FEATURES)
    assert offline["log_readings"] > math.log(2)  # more readings than the two returned
    assert {k: round(v, 9) for k, v in offline.items()} == {k: round(v, 9) for k, v in seen[0].items()}


def test_second_layouts_offered_as_alternatives_leave_the_first_reading_alone():
    """``offered_layouts`` adds the second layout of the next best readings to the alternatives only; the offline
    re-ranking (decoder_val.offered) returns the same list."""
    import sys
    from pathlib import Path

    from inkmath.equation.core.tree import Sup

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import offered, rank

    def script_layout(symbols, tokens):
        return Row([Sup(Symbol(tokens[0], 0), Symbol(tokens[1], 1))]), -1.5

    segs = [Segmentation([hyp(0, ("x", 0.5), ("y", 0.3), ("k", 0.2)), hyp(2, ("2", 0.7), ("z", 0.3))])]
    lm = TableLM({"x ^ { 2 }": -2.0, "x 2": -3.0, "y 2": -2.5, "y ^ { z }": -1.0})
    plain = DecoderWeights(lm=0.7, structure=0.5, length=0.1, temperature=0.8)
    without = decode(segs, structure=row_structure, lm=lm, alternative_layout=script_layout, weights=plain)
    for extra in (1, 2):
        w = DecoderWeights(lm=0.7, structure=0.5, length=0.1, temperature=0.8, offered_layouts=extra)
        live = decode(segs, structure=row_structure, lm=lm, alternative_layout=script_layout, weights=w)
        assert (live[0].latex, live[0].prob) == (without[0].latex, without[0].prob)
        assert any("^" in r.latex for r in live) and not any("^" in r.latex for r in without)  # a script is offered
        trace: list = []
        decode(segs, structure=row_structure, lm=lm, alternative_layout=script_layout, weights=w, observe=trace.append)
        wd = {"symbol": w.symbol, "lm": w.lm, "segment": w.segment, "structure": w.structure,
              "temperature": w.temperature, "length": w.length, "beam": w.beam, "offered_layouts": extra}
        rows = [{"readings": trace}]
        sim = offered(rows, wd, rank(rows, wd))[0]
        assert [list(r.norm) for r in live] == [list(k) for k, _, _ in sim][:len(live)]
        assert [round(r.prob, 9) for r in live[1:]] == [round(p, 9) for _, p, _ in sim][1:len(live)]


def test_the_speed_benchmark_runs_the_reader_on_one_thread_as_the_server_does():
    """bench_decoder.py (the issue's 50 ms figure) sets NumPy's BLAS to one thread before NumPy loads, as `inkmath
    serve` does: with a thread per core, a second thread spun on the other core and doubled the CPU of a read
    (docs/decisions/speed.md)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import bench_decoder, os; "
            "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code, str(bench)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]
    env["OPENBLAS_NUM_THREADS"] = "2"  # the environment still decides when it says
    out = subprocess.run([sys.executable, "-c", code, str(bench)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "1"]


def test_render_writes_the_latex_and_canonical_tokens_of_to_latex_and_normalize_latex():
    from inkmath.equation.reader.decode import _render
    from inkmath.equation.core.latex import to_latex, tokens
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.core.tree import Frac, Lines, Sup

    trees = [Row([Symbol("\\sin", 0), Symbol("x", 1), Sup(Symbol("y", 2), Symbol("2", 3))]),
             Frac(Row([Symbol("1", 0)]), Row([Symbol("\\alpha", 1), Symbol("\\times", 2), Symbol("b", 3)])),
             Lines([Row([Symbol("x", 0), Symbol("=", 1), Symbol("1", 2)]), Row([Symbol("y", 3)])])]
    canonical: dict = {}
    for tree in trees:
        want = (to_latex(tree), tuple(normalize_latex(" ".join(tokens(tree)))))
        assert _render(tree) == want
        assert _render(tree, canonical) == want
        assert _render(tree, canonical) == want  # read back from the memo
    assert len(canonical) == len(trees)


def test_a_reading_written_alike_by_two_derivations_asks_the_language_model_once():
    class CountingLM(TableLM):
        def __init__(self, table):
            super().__init__(table)
            self.asked = []

        def logprob(self, tokens):
            self.asked.append(tuple(tokens))
            return super().logprob(tokens)

    lm = CountingLM({"1 1": -1.0})
    segs = [Segmentation([hyp(0, ("1", 0.6), ("|", 0.4)), hyp(2, ("1", 0.7), ("l", 0.3))], 0.0),
            Segmentation([hyp(0, ("1", 0.5), ("|", 0.5)), hyp(2, ("1", 0.5), ("l", 0.5))], -1.0)]
    readings = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=1.0, segment=1.0))
    assert len(lm.asked) == len(set(lm.asked))  # each canonical reading asked once
    assert readings[0].latex == "11"
    assert readings[0].terms["lm"] == -1.0


def test_the_speed_benchmarks_smaller_search_changes_only_the_search(monkeypatch):
    """bench_decoder.py --vs-max-drop / --vs-groupings time the shipped reader against the same decoder with only
    max_drop and the groupings read changed (the images' decoder keeps its groupings)."""
    import sys
    from pathlib import Path

    from inkmath.equation import recognize

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_decoder

    seen = {}

    class Read:
        latex = "x"

    def fake(kind):
        def read(data, predictor, solve, decoder):
            seen[kind] = decoder
            return Read()
        return read

    shipped = {"strokes": Decoder(row_structure, segmentations=3, weights=DecoderWeights(max_drop=5.0, beam=8)),
               "image": Decoder(row_structure, segmentations=3, weights=DecoderWeights(max_drop=5.0, beam=4))}
    monkeypatch.setattr(recognize, "default_decoder", lambda kind="strokes": shipped[kind])
    monkeypatch.setattr(recognize, "recognize_strokes", fake("strokes"))
    monkeypatch.setattr(recognize, "recognize_image", fake("image"))
    read = bench_decoder.with_search(max_drop=4.0, segmentations=2)
    for kind in ("strokes", "image"):
        assert read(kind, None, None) == "x"
    assert seen["strokes"].weights == DecoderWeights(max_drop=4.0, beam=8) and seen["strokes"].segmentations == 2
    assert seen["image"].weights == DecoderWeights(max_drop=4.0, beam=4) and seen["image"].segmentations == 3
    assert shipped["strokes"].weights.max_drop == 5.0  # the shipped decoder itself is left as it is
    # --vs-image-search K,B: K groupings of an image and B readings of each after the first (the strokes' groupings
    # stay as shipped; the flag reads only images)
    read = bench_decoder.with_search(alt_beam=1, image_segmentations=2)
    for kind in ("strokes", "image"):
        assert read(kind, None, None) == "x"
    assert seen["image"].weights == DecoderWeights(max_drop=5.0, beam=4, alt_beam=1)
    assert seen["image"].segmentations == 2
    assert seen["strokes"].segmentations == 3 and seen["strokes"].weights == DecoderWeights(max_drop=5.0, beam=8,
                                                                                             alt_beam=1)


def test_the_offline_reports_weigh_every_term_the_shipped_decoders_weigh():
    """decoder_val.shipped (the results page's decoder rows, the grids' base) carries every field of the shipped
    weights, the long-range term among them, and the groupings each reader reads."""
    import dataclasses
    import sys
    from pathlib import Path

    from inkmath.equation import recognize
    from inkmath.equation.image import segmentation as image_segmentation

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import shipped

    for image, weights in ((False, recognize.DECODER_WEIGHTS), (True, recognize.IMAGE_DECODER_WEIGHTS)):
        w, _ = shipped(image)
        assert {f.name: w[f.name] for f in dataclasses.fields(weights)} == dataclasses.asdict(weights)
        assert w["long_range"] == recognize.LONG_RANGE_WEIGHT > 0
    assert shipped(False)[0]["segmentations"] == recognize.STROKE_SEGMENTATIONS
    assert shipped(True)[0]["segmentations"] == image_segmentation.IMAGE_SEGMENTATIONS


def test_a_symbol_model_that_reads_groupings_at_once_is_asked_once_for_those_within_reach():
    from inkmath.equation.reader.decode import classifier_candidates

    class Batched:
        """The classifier's readings, counting the calls (``many``: several groupings in one)."""

        def __init__(self):
            self.calls = []

        def __call__(self, symbols):
            self.calls.append(1)
            return classifier_candidates(symbols)

        def many(self, groupings):
            self.calls.append(len(groupings))
            return [classifier_candidates(g) for g in groupings]

    one = Segmentation([hyp(0, ("1", 0.5), ("l", 0.3)), hyp(2, ("2", 0.5))], score=0.0)
    two = Segmentation([SymbolHyp(Box(0, 0, 3, 1), [Candidate("n", 0.99)], [0, 2])], score=-0.5)
    far = Segmentation([hyp(0, ("7", 0.9)), hyp(2, ("7", 0.9))], score=-20.0)  # beyond max_drop: never read
    weights = DecoderWeights(segment=1.0, max_drop=5.0)
    model = Batched()
    got = decode([one, two, far], structure=row_structure, symbol_model=model, weights=weights)
    want = decode([one, two, far], structure=row_structure, weights=weights)
    assert model.calls == [2]
    assert [(r.latex, r.prob, r.segmentation) for r in got] == [(r.latex, r.prob, r.segmentation) for r in want]


def test_long_range_term_reads_a_letter_in_one_case():
    # the second symbol leans to p by its shape; the first is surely P; the expression would write both cases
    segs = [Segmentation([hyp(0, ("P", 0.9), ("p", 0.1)), hyp(2, ("=", 0.99)), hyp(4, ("p", 0.55), ("P", 0.45))])]

    class CaseLM(TableLM):
        def long_range_logprob(self, tokens):
            return -3.0 if "p" in tokens and "P" in tokens else 0.0

    lm = CaseLM({})
    without = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(long_range=0.0))
    with_term = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(long_range=1.0))
    assert without[0].tokens == ["P", "=", "p"]
    assert with_term[0].tokens == ["P", "=", "P"] and with_term[0].terms["long_range"] == 0.0
    assert next(r for r in with_term if r.tokens == ["P", "=", "p"]).terms["long_range"] == -3.0
    # a language model without the term scores 0 for it
    plain = decode(segs, structure=row_structure, lm=TableLM({}), weights=DecoderWeights(long_range=1.0))
    assert plain[0].tokens == ["P", "=", "p"] and plain[0].terms["long_range"] == 0.0


def test_long_range_term_of_the_trained_model_closes_a_bracket():
    from inkmath.training.recipes.latex_lm import train_kn

    # "( 1 + x )" with the 1 read as a second "(" by a hair: the counted model has never seen unmatched brackets
    lm = train_kn([s.split() for s in ["( 1 + x )", "( x + 1 )", "x + 1", "( a )"]], 2)
    segs = [Segmentation([hyp(0, ("(", 0.99)), hyp(2, ("(", 0.55), ("1", 0.45)), hyp(4, ("+", 0.99)),
                          hyp(6, ("x", 0.99)), hyp(8, (")", 0.99))])]
    without = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=0.0))
    with_term = decode(segs, structure=row_structure, lm=lm, weights=DecoderWeights(lm=0.0, long_range=1.0))
    assert without[0].latex == "((+x)"
    assert with_term[0].latex == "(1+x)" and with_term[0].terms["long_range"] == 0.0


def test_alternatives_say_which_tokens_of_which_grouping_they_read():
    """Each whole reading offered names its token of each symbol and the grouping those symbols come from, so a
    page can label the boxes of the reading chosen (the labels kept the first reading's tokens)."""
    one = Segmentation([hyp(0, ("1", 0.5), ("l", 0.3)), hyp(2, ("2", 0.5))], score=0.0)
    two = Segmentation([SymbolHyp(Box(0, 0, 3, 1), [Candidate("n", 0.99)], [0, 2])], score=-0.5)
    rs = decode([one, two], structure=row_structure, weights=DecoderWeights(segment=1.0))
    alts = alternatives(rs)
    by_latex = {r.latex: r for r in rs}
    assert [a["latex"] for a in alts][:3] == ["n", "12", "l2"]
    for a in alts:
        r = by_latex[a["latex"]]
        assert a["tokens"] == r.tokens and a["segmentation"] == r.segmentation
    assert (alts[0]["tokens"], alts[0]["segmentation"]) == (["n"], 1)
    assert (alts[1]["tokens"], alts[1]["segmentation"]) == (["1", "2"], 0)
    assert (alts[2]["tokens"], alts[2]["segmentation"]) == (["l", "2"], 0)


def test_a_reading_with_an_empty_group_is_read_only_when_there_is_no_other():
    """A fraction bar with nothing above it writes ``\\frac{}{x}``: no CROHME truth has an empty group, so a
    well-formed reading comes first however the models score them, and the empty one is not among the alternatives."""
    import sys
    from pathlib import Path

    from inkmath.equation.reader.decode import has_empty_group
    from inkmath.equation.core.tree import Frac, Sup

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from decoder_val import rank

    def bar_layout(symbols, tokens):
        """A stand-in layout: a bar over the next symbol makes a fraction with no numerator."""
        if tokens[0] == "-":
            return Row([Frac(Row([]), Row([Symbol(tokens[1], 1)]))]), -1.0
        return row_structure(symbols, tokens), -1.0

    segs = [Segmentation([hyp(0, ("-", 0.7), ("\\pi", 0.3)), hyp(2, ("x", 0.9), ("n", 0.1))])]
    assert has_empty_group(("\\frac", "{", "}", "{", "x", "}")) and not has_empty_group(("x", "^", "{", "2", "}"))
    trace: list = []
    rs = decode(segs, structure=bar_layout, observe=trace.append)
    assert rs[0].latex == "\\pi x" and not any(has_empty_group(r.norm) for r in rs)
    assert any(has_empty_group(t["norm"]) for t in trace)  # they were read, and set aside
    w = DecoderWeights()
    sim = rank([{"readings": trace}], {"symbol": w.symbol, "lm": w.lm, "segment": w.segment,
                                       "structure": w.structure, "temperature": w.temperature, "length": w.length})[0]
    assert [list(r.norm) for r in rs] == [list(k) for k, _, _ in sim]  # the offline ranking agrees
    # with the best readings' second layouts too, where as many readings are set aside as are kept

    def script_layout(symbols, tokens):
        return Row([Sup(Symbol(tokens[0], 0), Symbol(tokens[1], 1))]), -1.5

    w = DecoderWeights(layouts=1)
    trace = []
    rs = decode(segs, structure=bar_layout, alternative_layout=script_layout, weights=w, observe=trace.append)
    assert "\\pi^{x}" in [r.latex for r in rs]
    sim = rank([{"readings": trace}], {"symbol": w.symbol, "lm": w.lm, "segment": w.segment, "layouts": 1,
                                       "structure": w.structure, "temperature": w.temperature, "length": w.length})[0]
    assert [list(r.norm) for r in rs] == [list(k) for k, _, _ in sim]
    # with nothing else to read, the empty ones are what there is
    only = [Segmentation([hyp(0, ("-", 1.0)), hyp(2, ("x", 0.9), ("n", 0.1))])]
    assert decode(only, structure=bar_layout)[0].latex.startswith("\\frac{}")
