// Check mode: a worked solution written line under line (or a photo of one) checked line by line by POST /api/check.
// Each line gets a mark beside it: ✓ follows, ✗ wrong (tap: the reason and the correct next step), ? not sure
// (tap: the other readings of the line; choosing one checks the solution again with that reading).
import { $, addMovePoints, errorText, post, sizeCanvas } from "./view.js";
import { uploadable } from "./photo.js";

const MARKS = { given: "·", ok: "✓", wrong: "✗", unsure: "?" };
const plain = (text) => text.replace(/\$/g, "");   // the reasons write mathematics as $..$
const NAMES = { given: "the problem", ok: "follows", wrong: "wrong", unsure: "not sure" };

function setStatus(text, isError) {
  const el = $("check-status");
  el.textContent = text;
  el.classList.toggle("error", !!isError);
}

export function initCheck({ setPending }) {
  const canvas = $("check-canvas");
  const ctx = canvas.getContext("2d");
  const wrap = $("check-wrap");
  const state = { strokes: [], drawing: null, result: null, open: null, seq: 0, photo: false };

  function resize() {
    sizeCanvas(canvas, ctx);
    redraw();
  }

  function redraw() {
    const r = canvas.getBoundingClientRect();
    ctx.clearRect(0, 0, r.width, r.height);
    ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.lineWidth = 3; ctx.strokeStyle = "#1b1f2a";
    const all = state.drawing ? [...state.strokes, state.drawing.points] : state.strokes;
    for (const s of all) {
      ctx.beginPath();
      ctx.moveTo(s[0][0], s[0][1]);
      if (s.length === 1) ctx.lineTo(s[0][0] + 0.1, s[0][1]);
      for (const [x, y] of s.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
    canvas.setAttribute("aria-label", "Writing area: the problem on the first line, one step on each line under it. " +
      (state.strokes.length ? `${state.strokes.length} strokes.` : "Nothing written yet."));
    $("check-hint").hidden = state.strokes.length > 0;
  }

  function pointOf(ev) {
    const r = canvas.getBoundingClientRect();
    return [Math.round((ev.clientX - r.left) * 10) / 10, Math.round((ev.clientY - r.top) * 10) / 10];
  }

  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    if (state.drawing) return;
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    state.drawing = { id: ev.pointerId, points: [pointOf(ev)] };
    redraw();
  });
  canvas.addEventListener("pointermove", (ev) => {
    const d = state.drawing;
    if (!d || ev.pointerId !== d.id) return;
    addMovePoints(d.points, ev, pointOf);
    redraw();
  });
  const end = (ev) => {
    const d = state.drawing;
    if (!d || ev.pointerId !== d.id) return;
    state.drawing = null;
    if (ev.type !== "pointercancel") {
      state.strokes = [...state.strokes, d.points];
      forget();
    }
    redraw();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  /** The drawing changed: the marks shown belong to the old one. */
  function forget() {
    state.result = null; state.photo = false;
    $("check-marks").replaceChildren();
    $("check-lines").replaceChildren();
    closeDetail();
    $("check-summary").textContent = "Tap Check when the lines are written.";
  }

  $("check-undo").addEventListener("click", () => { state.strokes = state.strokes.slice(0, -1); forget(); redraw(); });
  $("check-clear").addEventListener("click", () => { state.strokes = []; forget(); redraw(); });
  $("check-run").addEventListener("click", () => {
    if (!state.strokes.length) { setStatus("Write the problem and your steps first, one a line.", true); return; }
    send({ body: JSON.stringify({ strokes: state.strokes }), headers: { "Content-Type": "application/json" } });
  });
  $("check-photo").addEventListener("change", async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    state.strokes = []; forget(); redraw();
    const form = new FormData();
    form.append("file", await uploadable(file), file.name || "page.jpg");
    state.photo = true;
    send({ body: form });
  });

  async function send(init) {
    const seq = ++state.seq;
    setPending(1);
    setStatus("Checking…");
    try {
      const [res, data] = await post("/api/check", { method: "POST", ...init });
      if (seq !== state.seq) return;
      if (!res.ok) { setStatus(errorText(data, res), true); return; }
      setStatus("");
      show(data);
    } catch (e) {
      if (seq === state.seq) setStatus(`Cannot reach the server (${e.message})`, true);
    } finally {
      setPending(-1);
    }
  }

  /** A reading the user picked for line i: the solution checked again with it (the others as they were read). */
  function choose(i, latex) {
    const lines = state.result.steps.map((s, k) => k === i ? { latex, confidence: 1.0, box: s.box } :
      { latex: s.latex, confidence: s.confidence,
        alternatives: s.alternatives.map((a) => [a.latex, a.confidence]), box: s.box });
    send({ body: JSON.stringify({ lines }), headers: { "Content-Type": "application/json" } });
  }

  function show(data) {
    state.result = data;
    const n = data.steps.length;
    const wrong = data.first_wrong;
    $("check-summary").textContent = (wrong === null ? "No wrong step found" : `Line ${wrong + 1} is the first wrong step`) +
      ({ true: "; the answer is right.", false: "; the answer is wrong.", null: "." })[String(data.answer_right)] +
      ` ${n} lines read.`;
    const list = $("check-lines");
    const marks = $("check-marks");
    list.replaceChildren(); marks.replaceChildren();
    data.steps.forEach((s, i) => {
      const li = document.createElement("li");
      li.className = `check-line ${s.verdict}`;
      li.dataset.verdict = s.verdict;
      const b = markButton(s, i);
      const tex = document.createElement("code");
      tex.textContent = s.latex;
      li.append(b, tex);
      list.append(li);
      if (s.box && !state.photo) {                   // beside the line on the canvas too
        const m = markButton(s, i);
        m.classList.add("on-canvas");
        m.style.top = `${Math.max(0, (s.box[1] + s.box[3]) / 2 - 22)}px`;
        m.style.left = `${Math.min(canvas.getBoundingClientRect().width - 46, s.box[2] + 8)}px`;
        marks.append(m);
      }
    });
    closeDetail();
    if (wrong !== null) openDetail(wrong);
  }

  function markButton(s, i) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `mark ${s.verdict}`;
    b.dataset.line = String(i);
    b.textContent = MARKS[s.verdict] || "?";
    b.setAttribute("aria-label", `Line ${i + 1}: ${NAMES[s.verdict] || s.verdict}`);
    b.setAttribute("aria-expanded", "false");
    b.addEventListener("click", () => (state.open === i ? closeDetail() : openDetail(i)));
    return b;
  }

  function closeDetail() {
    state.open = null;
    $("check-detail").hidden = true;
    document.querySelectorAll("#check-pad .mark, #check-result .mark").forEach((m) => m.setAttribute("aria-expanded", "false"));
  }

  function openDetail(i) {
    const s = state.result.steps[i];
    const box = $("check-detail");
    box.replaceChildren();
    const head = document.createElement("p");
    head.className = "check-head";
    head.textContent = `Line ${i + 1} (${NAMES[s.verdict] || s.verdict}): `;
    const why = document.createElement("span");
    why.className = "check-reason";
    why.textContent = plain(s.reason);
    head.append(why);
    box.append(head);
    const next = state.result.next_step;
    if (s.verdict === "wrong" && i === state.result.first_wrong && next) {
      const p = document.createElement("p");
      p.className = "check-next";
      p.textContent = "Correct next step: ";
      const code = document.createElement("code");
      code.textContent = next.latex;
      p.append(code, document.createTextNode(` (${plain(next.reason)})`));
      box.append(p);
    }
    const others = (s.alternatives || []).filter((a) => a.latex !== s.latex);
    if (s.verdict !== "given" && (s.verdict === "unsure" || s.confidence < 1) && others.length) {
      const label = document.createElement("p");
      label.className = "label";
      label.textContent = "Did you write";
      const row = document.createElement("div");
      row.className = "reading-list check-readings";
      for (const a of others.slice(0, 4)) {
        const c = document.createElement("button");
        c.type = "button";
        c.className = "reading";
        c.textContent = a.latex;
        c.addEventListener("click", () => choose(i, a.latex));
        row.append(c);
      }
      box.append(label, row);
    }
    box.hidden = false;
    state.open = i;
    document.querySelectorAll(`#check-pad .mark, #check-result .mark`).forEach((m) =>
      m.setAttribute("aria-expanded", String(m.dataset.line === String(i))));
  }

  window.addEventListener("resize", () => { if (document.body.dataset.mode === "check") resize(); });
  return { shown() { resize(); } };
}
