// inkmath page mode: a photo of a page goes to POST /api/page; every expression found gets a box over the photo,
// and a tap on a box (or Enter on it) shows its LaTeX, formula and answer. Its other whole readings are offered
// ("did you mean"): a tap shows that reading instead, its formula and answer from POST /api/solve. Its symbols are
// listed too: a tap on one offers its other readings, and choosing one reads the expression again from its crop
// with that symbol fixed (POST /api/page/expression), as a drawn expression is read again after a correction.
import { $, copyText, errorText, pct, post, readingSymbols, setStatus, showAnswer, showReadings } from "./view.js";

// The server reads a page at 2,000 px on its long side (page_clean.WORK_SIDE), and a phone's 12-48 megapixel photo
// (5-20 MB) is over what a slow connection should carry: the photo is sent as a JPEG of at most UPLOAD_SIDE px on its
// long side, drawn upright (the browser applies the EXIF orientation when it decodes). A smaller photo of at most
// UPLOAD_BYTES goes as it is; one the browser cannot decode goes as it is too, and the server says what is wrong.
export const UPLOAD_SIDE = 2400;
// CSS px: every expression's box takes taps over at least this square round its centre (style.css --tap, WCAG 2.2's
// minimum target size), however small its writing is on the screen
const MIN_TAP = 24;
const UPLOAD_BYTES = 3 * 1024 * 1024;
const UPLOAD_QUALITY = 0.9;

/** ``file`` as it is when its long side is at most ``side`` px and it is at most ``bytes`` long (or the browser cannot
 *  decode it); else a JPEG of it, drawn upright, of at most ``side`` px on its long side. */
export async function uploadable(file, side = UPLOAD_SIDE, bytes = UPLOAD_BYTES) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (e) {
    return file;
  }
  try {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= bytes) return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", UPLOAD_QUALITY));
    if (!blob) return file;
    const name = (file.name || "page").replace(/\.[^.]*$/, "") + ".jpg";
    return new File([blob], name, { type: "image/jpeg" });
  } finally {
    bitmap.close();
  }
}

export function initPhoto({ setPending, features }) {
  let data = null;
  let objectUrl = null;
  let current = -1;  // the expression whose reading is shown
  let openSymbol = -1;  // the symbol of it whose other readings are offered
  let reads = 0;  // photos picked: only the last one's reading is shown

  function shown() {
    if (!features.page) setStatus("This server does not read page photos (it has no /api/page).", true);
    if (!data) $("page-summary").textContent = "Take a photo of a page.";
  }

  $("photo-input").addEventListener("change", () => {
    const picked = $("photo-input").files[0];
    $("photo-input").value = "";  // the same photo picked again is read again
    if (picked) read(picked);
  });

  /** Read the photo ``picked`` (a File) as a page: its boxes over it, the heading and the summary for this reading
   * only (what the last photo's reading showed is cleared first). A photo picked while another is read wins. */
  async function read(picked) {
    const seq = ++reads;
    $("photo-boxes").replaceChildren();
    $("photo-badges").replaceChildren();
    $("photo-badges").hidden = true;
    $("page-detail").hidden = true;
    $("page-title").textContent = "Page";
    $("page-summary").textContent = "Reading the page…";
    data = null;
    current = -1;
    openSymbol = -1;
    setPending(+1);
    setStatus("Preparing the photo…");
    const started = performance.now();
    try {
      const file = await uploadable(picked);   // what is shown is what the server reads: the boxes fit it
      if (seq !== reads) return;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(file);
      $("photo").src = objectUrl;
      $("photo-wrap").hidden = false;
      if (!features.page) { shown(); return; }
      const form = new FormData();
      form.append("file", file, file.name || "page.jpg");
      setStatus("Reading the page…");
      const [res, body] = await post("/api/page", { method: "POST", body: form });
      if (seq !== reads) return;
      if (!res.ok) {
        setStatus(errorText(body, res), true);
        $("page-summary").textContent = "The page could not be read.";
        return;
      }
      data = body;
      drawPageBoxes();
      const n = data.expressions.length;
      $("page-title").textContent = n ? `Page: ${n} expression${n > 1 ? "s" : ""}` : "Page: no expression found";
      $("page-summary").textContent = n ? `${n} expression${n > 1 ? "s" : ""} found: tap a box to see its reading.`
                                        : "No expression found on this photo.";
      setStatus(`${Math.round(performance.now() - started)} ms`);
    } catch (e) {
      if (seq === reads) setStatus(`Cannot reach the server (${e.message})`, true);
    } finally {
      setPending(-1);
    }
  }

  /** ``el`` placed over the photo on ``box`` (x0, y0, x1, y1 in the photo's pixels). */
  function placeOverPhoto(el, [x0, y0, x1, y1]) {
    el.style.left = `${(100 * x0) / data.width}%`;
    el.style.top = `${(100 * y0) / data.height}%`;
    el.style.width = `${(100 * (x1 - x0)) / data.width}%`;
    el.style.height = `${(100 * (y1 - y0)) / data.height}%`;
  }

  /** "Expression 2" or, with a question number written before it ("3)", "b."), as the worksheet names it. */
  const named = (ex) => (ex.label ? `Question ${ex.label}: expression` : "Expression");

  /** Expression ``i``'s box named by the reading it shows. */
  function nameBox(box, i, latex) {
    box.dataset.latex = latex;
    box.setAttribute("aria-label", `${named(data.expressions[i])} ${i + 1} of ${data.expressions.length}: ${latex}`);
    $("photo-badges").querySelector(`[data-index="${i}"]`)?.setAttribute("aria-label", box.getAttribute("aria-label"));
  }

  function drawPageBoxes() {
    const buttons = data.expressions.map((ex, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "photo-box";
      b.dataset.index = String(i);
      placeOverPhoto(b, ex.box);
      b.setAttribute("aria-pressed", "false");
      nameBox(b, i, ex.latex);
      const num = document.createElement("span");
      num.className = "num";
      num.setAttribute("aria-hidden", "true");
      num.textContent = String(i + 1);
      b.append(num);
      return b;
    });
    $("photo-boxes").replaceChildren(...buttons);
    placeNumbers();
  }

  // A tap on the photo opens the expression whose box it is in, or the nearest one whose tap area (each box's, at
  // least MIN_TAP px square: style.css .photo-box::before) it is in: the areas of small neighbours overlap, and the
  // one drawn last would take every tap in the overlap. A tap on a number opens its box; Enter on a box, that box.
  // A finger's tap is taken where the finger went down: the browser's touch adjustment may move the click a few px,
  // off a number onto a neighbour's box.
  let press = null;  // the point (client px) where the last touch or pen went down on the photo
  $("photo-boxes").addEventListener("pointerdown", (ev) => {
    press = ev.pointerType === "mouse" ? null : [ev.clientX, ev.clientY];
  });
  $("photo-boxes").addEventListener("pointercancel", () => { press = null; });
  $("photo-boxes").addEventListener("click", (ev) => {
    const b = ev.target.closest(".photo-box");
    const [x, y] = press || [ev.clientX, ev.clientY];
    press = null;
    if (!b || !data) return;
    const num = ev.detail === 0 ? null : document.elementFromPoint(x, y)?.closest("#photo-boxes .num");
    const i = ev.detail === 0 ? Number(b.dataset.index)
      : num ? Number(num.closest(".photo-box").dataset.index) : boxAt(x, y, Number(b.dataset.index));
    select(i);
    reveal();
  });

  /** The index of the box nearest (x, y) (client px) among those whose tap area holds it: the distance to the box,
   * 0 inside it, then to its centre; ``fallback`` when none does. */
  function boxAt(x, y, fallback) {
    let best = fallback, score = [Infinity, Infinity];
    $("photo-boxes").querySelectorAll(".photo-box").forEach((b) => {
      const r = b.getBoundingClientRect();
      const [cx, cy] = [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
      const [hw, hh] = [Math.max(r.width, MIN_TAP) / 2, Math.max(r.height, MIN_TAP) / 2];
      if (Math.abs(x - cx) > hw || Math.abs(y - cy) > hh) return;
      const s = [Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom)),
                 Math.hypot(x - cx, y - cy)];
      if (s[0] < score[0] || (s[0] === score[0] && s[1] < score[1])) [best, score] = [Number(b.dataset.index), s];
    });
    return best;
  }

  /** Each box's number goes next to it where it covers no other box and no number placed before it: above it, else
   * below, left or right of it, on the photo. A number that fits nowhere (small boxes crowded together) is left off
   * the photo and listed under it instead (#photo-badges). Placed again whenever the photo changes size. */
  function placeNumbers() {
    const area = $("photo-boxes");
    const [W, H, gap] = [area.clientWidth, area.clientHeight, 2];
    if (!data || !W || !H) return;
    const buttons = [...area.querySelectorAll(".photo-box")];
    const boxes = buttons.map((b) => ({ x: b.offsetLeft, y: b.offsetTop, w: b.offsetWidth, h: b.offsetHeight }));
    const apart = (r, q) => r.x + r.w <= q.x || q.x + q.w <= r.x || r.y + r.h <= q.y || q.y + q.h <= r.y;
    const placed = [], left = [];
    buttons.forEach((b, i) => {
      const num = b.querySelector(".num");
      num.hidden = false;
      const [w, h, r] = [num.offsetWidth, num.offsetHeight, boxes[i]];
      const [x, y] = [Math.max(0, Math.min(r.x, W - w)), Math.max(0, Math.min(r.y, H - h))];
      const spot = [[x, r.y - gap - h], [x, r.y + r.h + gap], [r.x - gap - w, y], [r.x + r.w + gap, y]]
        .map(([sx, sy]) => ({ x: sx, y: sy, w, h }))
        .find((s) => s.x >= 0 && s.y >= 0 && s.x + w <= W && s.y + h <= H && placed.every((q) => apart(s, q)) &&
                     boxes.every((q, k) => k === i || apart(s, q)));
      if (!spot) { num.hidden = true; left.push(i); return; }
      placed.push(spot);
      num.style.left = `${spot.x - r.x - b.clientLeft}px`;
      num.style.top = `${spot.y - r.y - b.clientTop}px`;
    });
    const badges = left.map((i) => {
      const badge = document.createElement("button");
      badge.type = "button";
      badge.className = "photo-badge";
      badge.dataset.index = String(i);
      badge.textContent = String(i + 1);
      badge.setAttribute("aria-label", buttons[i].getAttribute("aria-label"));
      badge.addEventListener("click", () => { select(i); reveal(); });
      return badge;
    });
    const lead = document.createElement("span");
    lead.className = "hint";
    lead.textContent = "Not numbered on the photo:";
    $("photo-badges").replaceChildren(...(badges.length ? [lead, ...badges] : []));
    $("photo-badges").hidden = !badges.length;
  }
  new ResizeObserver(placeNumbers).observe($("photo-boxes"));

  /** The reading shown for a tapped box, scrolled into view when its answer is off the screen (a phone held sideways:
   *  the photo is taller than the screen, and the reading is under it). */
  function reveal() {
    const r = $("page-answer").getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) $("page-title").scrollIntoView({ block: "start" });
  }

  function select(i) {
    if (current !== i) openSymbol = -1;
    current = i;
    const ex = data.expressions[i];
    $("photo-boxes").querySelectorAll(".photo-box").forEach((b, k) => b.setAttribute("aria-pressed", String(k === i)));
    $("page-title").textContent = `${named(ex)} ${i + 1} of ${data.expressions.length}`;
    const shown = ex.chosen || { latex: ex.latex, mathml: ex.mathml, answer: ex.answer, confidence: ex.confidence };
    $("page-mathml").innerHTML = shown.mathml || "";
    $("page-latex").textContent = shown.latex;
    showAnswer($("page-answer"), shown.answer);
    const conf = $("page-confidence");
    conf.hidden = typeof shown.confidence !== "number";
    if (!conf.hidden) conf.textContent = `${pct(shown.confidence)} sure of this reading`;
    const alts = ex.alternatives || [];
    showReadings(alts, shown.latex, (latex) => choose(i, alts.find((a) => a.latex === latex)),
                 $("page-readings"), $("page-reading-list"));
    showSymbols(i);
    $("page-detail").hidden = false;
  }

  /** Expression ``i``'s symbols as the reading shown reads them (its first, or another chosen under "did you
   * mean": view.readingSymbols) {symbols, correctable}. */
  const shownSymbols = (ex) => readingSymbols({ ...ex, symbols: ex.symbols || [] }, ex.chosen ? ex.chosen.latex : null);

  /** Expression ``i``'s symbols as buttons, labelled as the reading shown reads them: a tap offers the symbol's other
   * readings (when the server can read the expression again with a correction). Another reading's grouping of the
   * ink is listed as text (a correction names a symbol of the first reading's); unknown labels are not listed. */
  function showSymbols(i) {
    const ex = data.expressions[i];
    const { symbols, correctable } = shownSymbols(ex);
    const can = features.pageExpression && ex.crop && symbols.length > 0 && symbols.every((s) => s.label != null);
    $("page-symbols").hidden = !can;
    $("page-symbols-hint").hidden = !can || !correctable;
    if (!can || !correctable) showSymbolAlternatives(i, -1);
    if (!can) return;
    const fixed = ex.corrections || {};
    const items = symbols.map((sym, k) => {
      const code = document.createElement("code");
      code.textContent = sym.label;
      if (!correctable) return code;
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.index = String(k);
      b.className = k in fixed ? "corrected" : "";
      b.setAttribute("aria-pressed", String(k === openSymbol));
      b.append(code);
      b.setAttribute("aria-label", `Symbol ${k + 1} of ${symbols.length}: ${sym.label}, ${pct(sym.prob)}` +
        `${k in fixed ? ", corrected" : ""}. Show other readings`);
      b.addEventListener("click", () => showSymbolAlternatives(i, openSymbol === k ? -1 : k));
      return b;
    });
    $("page-symbol-list").replaceChildren(...items);
    if (correctable) showSymbolAlternatives(i, openSymbol < symbols.length ? openSymbol : -1);
  }

  /** The other readings of symbol ``k`` of expression ``i`` (-1: none shown), its box marked on the photo. */
  function showSymbolAlternatives(i, k) {
    openSymbol = k;
    $("photo-boxes").querySelectorAll(".photo-symbol").forEach((m) => m.remove());
    $("page-symbol-list").querySelectorAll("button").forEach((b) =>
      b.setAttribute("aria-pressed", String(Number(b.dataset.index) === k)));
    const ex = data.expressions[i];
    const sym = k >= 0 ? shownSymbols(ex).symbols[k] : null;
    $("page-symbol-alts").hidden = !sym;
    if (!sym) return;
    const mark = document.createElement("div");
    mark.className = "photo-symbol";
    placeOverPhoto(mark, sym.box);
    $("photo-boxes").append(mark);
    $("page-symbol-alts-label").textContent = `Symbol ${k + 1} read as`;
    const buttons = (sym.alternatives || []).map((alt) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.label = alt.label;
      b.setAttribute("aria-pressed", String(alt.label === sym.label));
      const code = document.createElement("code");
      code.textContent = alt.label;
      const p = document.createElement("span");
      p.className = "pct";
      p.textContent = pct(alt.prob);
      b.append(code, p);
      b.setAttribute("aria-label", `${alt.label}, ${pct(alt.prob)}${alt.label === sym.label ? ", current reading" : ""}`);
      b.addEventListener("click", () => { if (alt.label !== sym.label) correct(i, k, alt.label); });
      return b;
    });
    $("page-symbol-alt-list").replaceChildren(...buttons);
  }

  /** Read expression ``i`` again from its crop with symbol ``k`` read as ``label`` (and its earlier corrections). */
  async function correct(i, k, label) {
    const page = data;
    const ex = page.expressions[i];
    const corrections = { ...(ex.corrections || {}), [String(k)]: label };
    const seq = (ex.seq || 0) + 1;
    ex.seq = seq;
    setPending(+1);
    setStatus("Reading the expression again…");
    const started = performance.now();
    try {
      const [res, body] = await post("/api/page/expression", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ crop: ex.crop, corrections }) });
      if (data !== page || ex.seq !== seq) return;  // another photo, or a later correction of this expression
      if (!res.ok) {
        setStatus(errorText(body, res), true);
        return;
      }
      for (const key of ["latex", "mathml", "answer", "symbols", "confidence", "alternatives"]) ex[key] = body[key];
      ex.corrections = corrections;
      ex.chosen = null;
      nameBox($("photo-boxes").querySelectorAll(".photo-box")[i], i, ex.latex);
      if (current === i) select(i);
      setStatus(`${Math.round(performance.now() - started)} ms`);
    } catch (e) {
      if (data === page) setStatus(`Cannot reach the server (${e.message})`, true);
    } finally {
      setPending(-1);
    }
  }

  /** Show another whole reading of expression ``i``: its formula and answer from POST /api/solve (when offered). */
  async function choose(i, alt) {
    const page = data;
    const ex = page.expressions[i];
    if (alt.latex === ex.latex) {
      ex.chosen = null;
    } else {
      const chosen = { latex: alt.latex, mathml: "", answer: { kind: "none", reason: "not solved" },
                       confidence: alt.confidence };
      ex.chosen = chosen;
      if (features.solve) {
        setPending(+1);
        try {
          const [res, body] = await post("/api/solve", {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ latex: alt.latex }) });
          if (res.ok) Object.assign(chosen, { mathml: body.mathml || "", answer: body.answer });
          else setStatus(errorText(body, res), true);
        } catch (e) {
          setStatus(`Cannot reach the server (${e.message})`, true);
        } finally {
          setPending(-1);
        }
      }
    }
    if (data !== page) return;  // another photo was taken meanwhile
    if (alt.latex !== ex.latex && ex.chosen?.latex !== alt.latex) return;  // another reading was chosen meanwhile
    nameBox($("photo-boxes").querySelectorAll(".photo-box")[i], i, ex.chosen ? ex.chosen.latex : ex.latex);
    if (current === i) select(i);  // unless another expression was tapped while this one was solved
  }

  $("page-copy-latex").addEventListener("click", () => copyText($("page-latex").textContent, $("page-copy-latex")));
  $("page-copy-mathml").addEventListener("click", () => {
    const m = $("page-mathml").querySelector("math");
    copyText(m ? m.outerHTML : "", $("page-copy-mathml"));
  });

  return { shown, read };
}
