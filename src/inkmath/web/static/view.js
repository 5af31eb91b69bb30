// inkmath page: rendering of results (symbol top-5, expression reading, steps, graph) and small shared helpers.
// MathML comes from the server (latex2mathml); every other text goes through textContent.

export const $ = (id) => document.getElementById(id);

export function setStatus(text, isError) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

/** The message of an error answer of the API ({"error": ...}, or FastAPI's {"detail": ...}). */
export function errorText(data, res) {
  const d = data.error || data.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => e.msg || JSON.stringify(e)).join("; ");
  return `Error ${res.status}`;
}

/** ``fetch(url, init)`` and its JSON answer: [response, data]; data is {"error": ...} when the answer is not JSON. */
export async function post(url, init) {
  const res = await fetch(url, init);
  const data = await res.json().catch(() => ({ error: `The server answered ${res.status} without JSON` }));
  return [res, data];
}

/** Gives ``canvas`` a backing store of its CSS size in device pixels and sets ``ctx`` to draw in CSS pixels. */
export function sizeCanvas(canvas, ctx) {
  const dpr = window.devicePixelRatio || 1;
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width * dpr);
  canvas.height = Math.round(r.height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

/** Appends to ``points`` each point of a pointer move (its coalesced events, else the event) that differs from the
 * last one, as ``pointOf`` maps it; returns the points appended. */
export function addMovePoints(points, ev, pointOf) {
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
  const added = [];
  for (const e of (events.length ? events : [ev])) {
    const p = pointOf(e);
    const last = points[points.length - 1];
    if (p[0] !== last[0] || p[1] !== last[1]) {
      points.push(p);
      added.push(p);
    }
  }
  return added;
}

export const pct = (p) => (p < 0.001 ? "< 0.1 %" : `${(p * 100).toFixed(p >= 0.995 || p < 0.1 ? 1 : 0)} %`);

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {  // older browsers, or a page served over plain http to another host
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("aria-hidden", "true");
    document.body.appendChild(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  const old = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = old; }, 1200);
}

// ------------------------------------------------------------------------------------------------ symbol mode
export function showSymbols(data) {
  const items = data.predictions.map((p, rank) => {
    const li = document.createElement("li");
    li.dataset.label = p.label;
    const glyph = document.createElement("div");
    glyph.className = "glyph";
    glyph.innerHTML = p.mathml;
    const code = document.createElement("code");
    code.className = "latex";
    code.textContent = p.latex;
    const prob = document.createElement("div");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.style.width = `${Math.max(1, Math.round(p.prob * 100))}%`;
    bar.appendChild(fill);
    const pc = document.createElement("div");
    pc.className = "pct";
    pc.textContent = pct(p.prob);
    prob.append(bar, pc);
    const copy = document.createElement("button");
    copy.className = "copy";
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", `Copy LaTeX ${p.latex} (choice ${rank + 1})`);
    copy.addEventListener("click", () => copyText(p.latex, copy));
    li.append(glyph, code, prob, copy);
    return li;
  });
  $("predictions").replaceChildren(...items);
}

// ------------------------------------------------------------------------------------------------ expression mode
export function showEmptyExpression() {
  const li = document.createElement("li");
  li.className = "empty";
  li.textContent = "Nothing drawn yet.";
  $("predictions").replaceChildren(li);
  $("mathml").innerHTML = '<span class="empty">Nothing drawn yet.</span>';
  $("latex").value = "";
  $("answer").textContent = "";
  $("copy-latex").disabled = true;
  $("copy-mathml").disabled = true;
  $("confidence").hidden = true;
  $("readings").hidden = true;
  $("steps").hidden = true;
  $("plot").hidden = true;
  $("latex-error").textContent = "";
}

/** Show a reading: {latex, mathml, answer, confidence?, alternatives?}. Absent fields leave their parts hidden. */
export function showReading(data, { onReading, shownLatex, keepField } = {}) {
  $("mathml").innerHTML = data.mathml || '<span class="empty">Nothing read.</span>';
  if (!keepField) $("latex").value = data.latex || "";
  $("latex-error").textContent = "";
  $("copy-latex").disabled = !data.latex;
  $("copy-mathml").disabled = !data.mathml;
  showAnswer($("answer"), data.answer);
  const conf = $("confidence");
  if (typeof data.confidence === "number") {
    conf.hidden = false;
    conf.textContent = `${pct(data.confidence)} sure`;
    conf.title = "The estimated probability that this reading is right";
    conf.classList.toggle("low", data.confidence < 0.5);
  } else {
    conf.hidden = true;
  }
  showReadings(data.alternatives, shownLatex ?? data.latex, onReading);
  showExtras(data.answer, data.latex);
}

/** The worked steps (collapsed) and the graph of an answer; each stays hidden when the answer has none. */
export function showExtras(ans, latex) {
  showSteps(ans);
  showPlot(ans, latex);
}

export function showAnswer(out, ans) {
  ans = ans || {};
  const none = !ans.kind || ans.kind === "none";
  out.classList.toggle("none", none);
  out.textContent = none ? (ans.reason || "no answer") : (ans.text || "");
  const notes = !none && Array.isArray(ans.notes) ? ans.notes.filter((n) => typeof n === "string" && n) : [];
  for (const n of notes) {                        // what the answer leaves out or assumes ("principal values only")
    const small = document.createElement("small");
    small.className = "answer-note";
    small.textContent = n;
    out.append(small);
  }
}

/** The other whole readings ("did you mean") as buttons in ``list``, inside ``box`` (hidden with fewer than two); the
 *  one shown is pressed, a tap calls ``onReading(latex)``. Expression mode's and page mode's. */
export function showReadings(alternatives, shown, onReading, box = $("readings"), list = $("reading-list")) {
  if (!Array.isArray(alternatives) || alternatives.length < 2) { box.hidden = true; return; }
  const buttons = alternatives.map((alt, k) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.latex = alt.latex;
    b.setAttribute("aria-pressed", String(alt.latex === shown));
    const code = document.createElement("code");
    code.textContent = alt.latex;
    b.append(code);
    if (typeof alt.confidence === "number") {
      const p = document.createElement("span");
      p.className = "pct";
      p.textContent = pct(alt.confidence);
      b.append(p);
    }
    b.setAttribute("aria-label", `Reading ${k + 1}: ${alt.latex}` +
      (typeof alt.confidence === "number" ? `, ${pct(alt.confidence)}` : ""));
    b.addEventListener("click", () => onReading && onReading(alt.latex));
    return b;
  });
  list.replaceChildren(...buttons);
  box.hidden = false;
}

function showSteps(ans) {
  const steps = ans && Array.isArray(ans.steps) ? ans.steps : null;
  const details = $("steps");
  if (!steps || steps.length === 0) { details.hidden = true; return; }
  const items = steps.map((s) => {
    const li = document.createElement("li");
    li.dataset.latex = s.latex || "";
    const math = document.createElement("div");
    math.className = "step-math";
    if (s.mathml) math.innerHTML = s.mathml;
    else {
      const code = document.createElement("code");
      code.textContent = s.latex || s.sympy || "";
      math.append(code);
    }
    li.append(math);
    if (s.reason) {
      const r = document.createElement("span");
      r.className = "reason";
      r.textContent = s.reason.replace(/\$([^$]*)\$/g, "$1");   // inline math in the reason, as plain text
      li.append(r);
    }
    return li;
  });
  $("step-list").replaceChildren(...items);
  details.querySelector("summary").textContent = `Steps (${steps.length})`;
  details.hidden = false;
}

function showPlot(ans, latex) {
  const fig = $("plot");
  const svg = ans && typeof ans.plot === "string" && ans.plot.includes("<svg") ? ans.plot : null;
  if (!svg) { fig.hidden = true; $("plot-img").removeAttribute("src"); return; }
  // an <img> never runs anything inside the SVG
  $("plot-img").src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  $("plot-img").alt = `Graph of ${latex || "the expression"}`;
  $("plot-caption").textContent = `Graph of ${latex || "the expression"}`;
  fig.hidden = false;
}

// ------------------------------------------------------------------------------------------------ symbol boxes
/** The symbols of the reading ``latex`` of an expression's response ``data``, each labelled with that reading's
 *  token: {symbols, correctable, regrouped?}. The first reading (``latex`` null or ``data.latex``): the response's symbols.
 *  Another reading ("did you mean") of the same grouping of the ink (``same_symbols``): the response's symbols
 *  relabelled, still ``correctable`` (symbol i is the same symbol). Of another grouping (``regrouped``): that grouping's
 *  symbols, not correctable (a correction names a symbol of the first reading's grouping). From a server that does not say which
 *  symbols a reading reads: the response's symbols with no label (``label`` null), rather than the first's labels. */
export function readingSymbols(data, latex) {
  const alt = latex == null || latex === data.latex ? null : (data.alternatives || []).find((a) => a.latex === latex);
  if (!alt) return { symbols: data.symbols, correctable: true };
  if (!Array.isArray(alt.symbols)) {
    return { symbols: data.symbols.map((s) => ({ ...s, label: null })), correctable: false };
  }
  if (alt.same_symbols && alt.symbols.length === data.symbols.length) {
    const symbols = data.symbols.map((s, i) => {
      const label = alt.symbols[i].label;
      const listed = (s.alternatives || []).find((a) => a.label === label);
      return { ...s, label, latex: alt.symbols[i].latex, prob: listed ? listed.prob : 0 };
    });
    return { symbols, correctable: true };
  }
  return { symbols: alt.symbols, correctable: false, regrouped: true };
}

/** Boxes over the drawing; the label of each is a focusable button that opens the symbol's alternatives. Not
 *  ``correctable`` (another reading's grouping): the labels are text only, and taps go through them to the drawing;
 *  a symbol whose ``label`` is null gets no label. */
export function drawBoxes(symbols, toCanvas, isCorrected, onOpen, correctable = true) {
  const pad = 4;
  const boxes = symbols.map((s, i) => {
    const [x0, y0, x1, y1] = toCanvas(s.box);
    const div = document.createElement("div");
    div.className = "box" + (isCorrected(i) ? " corrected" : "") + (correctable ? "" : " read-only");
    div.dataset.index = String(i);
    div.style.left = `${x0 - pad}px`;
    div.style.top = `${y0 - pad}px`;
    div.style.width = `${x1 - x0 + 2 * pad}px`;
    div.style.height = `${y1 - y0 + 2 * pad}px`;
    if (s.label == null) return div;
    div.dataset.label = s.label;
    if (!correctable) {
      const tag = document.createElement("span");
      tag.className = "tag read-only";
      tag.textContent = s.label;
      div.appendChild(tag);
      return div;
    }
    const tag = document.createElement("button");
    tag.type = "button";
    tag.className = "tag";
    tag.dataset.index = String(i);
    tag.textContent = s.label;
    tag.setAttribute("aria-haspopup", "dialog");
    tag.setAttribute("aria-label", `Symbol ${i + 1} of ${symbols.length}: ${s.label}, ${pct(s.prob)}` +
      `${isCorrected(i) ? ", corrected" : ""}. Show other readings`);
    // pointer taps are handled with the drawing (a tap on the label chooses the box); this is the keyboard's way
    tag.addEventListener("click", (ev) => { if (ev.detail === 0) onOpen(i, true); });
    div.appendChild(tag);
    return div;
  });
  $("boxes").replaceChildren(...boxes);
  placeTags(boxes);
  placeAlternatives();
}

/** Each box's label goes above its box, or below it, or inside it: the first of these that is on the canvas and
 * clear of the labels placed before it (when none is, the first on the canvas). A label never leaves the canvas, so
 * it never covers the toolbar above it or takes its taps, and in a long row of small symbols the labels take turns
 * above and below instead of covering each other. */
function placeTags(divs) {
  const area = $("boxes");
  const [W, H, gap] = [area.clientWidth, area.clientHeight, 3];
  const placed = [];
  const clear = (r) => placed.every((q) => r.x + r.w <= q.x || q.x + q.w <= r.x || r.y + r.h <= q.y || q.y + q.h <= r.y);
  for (const div of divs) {
    const tag = div.querySelector(".tag");
    if (!tag) continue;
    const [w, h] = [tag.offsetWidth, tag.offsetHeight];
    const [left, top, bottom] = [div.offsetLeft + div.clientLeft, div.offsetTop + div.clientTop,
                                 div.offsetTop + div.offsetHeight];
    const x = Math.max(0, Math.min(div.offsetLeft, W - w));
    const spots = [div.offsetTop - gap - h, bottom + gap, Math.max(0, Math.min(top, H - h))]
      .filter((y) => y >= 0 && y + h <= H).map((y) => ({ x, y, w, h }));
    const spot = spots.find(clear) || spots[0] || { x, y: 0, w, h };
    placed.push(spot);
    tag.style.left = `${spot.x - left}px`;
    tag.style.top = `${spot.y - top}px`;
  }
}

export function clearBoxes() { $("boxes").replaceChildren(); }

export function showAlternatives(index, sym, onChoose, focusFirst) {
  const pop = $("alternatives");
  const div = $("boxes").querySelector(`.box[data-index="${index}"]`);
  document.querySelectorAll(".box.selected").forEach((b) => b.classList.remove("selected"));
  if (!div) return;
  div.classList.add("selected");
  const title = document.createElement("p");
  title.className = "title";
  title.textContent = `Symbol ${index + 1}: read as`;
  const buttons = sym.alternatives.map((alt) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "alt" + (alt.label === sym.label ? " current" : "");
    b.dataset.label = alt.label;
    b.setAttribute("aria-label", `${alt.label}, ${pct(alt.prob)}${alt.label === sym.label ? ", current reading" : ""}`);
    const glyph = document.createElement("span");
    glyph.className = "alt-glyph";
    glyph.setAttribute("aria-hidden", "true");
    if (alt.mathml) glyph.innerHTML = alt.mathml;
    const code = document.createElement("code");
    code.textContent = alt.label;
    const prob = document.createElement("span");
    prob.className = "prob";
    prob.textContent = pct(alt.prob);
    b.append(glyph, code, prob);
    b.addEventListener("click", (ev) => { ev.stopPropagation(); onChoose(index, alt.label); });
    return b;
  });
  pop.replaceChildren(title, ...buttons);
  pop.dataset.index = String(index);
  pop.hidden = false;
  placeAlternatives();
  if (focusFirst && buttons.length) buttons[0].focus();
}

/** The open list of alternatives next to its symbol's box, as the boxes are now (they are drawn again when the
 * canvas changes size). */
function placeAlternatives() {
  const pop = $("alternatives");
  if (pop.hidden) return;
  const div = $("boxes").querySelector(`.box[data-index="${pop.dataset.index}"]`);
  if (!div) { hideAlternatives(); return; }
  div.classList.add("selected");
  const wrap = $("canvas-wrap").getBoundingClientRect();
  const r = div.getBoundingClientRect();
  const [w, h, gap] = [pop.offsetWidth, pop.offsetHeight, 6];
  const [x0, y0, x1, y1] = [r.left - wrap.left, r.top - wrap.top, r.right - wrap.left, r.bottom - wrap.top];
  let left = Math.max(0, Math.min(x0, wrap.width - w - 4));
  let top;
  if (y1 + gap + h <= wrap.height) top = y1 + gap;                 // below the box
  else if (y0 - gap - h >= 0) top = y0 - gap - h;                  // above it
  else {                                                            // beside it, on the side with room
    top = Math.max(0, Math.min(y0, wrap.height - h));
    if (x1 + gap + w <= wrap.width) left = x1 + gap;
    else if (x0 - gap - w >= 0) left = x0 - gap - w;
    else top = Math.max(0, y0 - gap - h);
  }
  pop.style.left = `${left}px`;
  pop.style.top = `${top}px`;
}

export function hideAlternatives(returnFocus) {
  const pop = $("alternatives");
  const wasOpen = !pop.hidden;
  pop.hidden = true;
  const sel = document.querySelector(".box.selected");
  if (sel) sel.classList.remove("selected");
  if (wasOpen && returnFocus && sel) sel.querySelector(".tag")?.focus();
}
