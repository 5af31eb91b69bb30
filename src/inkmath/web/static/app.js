// inkmath page: records strokes with Pointer Events (touch, pen, mouse) and sends them - never pixels - to the API.
// Symbol mode: live top-5. Expression mode: LaTeX, MathML, the answer, and a box per symbol to correct it.
// Page mode (photo.js): a photo of a page, a box per expression. Every change to the drawing is undoable and the
// drawing is kept in localStorage with a short history.
import {
  $, addMovePoints, clearBoxes, copyText, drawBoxes, errorText, hideAlternatives, post, readingSymbols, setStatus,
  showAlternatives, showEmptyExpression, showExtras, showReading, showSymbols, sizeCanvas,
} from "./view.js";
import { loadStore, renderHistory, saveDrawing } from "./drawings.js";
import { initPhoto, uploadable } from "./photo.js";
import { initCheck } from "./check.js";

const canvas = $("canvas");
const ctx = canvas.getContext("2d");

// An uploaded image is sent as it is when the server takes it (POST /api/symbol and /api/expression read at most
// 16,000,000 pixels, MAX_IMAGE_PIXELS, in a body of at most 8 MB, MAX_BODY_BYTES); a larger one, a phone camera's
// 24-48 megapixel photo, as a JPEG of at most READ_SIDE px on its long side (4000 x 4000 is 16,000,000 pixels).
const READ_SIDE = 4000;
const READ_BYTES = 7 * 1024 * 1024;
const TAP_SLOP = 6;          // CSS px: a press that moves less than this is a tap (chooses a box, or is a dot)
const UNDO_SIZE = 200;
const DELAY = { symbol: 120, expression: 350 };   // ms after the pen lifts before asking the server
const HINTS = { symbol: "Draw one symbol.", expression: "Write an expression or an equation, e.g. 2x+1=7." };

const state = {
  mode: "symbol",
  strokes: [],            // finished strokes [[[x, y], ...], ...] in canvas CSS pixels, y down; never mutated
  corrections: {},        // expression mode: key of a symbol's strokes ("3,4") -> chosen label
  image: null,            // uploaded file: {file, bitmap, scale, dx, dy}
  undo: [], redo: [],     // snapshots {strokes, corrections, image}
  drawing: null,          // the stroke being drawn: {id, type, points, moved}
  touches: new Map(),     // touch pointers down on the canvas: id -> [clientX, clientY]
  gesture: null,          // two fingers down: {y} of their centre, for scrolling the page
  penOnly: false,         // palm rejection: once a pen is used, touches do not draw
  weights: { symbol: null, expression: null },
  features: { solve: false, page: false, pageExpression: false, steps: false, plot: false },
  seq: 0, timer: null, pending: 0,
  reading: null,          // the last expression response (for boxes and taps)
  shownLatex: null,       // the other reading of it shown ("did you mean"), whose symbols the boxes label; null: the first
  shown: null,            // the boxes shown: {symbols, correctable} (view.readingSymbols)
  view: { k: 1, dx: 0, dy: 0 },  // how the strokes are shown: canvas px = stroke px * k + (dx, dy) (see fitView)
  entryId: null,          // this drawing's id in the history
  refocus: null,          // the key of the symbol whose label gets the focus once read again (a keyboard choice)
};

function setPending(delta) {
  state.pending = Math.max(0, state.pending + delta);
  document.body.dataset.pending = String(state.pending);
}

// ------------------------------------------------------------------------------------------------ canvas
function resizeCanvas() {
  sizeCanvas(canvas, ctx);
  fitView();
  redraw();
}

/** Show the drawing as it was drawn when it fits the canvas; when it does not (drawn on a phone held sideways, then
 * turned upright), shown scaled down and centred so that all of it and its boxes stay on the canvas. Only the view
 * changes: the strokes, their reading and the corrections stay as they are. */
function fitView() {
  const r = canvas.getBoundingClientRect();
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const s of state.strokes) for (const [x, y] of s) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  if (!state.strokes.length || (x0 >= 0 && y0 >= 0 && x1 <= r.width && y1 <= r.height) || !r.width || !r.height) {
    state.view = { k: 1, dx: 0, dy: 0 };
    return;
  }
  const margin = 8;
  const k = Math.min(1, (r.width - 2 * margin) / Math.max(x1 - x0, 1), (r.height - 2 * margin) / Math.max(y1 - y0, 1));
  state.view = { k, dx: (r.width - (x0 + x1) * k) / 2, dy: (r.height - (y0 + y1) * k) / 2 };
}

/** An uploaded image is shown scaled to fit the canvas as it is now (never enlarged), centred: placed again at every
 * redraw, since the canvas changes size when the phone is turned. */
function placeImage(im, r) {
  const scale = Math.min(r.width / im.bitmap.width, r.height / im.bitmap.height, 1) * 0.96;
  Object.assign(im, { scale, dx: (r.width - im.bitmap.width * scale) / 2, dy: (r.height - im.bitmap.height * scale) / 2 });
}

function redraw() {
  const r = canvas.getBoundingClientRect();
  ctx.clearRect(0, 0, r.width, r.height);
  if (state.image && state.image.bitmap) {
    const im = state.image;
    placeImage(im, r);
    ctx.drawImage(im.bitmap, im.dx, im.dy, im.bitmap.width * im.scale, im.bitmap.height * im.scale);
  }
  const v = state.view;
  ctx.save();
  ctx.translate(v.dx, v.dy);
  ctx.scale(v.k, v.k);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = 3.5 / v.k;
  ctx.strokeStyle = "#1d2330";
  ctx.fillStyle = "#1d2330";
  for (const s of state.strokes) drawStroke(s);
  if (state.drawing) drawStroke(state.drawing.points);
  ctx.restore();
  const n = state.strokes.length;
  $("hint").hidden = n > 0 || !!state.image || !!state.drawing;
  canvas.setAttribute("aria-label", "Drawing area: write with a finger, a pen or the mouse. " +
    (state.image ? (state.image.bitmap ? "An uploaded image is shown." : "The uploaded file is not an image.") : n ? `${n} stroke${n > 1 ? "s" : ""} drawn.` : "Nothing drawn yet."));
}

function drawStroke(s) {
  if (s.length === 1) {
    ctx.beginPath();
    ctx.arc(s[0][0], s[0][1], 1.8 / state.view.k, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(s[0][0], s[0][1]);
  for (let i = 1; i < s.length; i++) ctx.lineTo(s[i][0], s[i][1]);
  ctx.stroke();
}

/** The point of a pointer event in the strokes' coordinates (canvas CSS px unless the view is scaled, fitView). */
function pointOf(ev) {
  const r = canvas.getBoundingClientRect();
  const v = state.view;
  return [Math.round((ev.clientX - r.left - v.dx) / v.k * 10) / 10, Math.round((ev.clientY - r.top - v.dy) / v.k * 10) / 10];
}

// ------------------------------------------------------------------------------------------------ pointer input
// One handler for the canvas and the boxes' labels: a stroke may start anywhere, even on a label or inside a box;
// only a tap (no movement) on a label or inside a box chooses that box.
const wrap = $("canvas-wrap");

wrap.addEventListener("pointerdown", (ev) => {
  if (ev.target.closest("#alternatives")) return;
  if (ev.pointerType === "mouse" && ev.button !== 0) return;
  const closing = !$("alternatives").hidden;       // a tap that closes the list is not a dot
  hideAlternatives();
  if (ev.pointerType === "pen" && !state.penOnly) setPenOnly(true);
  if (ev.pointerType === "touch") {
    if (state.penOnly) return;                     // palm rejection: the pen is in use
    state.touches.set(ev.pointerId, [ev.clientX, ev.clientY]);
    if (state.touches.size >= 2) {                 // a pinch or a two-finger scroll: never ink
      if (state.drawing && state.drawing.type === "touch") { state.drawing = null; redraw(); }
      state.gesture = { y: centreY() };
      ev.preventDefault();
      return;
    }
  }
  if (state.drawing || state.gesture) return;     // one stroke at a time
  ev.preventDefault();
  wrap.setPointerCapture(ev.pointerId);
  const p = pointOf(ev);
  // with touch adjustment, ev.target may be a label a few px from the finger: the one truly under it is looked up
  const under = document.elementFromPoint(ev.clientX, ev.clientY);
  state.drawing = { id: ev.pointerId, type: ev.pointerType, points: [p], start: p, moved: false,
                    tag: under && under.closest(".tag"), near: ev.target.closest(".tag"), closing };
  cancelTimer();
  redraw();
});

wrap.addEventListener("pointermove", (ev) => {
  if (ev.pointerType === "touch" && state.touches.has(ev.pointerId)) {
    state.touches.set(ev.pointerId, [ev.clientX, ev.clientY]);
    if (state.gesture) {
      const y = centreY();
      window.scrollBy(0, state.gesture.y - y);     // two fingers scroll the page
      state.gesture.y = y;
      return;
    }
  }
  const d = state.drawing;
  if (!d || ev.pointerId !== d.id) return;
  for (const p of addMovePoints(d.points, ev, pointOf)) {
    if (Math.hypot(p[0] - d.start[0], p[1] - d.start[1]) * state.view.k > TAP_SLOP) d.moved = true;
  }
  redraw();
});

function centreY() {
  let y = 0;
  for (const [, p] of state.touches) y += p[1];
  return y / state.touches.size;
}

function pointerEnd(ev) {
  if (ev.pointerType === "touch") {
    state.touches.delete(ev.pointerId);
    if (state.touches.size === 0) state.gesture = null;
  }
  const d = state.drawing;
  if (!d || ev.pointerId !== d.id) return;
  state.drawing = null;
  if (ev.type === "pointercancel") { redraw(); return; }
  // the label under the finger, else the box under it, else a label next to it
  let index = d.tag ? Number(d.tag.dataset.index) : boxAt(d.start);
  if (index === null && d.near) index = Number(d.near.dataset.index);
  if (!d.moved) {
    if (index !== null) {
      redraw();
      state.swallowClick = true;                  // the click that follows this tap is not a choice in the list
      openBox(index, false);
      return;
    }
    if (d.closing || state.image) { redraw(); return; }
    d.points = [d.start];                         // a tap elsewhere is a dot
  }
  if (state.image) {                              // ink is not read with an image: it starts a new drawing instead
    state.entryId = null;
    change({ strokes: [d.points], corrections: {}, image: null });
    return;
  }
  if (index !== null && state.reading && state.reading.strokesRead === state.strokes) {
    addToSymbol(d.points, state.reading.symbols[index]);
    return;
  }
  change({ strokes: [...state.strokes, d.points] });
}

/** A stroke that starts inside a symbol's box is ink added to that symbol (the bar that turns '-' into '+'): it is
 * put right after the symbol's strokes, since the reader groups strokes written one after another. */
function addToSymbol(points, sym) {
  const at = Math.max(...sym.strokes) + 1;
  const strokes = [...state.strokes.slice(0, at), points, ...state.strokes.slice(at)];
  const corrections = {};
  for (const [key, label] of Object.entries(state.corrections)) {
    if (key.startsWith("#")) continue;
    corrections[key.split(",").map((k) => (Number(k) >= at ? Number(k) + 1 : Number(k))).join(",")] = label;
  }
  change({ strokes, corrections });
}
wrap.addEventListener("pointerup", pointerEnd);
wrap.addEventListener("pointercancel", pointerEnd);
// Touch adjustment (Chromium) moves a finger put down near a button onto the button unless the point under the
// finger takes clicks itself: with a click listener the drawing does, so a touch at its top edge stays on it and does
// not go to the toolbar above (Undo).
wrap.addEventListener("click", () => {});

function setPenOnly(on) {
  state.penOnly = on;
  $("pen-only").checked = on;
  $("pen-only-label").hidden = false;
}
$("pen-only").addEventListener("change", () => { state.penOnly = $("pen-only").checked; });

// ------------------------------------------------------------------------------------------------ undo / redo
function snapshot() {
  return { strokes: state.strokes, corrections: { ...state.corrections }, image: state.image };
}

function restore(s) {
  state.strokes = s.strokes;
  state.corrections = { ...s.corrections };
  state.image = s.image;
  if (!s.image) $("upload").value = "";
}

/** Every change to the drawing goes through here: it is recorded for undo, drawn, saved and read again. */
function change(next) {
  state.undo.push(snapshot());
  if (state.undo.length > UNDO_SIZE) state.undo.shift();
  state.redo = [];
  restore({ ...snapshot(), ...next });
  afterChange();
}

function afterChange(delay) {
  if (!state.strokes.length) state.view = { k: 1, dx: 0, dy: 0 };  // a new drawing is shown as drawn
  hideAlternatives();
  offerPage(null);
  redraw();
  clearBoxes();
  updateUndoButtons();
  save();
  schedule(delay);
}

function undo() {
  if (!state.undo.length) return;
  state.redo.push(snapshot());
  restore(state.undo.pop());
  fitView();
  afterChange(0);
}

function redo() {
  if (!state.redo.length) return;
  state.undo.push(snapshot());
  restore(state.redo.pop());
  fitView();
  afterChange(0);
}

function clearAll() {
  if (!state.strokes.length && !state.image && !Object.keys(state.corrections).length) return;
  change({ strokes: [], corrections: {}, image: null });
  state.entryId = null;                           // the next drawing is a new history entry
}

function updateUndoButtons() {
  $("undo").disabled = state.undo.length === 0;
  $("redo").disabled = state.redo.length === 0;
}

$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("clear").addEventListener("click", clearAll);
document.addEventListener("keydown", (ev) => {
  const typing = ev.target.closest && ev.target.closest("input, textarea, select");
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && !typing && ev.key.toLowerCase() === "z") { ev.preventDefault(); if (ev.shiftKey) redo(); else undo(); }
  else if (mod && !typing && ev.key.toLowerCase() === "y") { ev.preventDefault(); redo(); }
  else if (ev.key === "Escape") {
    if (!$("alternatives").hidden) hideAlternatives(true);
    else if (!$("history-pop").hidden) { showHistory(false); $("history").focus(); }
    else if (!typing && state.mode !== "page") clearAll();
  }
});

// ------------------------------------------------------------------------------------------------ corrections
const strokeKey = (sym, i) => (state.image ? `#${i}` : sym.strokes.join(","));

function boxAt(point) {
  if (state.mode !== "expression" || !state.reading || state.reading.strokesRead !== state.strokes) return null;
  if (!state.shown || !state.shown.correctable) return null;     // another reading's grouping: a tap there draws
  const v = state.view;
  const [x, y] = [point[0] * v.k + v.dx, point[1] * v.k + v.dy];   // canvas px, as the boxes
  const pad = 4;
  let best = null, area = Infinity;
  state.reading.symbols.forEach((s, i) => {
    const [x0, y0, x1, y1] = toCanvas(s.box);
    const a = (x1 - x0) * (y1 - y0);
    if (x >= x0 - pad && x <= x1 + pad && y >= y0 - pad && y <= y1 + pad && a < area) { best = i; area = a; }
  });
  return best;
}

function openBox(index, fromKeyboard) {
  const sym = state.reading && state.shown && state.shown.correctable && state.shown.symbols[index];
  if (!sym) return;
  showAlternatives(index, sym, (i, label) => {
    hideAlternatives();
    const key = strokeKey(state.reading.symbols[i], i);
    // chosen from the keyboard: once read again, the focus goes back to that symbol's label (its box is redrawn)
    state.refocus = fromKeyboard ? key : null;
    change({ corrections: { ...state.corrections, [key]: label } });
  }, fromKeyboard);
}

function toCanvas(box) {
  const [x0, y0, x1, y1] = box;
  if (!state.image) {
    const v = state.view;
    return [x0 * v.k + v.dx, y0 * v.k + v.dy, x1 * v.k + v.dx, y1 * v.k + v.dy];
  }
  const im = state.image;
  return [x0 * im.scale + im.dx, y0 * im.scale + im.dy, x1 * im.scale + im.dx, y1 * im.scale + im.dy];
}

// ------------------------------------------------------------------------------------------------ image upload
$("upload").addEventListener("change", async () => {
  const picked = $("upload").files[0];
  if (!picked) return;
  let image;
  setPending(+1);
  try {
    const file = await uploadable(picked, READ_SIDE, READ_BYTES);  // what is shown is what is read: the boxes fit it
    try {
      image = { file, bitmap: await createImageBitmap(file) };
      placeImage(image, canvas.getBoundingClientRect());
    } catch (e) {
      image = { file, bitmap: null, scale: 1, dx: 0, dy: 0 };  // not an image: the server says what is wrong
    }
  } finally {
    setPending(-1);
  }
  change({ strokes: [], corrections: {}, image });
});

// ------------------------------------------------------------------------------------------------ requests
function cancelTimer() {
  if (state.timer !== null) { clearTimeout(state.timer); state.timer = null; setPending(-1); }
}

function schedule(delay) {
  cancelTimer();
  setPending(+1);
  state.timer = setTimeout(() => { state.timer = null; setPending(-1); send(); },
                           delay === undefined ? DELAY[state.mode] || 0 : delay);
}

function requestFor(mode, indexCorrections, solve) {
  const url = mode === "symbol" ? "/api/symbol" : "/api/expression";
  const weights = state.weights[mode];
  const extra = {};
  if (mode === "expression") {
    if (indexCorrections && Object.keys(indexCorrections).length) extra.corrections = indexCorrections;
    if (!solve) extra.solve = false;
    else if (!state.features.solve) {             // no /api/solve to fill them in after the reading (extrasFor)
      if (state.features.steps) extra.steps = true;
      if (state.features.plot) extra.plot = true;
    }
  }
  if (state.image) {
    const form = new FormData();
    form.append("image", state.image.file, state.image.file.name || "upload.png");
    if (weights) form.append("weights", weights);
    if (extra.corrections) form.append("corrections", JSON.stringify(extra.corrections));
    if (extra.solve === false) form.append("solve", "false");
    return [url, { method: "POST", body: form }];
  }
  const body = { strokes: state.strokes, ...extra };
  if (weights) body.weights = weights;
  return [url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }];
}

async function send() {
  const seq = ++state.seq;
  const mode = state.mode;
  if (mode === "page" || mode === "check") return;
  if (!state.image && state.strokes.length === 0) {
    state.reading = null;
    showEmptyExpression();
    setStatus("");
    return;
  }
  setPending(+1);
  setStatus("Reading…");
  const started = performance.now();
  const strokesSent = state.strokes;
  try {
    const keys = Object.keys(state.corrections);
    // Corrections belong to a symbol's strokes; the server takes symbol indices. With corrections, read once
    // without solving to learn which symbol holds which strokes, then again with the indices.
    let [res, data] = await post(...requestFor(mode, null, keys.length === 0));
    if (mode === "expression" && res.ok && keys.length) {
      const fixes = {};
      data.symbols.forEach((s, i) => {
        const label = state.corrections[strokeKey(s, i)];
        if (label !== undefined) fixes[String(i)] = label;
      });
      if (seq !== state.seq) return;
      [res, data] = await post(...requestFor(mode, fixes, true));
    }
    if (seq !== state.seq || mode !== state.mode) return;
    if (!res.ok) { state.refocus = null; showEmptyExpression(); clearBoxes(); setStatus(errorText(data, res), true); return; }
    if (mode === "symbol") showSymbols(data);
    else showExpression(data, strokesSent);
    setStatus(`${data.weights} · ${Math.round(performance.now() - started)} ms`);
    if (mode === "expression") extrasFor(seq, data);
    save(mode === "expression" ? data.latex : (data.predictions[0] || {}).latex);
  } catch (e) {
    if (seq === state.seq) setStatus(`Cannot reach the server (${e.message}): the drawing is kept here; ` +
                                     "reading it needs the server.", true);
  } finally {
    setPending(-1);
  }
}

function showExpression(data, strokesRead) {
  state.reading = data;
  state.shownLatex = null;
  data.strokesRead = strokesRead;
  showReading(data, { onReading: showOtherReading });
  showBoxes(data);
  offerPage(data);
}

/** An uploaded photo that the server found to look like a page (``page_like``: its ink on several lines of writing,
 * read unsure as one expression) is offered to be read in page mode, the same file sent to POST /api/page. */
function offerPage(data) {
  $("page-offer").hidden = !(data && data.page_like && state.image && state.image.file);
}
$("page-offer-read").addEventListener("click", () => {
  const file = state.image && state.image.file;
  if (!file) return;
  setMode("page");
  photo.read(file);
});

/** The boxes over the drawing, labelled with the reading shown: the first, or the one chosen under "did you mean". */
function showBoxes(data) {
  const shown = state.shown = readingSymbols(data, state.shownLatex);
  drawBoxes(shown.symbols, toCanvas, (i) => shown.correctable && strokeKey(data.symbols[i], i) in state.corrections,
            openBox, shown.correctable);
  if (state.refocus !== null) {
    const i = data.symbols.findIndex((s, k) => strokeKey(s, k) === state.refocus);
    state.refocus = null;
    if (i >= 0) $("boxes").querySelector(`.tag[data-index="${i}"]`).focus();
  }
}

/** The steps and the graph of a reading, asked from POST /api/solve once the reading is shown, so the reading itself
 * is not slowed down (asked with it: 1.14x its time, benchmarks/results/web-extras.json). */
async function extrasFor(seq, data) {
  const ans = data.answer || {};
  if (!state.features.solve || !(state.features.steps || state.features.plot) || !ans.kind || ans.kind === "none") return;
  setPending(+1);
  try {
    const [res, solved] = await post("/api/solve", { method: "POST", headers: { "Content-Type": "application/json" },
                                                     body: JSON.stringify({ latex: data.latex, steps: true, plot: true }) });
    if (seq !== state.seq || !res.ok) return;
    showExtras({ ...ans, steps: solved.answer.steps, plot: solved.answer.plot }, data.latex);
  } catch (e) {
    /* the reading is shown; the steps and the graph just stay hidden */
  } finally {
    setPending(-1);
  }
}

/** "Did you mean": show another reading of the drawing, solved by POST /api/solve when the server has it. */
async function showOtherReading(latex) {
  $("latex").value = latex;
  await solveLatex(latex, true);
}

async function solveLatex(latex, fromReading) {
  const err = $("latex-error");
  err.textContent = "";
  if (!latex.trim()) { err.textContent = "Type some LaTeX first, e.g. 2x+1=7."; return; }
  if (!state.features.solve) {
    err.textContent = "This server cannot solve typed LaTeX (it has no /api/solve).";
    return;
  }
  const seq = ++state.seq;
  cancelTimer();
  setPending(+1);
  setStatus("Solving…");
  try {
    const body = { latex, steps: state.features.steps, plot: state.features.plot };
    const [res, data] = await post("/api/solve", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify(body) });
    if (seq !== state.seq) return;
    if (!res.ok) { err.textContent = errorText(data, res); setStatus(""); return; }
    const base = state.reading && fromReading ? state.reading : {};
    showReading({ ...data, confidence: fromReading ? readingConfidence(latex) : undefined,
                  alternatives: base.alternatives }, { onReading: showOtherReading, shownLatex: latex, keepField: true });
    if (fromReading && state.reading) {             // the boxes label the symbols as this reading reads them
      state.shownLatex = latex;
      hideAlternatives();
      if (state.reading.strokesRead === state.strokes) showBoxes(state.reading);
    }
    const regrouped = fromReading && state.reading && state.shown && state.shown.regrouped;
    setStatus(!fromReading ? "Typed LaTeX" : regrouped ? "Another reading of the drawing, with other symbols: choose " +
              "the first reading to correct one" : "Another reading of the drawing");
  } catch (e) {
    if (seq === state.seq) setStatus(`Cannot reach the server (${e.message})`, true);
  } finally {
    setPending(-1);
  }
}

function readingConfidence(latex) {
  const alts = (state.reading && state.reading.alternatives) || [];
  const hit = alts.find((a) => a.latex === latex);
  return hit ? hit.confidence : undefined;
}

$("latex-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  solveLatex($("latex").value, false);
});
$("copy-latex").addEventListener("click", () => copyText($("latex").value, $("copy-latex")));
$("copy-mathml").addEventListener("click", () => {
  const m = $("mathml").querySelector("math");
  copyText(m ? m.outerHTML : "", $("copy-mathml"));
});

// ------------------------------------------------------------------------------------------------ saved drawings
function save(latex) {
  if (state.image) return;                        // uploaded files are not kept
  state.entryId = saveDrawing(state.entryId, state.strokes.length ? {
    mode: state.mode, strokes: state.strokes, corrections: state.corrections, latex } : null);
  renderHistory(loadStore(), state.entryId, restoreEntry);
}

function showHistory(open) {
  $("history-pop").hidden = !open;
  $("history").setAttribute("aria-expanded", String(open));
}
$("history").addEventListener("click", () => showHistory($("history-pop").hidden));
for (const id of ["history", "history-pop"]) {
  $(id).addEventListener("focusout", (ev) => {
    if (ev.relatedTarget && !ev.relatedTarget.closest("#history, #history-pop")) showHistory(false);
  });
}
document.addEventListener("pointerdown", (ev) => {
  if (!ev.target.closest("#history, #history-pop")) showHistory(false);
}, true);

function restoreEntry(e) {
  showHistory(false);
  if (e.mode !== state.mode && e.mode !== "page") setMode(e.mode, true);
  change({ strokes: fitStrokes(e.strokes), corrections: e.corrections || {}, image: null });
  fitView();
  redraw();
  state.entryId = e.id;
  save(e.latex);
}

/** Strokes saved on a larger screen, scaled down to fit this canvas (kept as they are when they fit). */
function fitStrokes(strokes) {
  const r = canvas.getBoundingClientRect();
  let x1 = 0, y1 = 0;
  for (const s of strokes) for (const [x, y] of s) { x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  const k = Math.min(1, (r.width - 8) / Math.max(x1, 1), (r.height - 8) / Math.max(y1, 1));
  return k >= 1 ? strokes : strokes.map((s) => s.map(([x, y]) => [Math.round(x * k * 10) / 10, Math.round(y * k * 10) / 10]));
}

// ------------------------------------------------------------------------------------------------ modes and models
const photo = initPhoto({ setPending, features: state.features });
const check = initCheck({ setPending });
const MODES = ["symbol", "expression", "page", "check"];

function setMode(mode, quiet) {
  state.mode = mode;
  document.body.dataset.mode = mode;              // the layout follows the mode (style.css: a phone held sideways)
  for (const m of MODES) {
    const tab = $(`mode-${m}`);
    tab.classList.toggle("active", m === mode);
    tab.setAttribute("aria-selected", String(m === mode));
  }
  $("pad").hidden = mode === "page" || mode === "check";
  $("photo-pad").hidden = mode !== "page";
  $("symbol-result").hidden = mode !== "symbol";
  $("expression-result").hidden = mode !== "expression";
  $("page-result").hidden = mode !== "page";
  if (HINTS[mode]) $("hint").textContent = HINTS[mode];
  $("weights").value = state.weights[mode === "page" ? "expression" : mode] || "";
  const url = new URL(location.href);
  url.searchParams.set("mode", mode);
  history.replaceState(null, "", url);
  hideAlternatives();
  clearBoxes();
  resizeCanvas();                                 // the canvas's width follows the mode on a phone held sideways
  state.reading = null;
  showEmptyExpression();
  offerPage(null);
  setStatus("");
  if (mode === "page") photo.shown();
  else if (mode === "check") check.shown();
  else if (!quiet) schedule(0);
}
for (const m of MODES) $(`mode-${m}`).addEventListener("click", () => setMode(m));
$("weights").addEventListener("change", () => {
  state.weights[state.mode === "page" ? "expression" : state.mode] = $("weights").value;
  schedule(0);
});

async function loadModels() {
  try {
    const res = await fetch("/api/models");
    const data = await res.json();
    state.weights.symbol = data.symbol_default;
    state.weights.expression = data.expression_default;
    const options = data.weights.map((w) => {
      const o = document.createElement("option");
      o.value = w.name;
      o.textContent = `${w.name} (${w.classes} classes)`;
      return o;
    });
    $("weights").replaceChildren(...options);
    $("weights").value = state.weights[state.mode === "page" ? "expression" : state.mode];
  } catch (e) {
    setStatus(`Cannot load the list of models (${e.message})`, true);
  }
}

/** What this server offers, from its OpenAPI schema: the page hides what is missing. */
async function loadFeatures() {
  try {
    const api = await (await fetch("/openapi.json")).json();
    const props = (((api.components || {}).schemas || {}).ExpressionRequest || {}).properties || {};
    Object.assign(state.features, { solve: "/api/solve" in api.paths, page: "/api/page" in api.paths,
                                    pageExpression: "/api/page/expression" in api.paths,
                                    steps: "steps" in props, plot: "plot" in props });
  } catch (e) { /* offline and not cached: every optional part stays off */ }
}

function registerServiceWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("service worker not registered:", e.message));
  }
}

window.addEventListener("resize", () => {
  resizeCanvas();
  if (state.reading && state.reading.strokesRead === state.strokes) {     // a turned phone: the boxes drawn again
    const focused = document.activeElement && document.activeElement.closest("#boxes .tag");
    showBoxes(state.reading);
    if (focused) $("boxes").querySelector(`.tag[data-index="${focused.dataset.index}"]`).focus();
  }
});
$("alternatives").addEventListener("focusout", (ev) => {
  if (ev.relatedTarget && !$("alternatives").contains(ev.relatedTarget)) hideAlternatives();
});
$("alternatives").addEventListener("click", (ev) => {
  if (state.swallowClick) { state.swallowClick = false; ev.stopPropagation(); ev.preventDefault(); }
}, true);
document.addEventListener("pointerdown", () => { state.swallowClick = false; }, true);
window.addEventListener("pagehide", () => save());
resizeCanvas();
updateUndoButtons();
(async () => {
  await Promise.all([loadModels(), loadFeatures()]);
  const store = loadStore();
  const wanted = new URLSearchParams(location.search).get("mode");
  const last = store.entries.find((e) => e.id === store.current);
  const mode = MODES.includes(wanted) ? wanted : (last ? last.mode : "symbol");
  if (last && last.strokes.length && (last.mode === mode || !wanted)) {   // the drawing left here last time
    state.entryId = last.id;
    state.strokes = fitStrokes(last.strokes);
    state.corrections = last.corrections || {};
  }
  renderHistory(store, state.entryId, restoreEntry);
  setMode(mode, true);
  fitView();
  redraw();
  schedule(0);
  registerServiceWorker();
})();
