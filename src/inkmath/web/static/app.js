// inkmath page: records strokes with pointer events (mouse, pen, touch) and sends them - never pixels - to the API.
// Symbol mode: live top-5. Expression mode: LaTeX, MathML, the answer, and a box per symbol to correct it.
"use strict";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");

const state = {
  mode: "symbol",
  strokes: [],            // [[[x, y], ...], ...] in canvas CSS pixels, y down
  current: null,          // the stroke being drawn
  corrections: {},        // expression mode: symbol index -> chosen label
  image: null,            // uploaded file: {file, bitmap, scale, dx, dy}
  weights: { symbol: null, expression: null },
  seq: 0,                 // request counter: answers to older requests are dropped
  timer: null,
  pending: 0,
  lastExpression: null,
};
const HINTS = {
  symbol: "Draw one symbol with the mouse, a pen or a finger.",
  expression: "Write an expression or an equation, e.g. 2x+1=7.",
};
const DELAY = { symbol: 120, expression: 350 };   // ms after the pen lifts before asking the server

function setPending(delta) {
  state.pending = Math.max(0, state.pending + delta);
  document.body.dataset.pending = String(state.pending);
}

// ------------------------------------------------------------------------------------------------ drawing
function resizeCanvas() {
  const dpr = window.devicePixelRatio || 1;
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width * dpr);
  canvas.height = Math.round(r.height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  redraw();
}

function redraw() {
  const r = canvas.getBoundingClientRect();
  ctx.clearRect(0, 0, r.width, r.height);
  if (state.image && state.image.bitmap) {
    const im = state.image;
    ctx.drawImage(im.bitmap, im.dx, im.dy, im.bitmap.width * im.scale, im.bitmap.height * im.scale);
  }
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = 3.5;
  ctx.strokeStyle = "#1d2330";
  ctx.fillStyle = "#1d2330";
  for (const s of state.strokes) drawStroke(s);
}

function drawStroke(s) {
  if (s.length === 1) {
    ctx.beginPath();
    ctx.arc(s[0][0], s[0][1], 1.8, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(s[0][0], s[0][1]);
  for (let i = 1; i < s.length; i++) ctx.lineTo(s[i][0], s[i][1]);
  ctx.stroke();
}

function pointOf(ev) {
  const r = canvas.getBoundingClientRect();
  return [Math.round((ev.clientX - r.left) * 10) / 10, Math.round((ev.clientY - r.top) * 10) / 10];
}

canvas.addEventListener("pointerdown", (ev) => {
  if (ev.pointerType === "mouse" && ev.button !== 0) return;
  ev.preventDefault();
  canvas.setPointerCapture(ev.pointerId);
  hideAlternatives();
  if (state.image) { state.image = null; state.strokes = []; }
  state.corrections = {};
  state.current = [pointOf(ev)];
  state.strokes.push(state.current);
  cancelTimer();
  redraw();
});

canvas.addEventListener("pointermove", (ev) => {
  if (!state.current) return;
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
  for (const e of (events.length ? events : [ev])) {
    const p = pointOf(e);
    const last = state.current[state.current.length - 1];
    if (p[0] !== last[0] || p[1] !== last[1]) state.current.push(p);
  }
  redraw();
});

function endStroke() {
  if (!state.current) return;
  state.current = null;
  clearBoxes();
  schedule();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

function undo() {
  hideAlternatives();
  if (state.image) { clearAll(); return; }
  state.strokes.pop();
  state.corrections = {};
  redraw();
  clearBoxes();
  schedule();
}

function clearAll() {
  hideAlternatives();
  state.strokes = [];
  state.image = null;
  state.corrections = {};
  $("upload").value = "";
  redraw();
  clearBoxes();
  schedule();
}

$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearAll);
document.addEventListener("keydown", (ev) => {
  if ((ev.ctrlKey || ev.metaKey) && ev.key === "z") { ev.preventDefault(); undo(); }
  else if (ev.key === "Escape") {
    if (!$("alternatives").hidden) hideAlternatives(); else clearAll();
  }
});

// ------------------------------------------------------------------------------------------------ image upload
$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  hideAlternatives();
  state.strokes = [];
  state.corrections = {};
  try {
    const bitmap = await createImageBitmap(file);
    const r = canvas.getBoundingClientRect();
    const scale = Math.min(r.width / bitmap.width, r.height / bitmap.height, 1) * 0.96;
    state.image = { file, bitmap, scale,
                    dx: (r.width - bitmap.width * scale) / 2, dy: (r.height - bitmap.height * scale) / 2 };
  } catch (e) {
    state.image = { file, bitmap: null, scale: 1, dx: 0, dy: 0 };  // not an image: the server says what is wrong
  }
  redraw();
  clearBoxes();
  schedule(0);
});

// ------------------------------------------------------------------------------------------------ requests
function cancelTimer() {
  if (state.timer !== null) { clearTimeout(state.timer); state.timer = null; setPending(-1); }
}

function schedule(delay) {
  cancelTimer();
  setPending(+1);
  state.timer = setTimeout(() => { state.timer = null; setPending(-1); send(); },
                           delay === undefined ? DELAY[state.mode] : delay);
}

function requestFor(mode) {
  const url = mode === "symbol" ? "/api/symbol" : "/api/expression";
  const weights = state.weights[mode];
  if (state.image) {
    const form = new FormData();
    form.append("image", state.image.file, state.image.file.name || "upload.png");
    if (weights) form.append("weights", weights);
    if (mode === "expression" && Object.keys(state.corrections).length)
      form.append("corrections", JSON.stringify(state.corrections));
    return [url, { method: "POST", body: form }];
  }
  const body = { strokes: state.strokes.filter((s) => s.length > 0) };
  if (weights) body.weights = weights;
  if (mode === "expression" && Object.keys(state.corrections).length) body.corrections = state.corrections;
  return [url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }];
}

async function send() {
  const seq = ++state.seq;
  const mode = state.mode;
  if (!state.image && state.strokes.length === 0) { showEmpty(); setStatus(""); return; }
  const [url, init] = requestFor(mode);
  setPending(+1);
  setStatus("Reading…");
  const started = performance.now();
  try {
    const res = await fetch(url, init);
    const data = await res.json().catch(() => ({ error: `The server answered ${res.status} without JSON` }));
    if (seq !== state.seq || mode !== state.mode) return;
    if (!res.ok) { showEmpty(); setStatus(data.error || `Error ${res.status}`, true); return; }
    if (mode === "symbol") showSymbols(data); else showExpression(data);
    setStatus(`${data.weights} · ${Math.round(performance.now() - started)} ms`);
  } catch (e) {
    if (seq === state.seq) setStatus(`Cannot reach the server (${e.message})`, true);
  } finally {
    setPending(-1);
  }
}

function setStatus(text, isError) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

// ------------------------------------------------------------------------------------------------ results
function showEmpty() {
  const li = document.createElement("li");
  li.className = "empty";
  li.textContent = "Nothing drawn yet.";
  $("predictions").replaceChildren(li);
  $("mathml").innerHTML = '<span class="empty">Nothing drawn yet.</span>';
  $("latex").textContent = "";
  $("copy-latex").disabled = true;
  $("answer").textContent = "";
  clearBoxes();
}

function copyButton(text, cls) {
  const b = document.createElement("button");
  b.className = cls || "copy";
  b.textContent = "Copy";
  b.title = `Copy ${text}`;
  b.addEventListener("click", () => copyText(text, b));
  return b;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {  // older browsers or a page served over plain http to another host
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  const old = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = old; }, 1200);
}

function showSymbols(data) {
  const items = data.predictions.map((p) => {
    const li = document.createElement("li");
    li.dataset.label = p.label;
    const glyph = document.createElement("div");
    glyph.className = "glyph";
    glyph.innerHTML = p.mathml;          // MathML made on the server by latex2mathml from the class's LaTeX
    const code = document.createElement("code");
    code.className = "latex";
    code.textContent = p.latex;
    const prob = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.max(1, Math.round(p.prob * 100))}%`;
    bar.appendChild(fill);
    const pct = document.createElement("div");
    pct.className = "pct";
    pct.textContent = `${(p.prob * 100).toFixed(1)} %`;
    prob.append(bar, pct);
    li.append(glyph, code, prob, copyButton(p.latex));
    return li;
  });
  $("predictions").replaceChildren(...items);
}

function showExpression(data) {
  state.lastExpression = data;
  $("mathml").innerHTML = data.mathml;     // MathML made on the server by latex2mathml
  $("latex").textContent = data.latex;
  $("copy-latex").disabled = !data.latex;
  const ans = data.answer || {};
  const out = $("answer");
  out.classList.toggle("none", !ans.kind || ans.kind === "none");
  out.textContent = ans.kind === "none" ? (ans.reason || "no answer") : (ans.text || "");
  drawBoxes(data.symbols);
}

$("copy-latex").addEventListener("click", () => copyText($("latex").textContent, $("copy-latex")));

// ------------------------------------------------------------------------------------------------ boxes and corrections
function toCanvas(box) {
  const [x0, y0, x1, y1] = box;
  if (!state.image) return [x0, y0, x1, y1];
  const im = state.image;
  return [x0 * im.scale + im.dx, y0 * im.scale + im.dy, x1 * im.scale + im.dx, y1 * im.scale + im.dy];
}

function clearBoxes() { $("boxes").replaceChildren(); }

function drawBoxes(symbols) {
  const pad = 4;
  const boxes = symbols.map((s, i) => {
    const [x0, y0, x1, y1] = toCanvas(s.box);
    const div = document.createElement("div");
    div.className = "box" + (String(i) in state.corrections ? " corrected" : "");
    div.dataset.index = String(i);
    div.dataset.label = s.label;
    div.style.left = `${x0 - pad}px`;
    div.style.top = `${y0 - pad}px`;
    div.style.width = `${x1 - x0 + 2 * pad}px`;
    div.style.height = `${y1 - y0 + 2 * pad}px`;
    div.title = `${s.label} (${(s.prob * 100).toFixed(0)} %): click for alternatives`;
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = s.label;
    div.appendChild(tag);
    div.addEventListener("pointerdown", (ev) => ev.stopPropagation());
    div.addEventListener("click", (ev) => { ev.stopPropagation(); showAlternatives(i, s, div); });
    return div;
  });
  $("boxes").replaceChildren(...boxes);
}

function showAlternatives(index, sym, div) {
  const pop = $("alternatives");
  document.querySelectorAll(".box.selected").forEach((b) => b.classList.remove("selected"));
  div.classList.add("selected");
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = `Symbol ${index + 1}: read as`;
  const buttons = sym.alternatives.map((alt) => {
    const b = document.createElement("button");
    b.className = "alt" + (alt.label === sym.label ? " current" : "");
    b.dataset.label = alt.label;
    const name = document.createElement("span");
    name.className = "alt-glyph";
    name.innerHTML = alt.mathml;           // MathML made on the server by latex2mathml
    const code = document.createElement("code");
    code.textContent = alt.label;
    const prob = document.createElement("span");
    prob.className = "prob";
    prob.textContent = `${(alt.prob * 100).toFixed(1)} %`;
    b.append(name, code, prob);
    b.addEventListener("click", (ev) => {
      ev.stopPropagation();
      state.corrections[String(index)] = alt.label;
      hideAlternatives();
      schedule(0);
    });
    return b;
  });
  pop.replaceChildren(title, ...buttons);
  pop.hidden = false;
  const wrap = $("canvas-wrap").getBoundingClientRect();
  const r = div.getBoundingClientRect();
  const left = Math.min(r.left - wrap.left, wrap.width - pop.offsetWidth - 4);
  pop.style.left = `${Math.max(0, left)}px`;
  pop.style.top = `${r.bottom - wrap.top + 6}px`;
}

function hideAlternatives() {
  $("alternatives").hidden = true;
  document.querySelectorAll(".box.selected").forEach((b) => b.classList.remove("selected"));
}
document.addEventListener("click", (ev) => {
  if (!$("alternatives").contains(ev.target)) hideAlternatives();
});

// ------------------------------------------------------------------------------------------------ modes and models
function setMode(mode) {
  state.mode = mode;
  for (const m of ["symbol", "expression"]) {
    const tab = $(`mode-${m}`);
    tab.classList.toggle("active", m === mode);
    tab.setAttribute("aria-selected", String(m === mode));
  }
  $("symbol-result").hidden = mode !== "symbol";
  $("expression-result").hidden = mode !== "expression";
  $("hint").textContent = HINTS[mode];
  $("weights").value = state.weights[mode] || "";
  hideAlternatives();
  clearBoxes();
  state.corrections = {};
  showEmpty();
  schedule(0);
}
$("mode-symbol").addEventListener("click", () => setMode("symbol"));
$("mode-expression").addEventListener("click", () => setMode("expression"));
$("weights").addEventListener("change", () => {
  state.weights[state.mode] = $("weights").value;
  state.corrections = {};
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
    $("weights").value = state.weights[state.mode];
  } catch (e) {
    setStatus(`Cannot load the list of models (${e.message})`, true);
  }
}

window.addEventListener("resize", resizeCanvas);
resizeCanvas();
loadModels().then(() => {
  const wanted = new URLSearchParams(location.search).get("mode");
  if (wanted === "expression") setMode("expression");
});
