// Stovelight operator console. Nothing is shown and nothing can be sent until
// the server has accepted the token (it answers {"type": "hello"}).
import { ReconnectingSocket, drawChart, el, fmt, fmtAge, setText } from "./common.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "stovelight.console.token";

// The operator commands this script sends, by wire name (show/runtime/commands.py has
// the whole table; the server's hello lists what a console may send). The buttons in
// console.html name theirs in data-command.
const COMMAND = Object.freeze({
  GO: "go",
  PANIC: "panic",
  PLAYHEAD_NEXT: "playhead_next",
  PLAYHEAD_PREVIOUS: "playhead_previous",
  SET_PLAYHEAD: "set_playhead",
});

const state = {
  token: null,
  authed: false,
  nextId: 1,
  pending: new Map(),
  snap: null,
  frame: 0,
  cueKey: null,
  rows: [],
  keys: {},
  localGuardUntil: 0,
  previewTimer: 0,
  followed: null,
  openChip: null,
  mapKey: null,
  mapRows: [],
};

// ------------------------------------------------------------------ token

function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete("token");
    // Keep the token off the address bar (and off a projected screen).
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showLogin(message) {
  state.authed = false;
  document.body.dataset.auth = "none";
  $("console").hidden = true;
  $("login").hidden = false;
  setText($("login-error"), message || "");
  stopPreview();
}

function showConsole() {
  state.authed = true;
  document.body.dataset.auth = "ok";
  $("login").hidden = true;
  $("console").hidden = false;
  startPreview();
}

// ------------------------------------------------------------------ socket

let socket = null;

function connect() {
  if (socket) socket.stop();
  // The token in the socket URL takes a console seat, so a full dashboard or a
  // crowd behind the same router cannot keep the operator out.
  const path = `/console/ws?token=${encodeURIComponent(state.token)}`;
  socket = new ReconnectingSocket(path, {
    onOpen(ws) {
      ws.send(JSON.stringify({ type: "auth", token: state.token }));
    },
    onState(s, info) {
      document.body.dataset.conn = s;
      if (s === "lost") {
        state.authed = false;
        setText($("conn"), `connection lost — retrying in ${Math.ceil((info.retryIn || 0) / 1000)} s`);
      } else if (s === "open") setText($("conn"), "authenticating…");
      else if (s === "connecting") setText($("conn"), "connecting…");
      renderGo(); // GO says at once when it cannot be sent
    },
    shouldRetry(code, reason) {
      if (code === 1008) {
        // Policy: wrong token, bad origin or a protocol error. Ask the operator.
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        showLogin(`Refused: ${reason || "not allowed"}`);
        return false;
      }
      return true;
    },
    onMessage(msg) {
      if (msg.type === "hello") {
        socket.healthy();
        showConsole();
        setText($("conn"), "connected");
      } else if (msg.type === "console" && state.authed) {
        state.snap = msg;
        if (!state.frame) state.frame = requestAnimationFrame(render);
      } else if (msg.type === "reply") {
        showReply(msg);
      }
    },
  });
  socket.start();
}

function send(command, extra = {}) {
  if (!state.authed || !socket) return false;
  const id = state.nextId++;
  const msg = { type: "control", id, command, ...extra };
  if (!socket.send(msg)) {
    showReply({ ok: false, error: `${command}: not connected` });
    return false;
  }
  state.pending.set(id, command);
  return true;
}

function showReply(msg) {
  const command = state.pending.get(msg.id) || "";
  state.pending.delete(msg.id);
  const node = $("reply");
  node.classList.toggle("error", !msg.ok);
  const detail = msg.ok ? msg.message || "ok" : msg.error || "failed";
  setText(node, `${command ? command + ": " : ""}${detail}`);
}

// ------------------------------------------------------------------ controls

function guardInterval() {
  const g = state.snap && state.snap.go_guard;
  return g && typeof g.min_interval === "number" ? g.min_interval : 0;
}

function go() {
  if (!send(COMMAND.GO)) return;
  state.localGuardUntil = performance.now() + guardInterval() * 1000;
  renderGo();
}

const KEYS = {
  " ": () => go(),
  Escape: () => send(COMMAND.PANIC),
  ArrowUp: () => send(COMMAND.PLAYHEAD_PREVIOUS),
  ArrowDown: () => send(COMMAND.PLAYHEAD_NEXT),
};

document.addEventListener("keydown", (ev) => {
  if (!state.authed) return;
  const tag = ev.target && ev.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
  const action = KEYS[ev.key];
  if (!action) return;
  ev.preventDefault();
  if (ev.repeat) return; // a held space bar is one GO, not twenty
  action();
});

$("go").addEventListener("click", () => go());
for (const button of document.querySelectorAll("[data-command]")) {
  button.addEventListener("click", () => {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    send(button.dataset.command);
  });
}
$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return;
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-input").value = "";
  setText($("login-error"), "Connecting…");
  connect();
});

// ------------------------------------------------------------------ render

function clock(epochSeconds) {
  if (typeof epochSeconds !== "number") return "";
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

function mmss(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function valueText(value, unit) {
  if (value === null || value === undefined) return "no value";
  const v = typeof value === "number" ? fmt(value, Math.abs(value) < 10 ? 2 : 1) : String(value);
  return unit ? `${v} ${unit}` : v;
}

/** A conditional GO's story: what it waits for, the live value, the countdown, the end. */
export function waitStory(cueState, w) {
  if (!w) return { text: "", result: "" };
  if (cueState === "waiting" || cueState === "paused") {
    const parts = [`waiting for ${w.condition}`, `now ${valueText(w.value, w.unit)}`];
    if (w.hold) parts.push(`held ${fmt(w.held_for || 0, 1)} of ${fmt(w.hold, 1)} s`);
    if (typeof w.remaining === "number") {
      parts.push(`timeout in ${mmss(w.remaining)}${w.fallback ? ` → fallback ${w.fallback}` : ""}`);
    }
    return { text: parts.join(" · "), result: "waiting" };
  }
  const o = w.outcome;
  if (o && o.result === "succeeded") return { text: `succeeded at ${clock(o.at)}`, result: o.result };
  if (o && o.result === "timed out") {
    const fb = o.fallback ? ` → fallback ${o.fallback}` : " (no fallback)";
    return { text: `timed out at ${clock(o.at)}${fb}`, result: o.result };
  }
  if (o && o.result === "stopped") return { text: `stopped while waiting (${clock(o.at)})`, result: o.result };
  const limit = typeof w.timeout === "number" ? `, up to ${mmss(w.timeout)}` : "";
  return { text: `waits for ${w.condition}${limit}`, result: "" };
}

function progress(kind) {
  const cell = el("td", "bar-cell");
  const bar = el("div", `progress ${kind}`);
  const fill = el("div");
  bar.append(fill);
  const label = el("div", "progress-label");
  cell.append(bar, label);
  return {
    cell,
    update(p) {
      const total = p && typeof p.total === "number" ? p.total : null;
      const elapsed = p && typeof p.elapsed === "number" ? p.elapsed : 0;
      const ratio = total ? Math.min(1, Math.max(0, elapsed / total)) : 0;
      fill.style.width = `${(ratio * 100).toFixed(1)}%`;
      setText(label, total ? `${fmt(elapsed, 1)} / ${fmt(total, 1)} s` : elapsed ? `${fmt(elapsed, 1)} s` : "");
    },
  };
}

function buildCueLists(lists) {
  const root = $("cue-lists");
  root.replaceChildren();
  state.rows = [];
  for (const list of lists) {
    const table = el("table", "table cues");
    table.dataset.list = list.name;
    const head = el("tr");
    for (const h of ["#", "Name", "Type", "State", "Pre-wait", "Action", "Post-wait"]) head.append(el("th", null, h));
    table.append(el("caption", "muted", list.name));
    table.append(head);
    for (const cue of list.cues || []) {
      const row = el("tr", "cue-row");
      row.dataset.cue = cue.number;
      const number = el("td", null, cue.number);
      const name = el("td", null, cue.name);
      name.style.paddingLeft = `${0.5 + (cue.depth || 0) * 1.2}em`;
      const type = el("td", "muted", cue.type);
      const stCell = el("td");
      const st = el("div");
      const story = el("div", "story");
      stCell.append(st, story);
      const pre = progress("prewait");
      const act = progress("action");
      const post = progress("postwait");
      row.append(number, name, type, stCell, pre.cell, act.cell, post.cell);
      row.addEventListener("click", () => send(COMMAND.SET_PLAYHEAD, { cue: cue.number, list: list.name }));
      table.append(row);
      state.rows.push({ list: list.name, number: cue.number, row, st, story, pre, act, post, stateCls: "" });
    }
    root.append(table);
  }
}

function followPlayhead(row) {
  const box = $("cue-lists");
  const top = row.offsetTop - box.clientHeight / 3;
  box.scrollTop = Math.max(0, top);
}

function renderCues(snap) {
  const lists = snap.cue_lists || [];
  const key = JSON.stringify(lists.map((l) => [l.name, (l.cues || []).map((c) => [c.number, c.name, c.type, c.depth])]));
  if (key !== state.cueKey) {
    state.cueKey = key;
    state.followed = null;
    buildCueLists(lists);
  }
  let i = 0;
  for (const list of lists) {
    for (const cue of list.cues || []) {
      const r = state.rows[i++];
      if (!r) continue;
      setText(r.st, cue.state || "");
      const story = waitStory(cue.state, cue.wait);
      setText(r.story, story.text);
      r.story.dataset.result = story.result;
      const cls = `state-${String(cue.state || "idle").toLowerCase()}`;
      if (cls !== r.stateCls) {
        if (r.stateCls) r.row.classList.remove(r.stateCls);
        r.row.classList.add(cls);
        r.stateCls = cls;
      }
      const standby = list.playhead != null && String(list.playhead) === String(cue.number);
      r.row.classList.toggle("standby", standby);
      if (standby && list === lists[0] && state.followed !== cue.number) {
        state.followed = cue.number;
        followPlayhead(r.row);
      }
      r.pre.update(cue.prewait);
      r.act.update(cue.action);
      r.post.update(cue.postwait);
    }
  }
}

/** GO's state: the server's word, or the guard this console just started. */
function goState() {
  const snap = state.snap || {};
  if (document.body.dataset.conn !== "open") return { state: "offline", reason: "not connected: GO cannot be sent" };
  const g = snap.go || { state: "ready", reason: "ready" };
  const local = Math.max(0, (state.localGuardUntil - performance.now()) / 1000);
  if (g.state !== "panic" && local > 0 && !(g.state === "guard" && g.remaining >= local)) {
    return { state: "guard", reason: `double-GO guard: ${fmt(local, 1)} s`, remaining: local };
  }
  return g;
}

function renderGo() {
  const g = goState();
  const button = $("go");
  const node = $("go-state");
  button.dataset.state = g.state;
  node.dataset.state = g.state;
  setText(node, g.reason || g.state);
  button.title = `GO (space bar) — ${g.reason || g.state}`;
  if (g.state === "guard" && !state.frame) state.frame = requestAnimationFrame(render);
}

function renderStandby(snap) {
  const all = snap.standby || [];
  const main = all[0] || {};
  const box = $("standby");
  const empty = main.number == null;
  box.dataset.empty = String(empty);
  setText($("sb-number"), empty ? "—" : main.number);
  setText($("sb-name"), empty ? "end of the list: GO does nothing" : main.name || "(no name)");
  setText($("sb-type"), empty ? "" : `${main.type}${main.armed === false ? " · disarmed" : ""}`);
  setText($("sb-fires"), empty ? "nothing" : main.fires || "");
  setText($("sb-waits"), main.waits_for ? `waits for ${main.waits_for}` : "");
  setText($("sb-notes"), main.notes || "");
  once("sb-children", main.children || [], (kids) => {
    const ul = $("sb-children");
    ul.replaceChildren(
      ...kids.map((k) => {
        const li = el("li");
        li.append(el("b", null, `${k.number} `), `${k.name ? k.name + ": " : ""}${k.fires}`);
        return li;
      }),
    );
  });
  const others = all.slice(1).filter((s) => s.number != null);
  setText($("sb-other"), others.map((s) => `${s.list}: ${s.number} ${s.name || ""}`).join(" · "));
}

function renderRunning(rows) {
  const ul = $("running");
  const items = (rows || []).map((r) => {
    const li = el("li", r.depth ? "child" : "");
    li.dataset.state = r.state;
    li.dataset.cue = r.number;
    const left = typeof r.remaining === "number" ? `${mmss(r.remaining)} left` : "";
    const time = `${r.state === "running" ? "" : r.state + " · "}${mmss(r.elapsed)}${left ? " · " + left : ""}`;
    li.append(el("span", "rn", r.number), el("span", "rname", r.name || r.type), el("span", "rtime", time));
    return li;
  });
  if (!items.length) items.push(el("li", "none", "nothing running"));
  ul.replaceChildren(...items);
}

function renderHealth(chips) {
  const root = $("health");
  const open = state.openChip;
  root.replaceChildren(
    ...(chips || []).map((c) => {
      const b = el("button", "chip");
      b.dataset.state = c.state;
      b.dataset.id = c.id;
      b.dataset.kind = c.kind;
      b.setAttribute("aria-expanded", String(open === c.id));
      b.title = `${c.label}: ${c.state} — click for details`;
      b.append(el("span", "dot"), el("b", null, c.label), el("span", "t", c.text));
      b.addEventListener("click", () => {
        state.openChip = state.openChip === c.id ? null : c.id;
        renderHealth(state.snap.health);
      });
      return b;
    }),
  );
  const chip = (chips || []).find((c) => c.id === open);
  const box = $("chip-details");
  box.hidden = !chip;
  if (chip) {
    setText($("chip-title"), `${chip.label} — ${chip.state}: ${chip.text}`);
    $("chip-lines").replaceChildren(...(chip.details || []).map((line) => el("li", null, line)));
  }
}

function renderMappings(m) {
  const note = $("maps-note");
  const panicOff = m && m.all_off && m.panic_off_at;
  note.hidden = !panicOff;
  if (panicOff) setText(note, `PANIC turned every mapping off at ${clock(m.panic_off_at)}: nothing follows the data until a cue starts them again.`);
  const table = $("mappings");
  const rows = (m && m.rows) || [];
  const key = JSON.stringify(rows.map((r) => r.name));
  if (state.mapKey !== key) {
    state.mapKey = key;
    table.replaceChildren();
    const head = el("tr");
    for (const h of ["Mapping", "Input", "Output", "State", "Last 60 s"]) head.append(el("th", null, h));
    table.append(head);
    state.mapRows = rows.map((r) => {
      const tr = el("tr");
      tr.dataset.mapping = r.name;
      const name = el("td");
      name.append(el("b", null, r.name), el("div", "desc", r.describe));
      const input = el("td");
      const output = el("td");
      const st = el("td", "mstate");
      const plotCell = el("td");
      const canvas = el("canvas");
      plotCell.append(canvas);
      tr.append(name, input, output, st, plotCell);
      table.append(tr);
      return { tr, input, output, st, canvas };
    });
  }
  const more = (m && m.more) || 0;
  if (more && !table.querySelector(".more")) {
    const tr = el("tr", "more");
    const td = el("td", "muted", `… and ${more} more mappings, not listed here`);
    td.colSpan = 5;
    tr.append(td);
    table.append(tr);
  }
  const css = getComputedStyle(document.documentElement);
  rows.forEach((r, i) => {
    const row = state.mapRows[i];
    if (!row) return;
    row.tr.dataset.state = r.state;
    setText(row.input, `${valueText(r.input, r.input_unit)}${r.input_health !== "live" ? ` (${r.input_health})` : ""}`);
    row.output.replaceChildren(valueText(r.output, ""), el("span", "sent", `${r.sent} sent`));
    if (r.pinned) row.output.append(el("span", "pinned", `pinned: input ${r.pinned}`));
    setText(row.st, `${r.state}${r.level !== 1 ? ` · level ${fmt(r.level, 2)}` : ""}`);
    drawChart(row.canvas, [{ values: r.plot, color: css.getPropertyValue("--accent").trim(), width: 2 }], {
      range: r.out_range || undefined,
      axes: false,
    });
  });
}

function renderTriggers(rows) {
  const table = $("triggers");
  table.replaceChildren();
  const head = el("tr");
  for (const h of ["Trigger", "State", "Value", "Last fired"]) head.append(el("th", null, h));
  table.append(head);
  for (const t of rows || []) {
    const tr = el("tr");
    tr.dataset.trigger = t.name;
    tr.dataset.state = t.state;
    const name = el("td");
    name.append(el("b", null, t.name), el("div", "desc", t.describe));
    const holding = t.state === "holding" && t.hold ? ` ${fmt(t.holding_for || 0, 1)}/${fmt(t.hold, 1)} s` : "";
    const last = t.last_fired_ago == null ? "never" : `${mmss(t.last_fired_ago)} ago (${t.fired}×)`;
    tr.append(name, el("td", "tstate", t.state + holding), el("td", null, valueText(t.value, t.unit)), el("td", null, last));
    table.append(tr);
  }
}

function once(name, value, draw) {
  const k = JSON.stringify(value ?? null);
  if (state.keys[name] === k) return;
  state.keys[name] = k;
  draw(value);
}

function healthCell(health) {
  return el("span", `h-${health || "lost"}`, health || "unknown");
}

function renderSources(sources) {
  const root = $("sources");
  root.replaceChildren();
  for (const src of sources || []) {
    const table = el("table", "table source");
    table.append(el("caption", "muted", `${src.name} — ${src.status || "?"} · ${fmt(src.rate_hz, 1)} msg/s · ${src.rejected ?? 0} refused${src.detail ? " · " + src.detail : ""}`));
    const head = el("tr");
    for (const h of ["Signal", "Value", "Health", "Age"]) head.append(el("th", null, h));
    table.append(head);
    for (const s of src.signals || []) {
      const row = el("tr");
      row.dataset.signal = s.name;
      const h = el("td");
      h.append(healthCell(s.health));
      row.append(el("td", null, s.name), el("td", null, fmt(s.value, 2)), h, el("td", null, fmtAge(s.age)));
      table.append(row);
    }
    root.append(table);
  }
}

function renderOutputs(outputs) {
  const table = $("outputs");
  table.replaceChildren();
  const head = el("tr");
  for (const h of ["Output", "Kind", "State", "Sent", "Errors"]) head.append(el("th", null, h));
  table.append(head);
  for (const o of outputs || []) {
    const row = el("tr");
    const st = el("td", o.state === "ok" ? "h-live" : "h-lost", o.state || "?");
    row.append(el("td", null, o.name), el("td", "muted", o.kind || ""), st, el("td", null, String(o.sent ?? "")), el("td", null, String(o.errors ?? "")));
    table.append(row);
  }
}

function renderKv(id, obj) {
  const root = $(id);
  root.replaceChildren();
  for (const [k, v] of Object.entries(obj || {})) {
    root.append(el("dt", null, k), el("dd", null, typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 1) : String(v)));
  }
}

function render() {
  state.frame = 0;
  const snap = state.snap;
  if (!snap || !state.authed) return;
  renderGo();
  renderStandby(snap);
  once("running", snap.running, renderRunning);
  once("health", snap.health, renderHealth);
  renderCues(snap);
  once("mappings", snap.mappings, renderMappings);
  once("triggers", snap.triggers, renderTriggers);
  once("sources", snap.sources, renderSources);
  once("outputs", snap.outputs, (outputs) => {
    renderOutputs(outputs);
    // a tracking backup offers TAKEOVER until it has taken over
    $("takeover").hidden = !(outputs || []).some((o) => o.takeover === true);
  });
  once("renderer", snap.renderer, (v) => renderKv("renderer", v));
  once("web", snap.web, (v) => renderKv("web", v));
  once("log", snap.log, (lines) => {
    const log = $("log");
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = (lines || []).join("\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
}

$("chip-close").addEventListener("click", () => {
  state.openChip = null;
  if (state.snap) renderHealth(state.snap.health);
});

// ------------------------------------------------------------------ preview

function startPreview() {
  stopPreview();
  const tick = () => {
    if (!state.authed || !state.token) return;
    const next = new Image();
    next.onload = () => {
      const current = $("preview");
      next.id = "preview";
      next.className = "preview";
      next.alt = current.alt;
      current.replaceWith(next);
      setText($("preview-note"), "");
    };
    next.onerror = () => setText($("preview-note"), "No preview image yet.");
    next.src = `/console/preview.jpg?token=${encodeURIComponent(state.token)}&n=${Date.now()}`;
  };
  tick();
  state.previewTimer = setInterval(tick, 1000);
}

function stopPreview() {
  clearInterval(state.previewTimer);
  state.previewTimer = 0;
}

// ------------------------------------------------------------------ start

state.token = takeToken();
if (state.token) connect();
else showLogin("");
