// Stovelight operator console. Nothing is shown and nothing can be sent until
// the server has accepted the token (it answers {"type": "hello"}).
import { ReconnectingSocket, el, fmt, fmtAge, setText } from "./common.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "stovelight.console.token";

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
  if (!send("go")) return;
  state.localGuardUntil = performance.now() + guardInterval() * 1000;
  renderGuard();
}

const KEYS = {
  " ": () => go(),
  Escape: () => send("panic"),
  ArrowUp: () => send("playhead_previous"),
  ArrowDown: () => send("playhead_next"),
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
      const st = el("td", null, cue.state);
      const pre = progress("prewait");
      const act = progress("action");
      const post = progress("postwait");
      row.append(number, name, type, st, pre.cell, act.cell, post.cell);
      row.addEventListener("click", () => send("set_playhead", { cue: cue.number, list: list.name }));
      table.append(row);
      state.rows.push({ list: list.name, number: cue.number, row, st, pre, act, post, stateCls: "" });
    }
    root.append(table);
  }
}

function renderCues(snap) {
  const lists = snap.cue_lists || [];
  const key = JSON.stringify(lists.map((l) => [l.name, (l.cues || []).map((c) => [c.number, c.name, c.type, c.depth])]));
  if (key !== state.cueKey) {
    state.cueKey = key;
    buildCueLists(lists);
  }
  let i = 0;
  for (const list of lists) {
    for (const cue of list.cues || []) {
      const r = state.rows[i++];
      if (!r) continue;
      setText(r.st, cue.state || "");
      const cls = `state-${String(cue.state || "idle").toLowerCase()}`;
      if (cls !== r.stateCls) {
        if (r.stateCls) r.row.classList.remove(r.stateCls);
        r.row.classList.add(cls);
        r.stateCls = cls;
      }
      r.row.classList.toggle("standby", list.playhead != null && String(list.playhead) === String(cue.number));
      r.pre.update(cue.prewait);
      r.act.update(cue.action);
      r.post.update(cue.postwait);
    }
  }
}

function renderGuard() {
  const g = (state.snap && state.snap.go_guard) || {};
  const local = Math.max(0, (state.localGuardUntil - performance.now()) / 1000);
  const remaining = Math.max(local, typeof g.remaining === "number" ? g.remaining : 0);
  const node = $("go-guard");
  const guarded = remaining > 0;
  node.dataset.state = guarded ? "guarded" : "ready";
  setText(node, guarded ? `GO guard ${fmt(remaining, 1)} s` : "ready");
  $("go").classList.toggle("guarded", guarded);
  if (guarded && !state.frame) state.frame = requestAnimationFrame(render);
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
    table.append(el("caption", "muted", `${src.name} — ${src.status || "?"} · ${fmt(src.rate_hz, 1)} msg/s · ${src.rejected ?? 0} rejected`));
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
  renderCues(snap);
  renderGuard();
  once("sources", snap.sources, renderSources);
  once("outputs", snap.outputs, renderOutputs);
  once("renderer", snap.renderer, (v) => renderKv("renderer", v));
  once("web", snap.web, (v) => renderKv("web", v));
  once("log", snap.log, (lines) => {
    const log = $("log");
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = (lines || []).join("\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
}

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
