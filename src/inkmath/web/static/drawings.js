// inkmath page: the drawings kept in this browser (localStorage), the current one and a short history of the others.
import { $ } from "./view.js";

const STORE_KEY = "inkmath.drawings.v1";
const HISTORY_SIZE = 12;     // drawings kept

export function loadStore() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    return s && Array.isArray(s.entries) ? s : { entries: [] };
  } catch (e) {
    return { entries: [] };
  }
}

/** Save the drawing `id` (a new entry when id is null or unknown); `drawing` null saves nothing. Returns its id. */
export function saveDrawing(id, drawing) {
  if (!drawing) return id;
  const store = loadStore();
  let entry = store.entries.find((e) => e.id === id);
  if (!entry) {
    entry = { id: `${Date.now()}-${Math.random().toString(36).slice(2, 7)}` };
    store.entries.unshift(entry);
  }
  const { latex, ...rest } = drawing;
  Object.assign(entry, rest, { time: Date.now() });
  if (latex !== undefined) entry.latex = latex;
  store.entries = [entry, ...store.entries.filter((e) => e !== entry)].slice(0, HISTORY_SIZE);
  store.current = entry.id;
  try { localStorage.setItem(STORE_KEY, JSON.stringify(store)); } catch (e) { /* full or disabled: keep going */ }
  return entry.id;
}

/** The History list: every kept drawing but the current one, newest first; a click restores it. */
export function renderHistory(store, currentId, onRestore) {
  const items = store.entries.filter((e) => e.id !== currentId).map((e) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    const code = document.createElement("code");
    code.textContent = e.latex || `${e.strokes.length} stroke${e.strokes.length > 1 ? "s" : ""}`;
    const t = document.createElement("time");
    const when = new Date(e.time);
    t.dateTime = when.toISOString();
    t.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    b.append(code, t);
    b.setAttribute("aria-label", `Restore the ${e.mode} drawing ${code.textContent} from ${t.textContent}`);
    b.addEventListener("click", () => onRestore(e));
    li.append(b);
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "None yet.";
    items.push(li);
  }
  $("history-list").replaceChildren(...items);
}
