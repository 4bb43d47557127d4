// Stovelight public dashboard. Read-only: it listens on /ws and never sends.
// Renders the panels the show file chose (snapshot.layout) at most once per
// animation frame, whatever the snapshot rate.
import { ReconnectingSocket, drawChart, el, fmt, fmtAge, setLocale, setText } from "./common.js";
import { Projector } from "./projector.js";

const DELAYED_AFTER_MS = 3000;
const $ = (id) => document.getElementById(id);

/** Every text on the page; a show replaces any of them in [dashboard.text]
 * (the keys are listed in show/showfile/dashtext.py). {name} placeholders are filled in. */
export const DEFAULT_TEXT = {
  language: "en",
  live: "● Live",
  connecting: "Connecting…",
  offline: "Offline",
  delayed: "Delayed",
  no_live_data: "No live data",
  lost_banner: "Connection to the show lost. Reconnecting in {s} s…",
  delayed_banner: "No new readings for {age}. Showing the last known values.",
  nosignal_banner: "No live readings right now: the values shown are old or missing.",
  waiting_title: "Waiting for data",
  waiting_sub: "The show has not started sending readings yet. This page updates by itself.",
  updated: "Updated {time}",
  stale: "STALE",
  stale_age: "{age} old",
  no_signal: "NO SIGNAL",
  no_data: "NO DATA",
  energy_title: "Neighbourhood energy",
  energy_explain: "Energy made by the homes right now, energy used, and energy passed between homes.",
  energy_made: "Made (supply)",
  energy_used: "Used (demand)",
  energy_shared: "Shared between homes",
  energy_shared_note: "passed from home to home",
  energy_balanced: "Made and used are in balance.",
  energy_surplus: "The homes make {value} {unit} more than they use.",
  energy_deficit: "The homes use {value} {unit} more than they make.",
  legend_made: "made",
  legend_used: "used",
  legend_shared: "shared",
  stoves_title: "Stovetops",
  messages_title: "Announcements",
  messages_empty: "No announcements right now.",
  chart_now: "now",
  chart_ago: "{s} s ago",
  page: "{n} / {of}",
};

let TEXT = { ...DEFAULT_TEXT };

/** A text by key with its {placeholders} filled in. */
function t(key, values = {}) {
  const raw = TEXT[key] ?? DEFAULT_TEXT[key] ?? key;
  return raw.replace(/\{([a-z_]+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

function applyText(overrides) {
  const k = JSON.stringify(overrides || {});
  if (k === state.textKey) return false;
  state.textKey = k;
  TEXT = { ...DEFAULT_TEXT, ...(overrides || {}) };
  document.documentElement.lang = TEXT.language;
  setLocale(TEXT.language);
  setText($("waiting-title"), t("waiting_title"));
  setText($("waiting-sub"), t("waiting_sub"));
  return true;
}

function chartOpts(snap, extra) {
  const n = 60 * (snap.history_period_s || 1);
  return { ago: t("chart_ago", { s: n }), now: t("chart_now"), ...extra };
}

const state = {
  snap: null,
  receivedAt: 0,
  layoutKey: null,
  panels: [],
  frame: 0,
  conn: "connecting",
  retryAt: 0,
  lostReason: "",
  textKey: null,
  histories: new Map(),
};

// ------------------------------------------------------------------ signals

function signal(snap, name) {
  const s = name && snap.signals ? snap.signals[name] : undefined;
  return s || { value: null, health: "missing", history: [] };
}

function healthText(s) {
  if (s.health === "stale") return `${t("stale")}${s.age != null ? " · " + t("stale_age", { age: fmtAge(s.age) }) : ""}`;
  if (s.health === "lost") return t("no_signal");
  if (s.health === "missing") return t("no_data");
  return "";
}

function applyHealth(node, badge, s) {
  const cls = `health-${["live", "stale", "lost"].includes(s.health) ? s.health : "lost"}`;
  for (const c of ["health-live", "health-stale", "health-lost"]) node.classList.toggle(c, c === cls);
  node.dataset.health = s.health || "missing";
  setText(badge, healthText(s));
}

function displayValue(s, decimals) {
  if (s.health === "lost" || s.health === "missing") return "—";
  return fmt(s.value, decimals);
}

/** A labelled figure: label, big value, unit, health badge, note line. */
function figure(kind, label, signalName, unit, decimals) {
  const node = el("div", `figure ${kind}`);
  node.dataset.signal = signalName || "";
  const head = el("div", "label", label);
  const badge = el("span", "health");
  head.append(badge);
  const line = el("div");
  const value = el("span", "value", "—");
  const unitNode = el("span", "unit", unit || "");
  line.append(value, unitNode);
  const note = el("div", "note");
  node.append(head, line, note);
  return {
    node,
    note,
    update(snap) {
      const s = signal(snap, signalName);
      applyHealth(node, badge, s);
      setText(value, displayValue(s, decimals));
      setText(unitNode, unit || s.unit || "");
      return s;
    },
  };
}

// ------------------------------------------------------------------ panels

function balancePanel(spec) {
  const sig = spec.signals || {};
  const node = el("section", "panel balance");
  node.append(el("h2", null, spec.title || t("energy_title")));
  node.append(el("p", "explain", t("energy_explain")));
  const figs = el("div", "figures");
  const supply = figure("supply", t("energy_made"), sig.supply, spec.unit, 1);
  const demand = figure("demand", t("energy_used"), sig.demand, spec.unit, 1);
  const exchange = figure("exchange", t("energy_shared"), sig.exchange, spec.unit, 1);
  const parts = [supply, demand];
  if (sig.exchange) parts.push(exchange);
  figs.append(...parts.map((p) => p.node));
  const sentence = el("p", "sentence");
  const canvas = el("canvas", "chart");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "History of energy made, used and shared");
  const legend = el("div", "legend");
  for (const [label, color, dash] of [
    [t("legend_made"), "var(--supply)", false],
    [t("legend_used"), "var(--demand)", true],
    ...(sig.exchange ? [[t("legend_shared"), "var(--exchange)", true]] : []),
  ]) {
    const item = el("span");
    const sw = el("span", `sw${dash ? " dash" : ""}`);
    sw.style.borderTopColor = color;
    item.append(sw, label);
    legend.append(item);
  }
  node.append(figs, sentence, canvas, legend);
  const css = getComputedStyle(document.documentElement);
  return {
    node,
    update(snap) {
      const s = supply.update(snap);
      const d = demand.update(snap);
      const x = exchange.update(snap);
      const ok = (v) => typeof v.value === "number" && (v.health === "live" || v.health === "stale");
      let text = "";
      if (ok(s) && ok(d)) {
        const diff = s.value - d.value;
        const unit = spec.unit || s.unit || "kW";
        if (Math.abs(diff) < 0.05) text = t("energy_balanced");
        else if (diff > 0) text = t("energy_surplus", { value: fmt(diff), unit });
        else text = t("energy_deficit", { value: fmt(-diff), unit });
      }
      setText(sentence, text);
      setText(exchange.note, ok(x) ? t("energy_shared_note") : "");
      drawChart(
        canvas,
        [
          { values: s.history, color: css.getPropertyValue("--supply").trim() },
          { values: d.history, color: css.getPropertyValue("--demand").trim(), dash: [8, 5] },
          ...(sig.exchange
            ? [{ values: x.history, color: css.getPropertyValue("--exchange").trim(), dash: [2, 4] }]
            : []),
        ],
        chartOpts(snap, { zero: true, unit: spec.unit || s.unit || "kW", range: spec.range, minSpan: spec.min_span }),
      );
    },
  };
}

function stovesPanel(spec) {
  const node = el("section", "panel stoves-panel");
  node.append(el("h2", null, spec.title || t("stoves_title")));
  const grid = el("div", "stoves");
  node.append(grid);
  const css = getComputedStyle(document.documentElement);
  const tiles = (spec.stoves || []).map((stove) => {
    const tile = el("div", "stove");
    tile.dataset.signal = stove.state || stove.temperature || "";
    const name = el("div", "name", stove.label || stove.state || "Stove");
    const badge = el("span", "health");
    name.append(badge);
    const stateNode = el("div", "state", "—");
    const temp = el("div", "temp", "—");
    const canvas = el("canvas", "chart");
    tile.append(name, stateNode, temp, canvas);
    grid.append(tile);
    return { stove, tile, badge, stateNode, temp, canvas, lastState: "" };
  });
  return {
    node,
    update(snap) {
      for (const t of tiles) {
        const st = signal(snap, t.stove.state);
        const tc = signal(snap, t.stove.temperature);
        const rank = { live: 0, stale: 1, lost: 2, missing: 3 };
        const worst = [st, tc]
          .filter((s, i) => (i === 0 ? t.stove.state : t.stove.temperature))
          .reduce((a, b) => ((rank[b.health] ?? 3) > (rank[a.health] ?? 3) ? b : a), { health: "live" });
        applyHealth(t.tile, t.badge, worst);
        const word = st.health === "lost" || st.value == null ? "—" : String(st.value);
        setText(t.stateNode, word);
        const cls = `state-${word.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
        if (cls !== t.lastState) {
          if (t.lastState) t.tile.classList.remove(t.lastState);
          t.tile.classList.add(cls);
          t.lastState = cls;
        }
        const unit = t.stove.unit || tc.unit || "°C";
        setText(t.temp, tc.health === "lost" || tc.value == null ? "—" : `${fmt(tc.value, 0)} ${unit}`);
        drawChart(
          t.canvas,
          [{ values: tc.history, color: css.getPropertyValue("--demand").trim(), width: 2 }],
          chartOpts(snap, { unit, range: spec.range, minSpan: spec.min_span, axes: tiles.length <= 4 }),
        );
      }
    },
  };
}

function signalPanel(spec) {
  const node = el("section", "panel big-signal");
  node.append(el("h2", null, spec.title || spec.label || spec.signal));
  const fig = figure("exchange", spec.label || spec.signal, spec.signal, spec.unit, spec.decimals ?? 1);
  const canvas = el("canvas", "chart");
  node.append(fig.node, canvas);
  const css = getComputedStyle(document.documentElement);
  return {
    node,
    update(snap) {
      const s = fig.update(snap);
      drawChart(
        canvas,
        [{ values: s.history, color: css.getPropertyValue("--exchange").trim() }],
        chartOpts(snap, { unit: spec.unit || s.unit, range: spec.range, minSpan: spec.min_span }),
      );
    },
  };
}

function messagesPanel(spec) {
  const node = el("section", "panel messages-panel");
  node.append(el("h2", null, spec.title || t("messages_title")));
  const list = el("ul", "messages");
  node.append(list);
  let key = null;
  return {
    node,
    update(snap) {
      const msgs = snap.messages || [];
      const k = JSON.stringify(msgs);
      if (k === key) return;
      key = k;
      list.replaceChildren();
      if (!msgs.length) list.append(el("li", "empty", t("messages_empty")));
      projector.refit();
      for (const m of msgs) list.append(el("li", `level-${m.level || "info"}`, m.text));
    },
  };
}

const BUILDERS = { balance: balancePanel, stoves: stovesPanel, signal: signalPanel, messages: messagesPanel };

function buildLayout(layout) {
  const root = $("panels");
  root.replaceChildren();
  state.panels = [];
  for (const spec of layout || []) {
    const build = BUILDERS[spec.kind];
    if (!build) continue;
    const panel = build(spec);
    panel.node.dataset.kind = spec.kind;
    root.append(panel.node);
    state.panels.push(panel);
  }
  projector.refit();
}

// ------------------------------------------------------------------ render

function renderAlerts(snap) {
  const box = $("alerts");
  const alerts = snap.alerts || [];
  const k = JSON.stringify(alerts);
  if (box.dataset.key === k) return;
  box.dataset.key = k;
  box.replaceChildren(...alerts.map((a) => el("div", `alert level-${a.level || "warning"}`, a.text)));
  projector.refit();
}

function hasData(snap) {
  if (!snap) return false;
  const values = Object.values(snap.signals || {});
  return values.some((s) => s && s.value !== null && s.value !== undefined) ||
    (snap.alerts || []).length > 0 || (snap.messages || []).length > 0;
}

/** Live means fresh readings: at least one signal on the page is live. */
function anyLive(snap) {
  return Object.values((snap && snap.signals) || {}).some((s) => s && s.health === "live");
}

function render() {
  state.frame = 0;
  const snap = state.snap;
  if (!snap) return;
  const textChanged = applyText(snap.text);
  const key = JSON.stringify(snap.layout || []);
  if (key !== state.layoutKey || textChanged) {
    state.layoutKey = key;
    buildLayout(snap.layout);
  }
  if (snap.title) {
    setText($("title"), snap.title);
    if (document.title !== snap.title) document.title = snap.title;
  }
  renderAlerts(snap);
  for (const p of state.panels) p.update(snap);
  setText($("updated"), t("updated", { time: new Date().toLocaleTimeString(TEXT.language) }));
  refreshStatus();
}

function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(render);
}

/** Connection pill, offline banner, waiting, delayed and no-signal states; runs every second too. */
function refreshStatus() {
  const body = document.body;
  body.dataset.conn = state.conn;
  const banner = $("offline");
  const since = performance.now() - state.receivedAt;
  let feed = hasData(state.snap) ? "ok" : "waiting";
  if (feed === "ok" && state.conn === "open" && since > DELAYED_AFTER_MS) feed = "delayed";
  else if (feed === "ok" && !anyLive(state.snap)) feed = "nosignal";
  const was = body.dataset.feed;
  body.dataset.feed = feed;
  if (state.conn === "lost") {
    const secs = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    banner.hidden = false;
    banner.className = "offline-banner";
    setText(banner, t("lost_banner", { s: secs }));
    setText($("conn"), t("offline"));
  } else if (feed === "delayed") {
    banner.hidden = false;
    banner.className = "offline-banner delayed";
    setText(banner, t("delayed_banner", { age: fmtAge(since / 1000) }));
    setText($("conn"), t("delayed"));
  } else if (feed === "nosignal") {
    banner.hidden = false;
    banner.className = "offline-banner delayed";
    setText(banner, t("nosignal_banner"));
    setText($("conn"), t("no_live_data"));
  } else {
    banner.hidden = true;
    setText($("conn"), state.conn === "open" && feed === "ok" ? t("live") : t("connecting"));
  }
  if (was !== feed) projector.refit();
}

/** Histories come once per history period; in between, the last one is kept. */
function keepHistories(msg) {
  for (const [name, s] of Object.entries(msg.signals || {})) {
    if (!s) continue;
    if (Array.isArray(s.history)) state.histories.set(name, s.history);
    else s.history = state.histories.get(name) || [];
  }
}

const projector = new Projector({ root: document.body, panels: () => $("panels"), toggle: $("kiosk"), pageText: (n, of) => t("page", { n, of }) });

const socket = new ReconnectingSocket("/ws", {
  onState(s, info) {
    state.conn = s === "open" ? "open" : s === "lost" ? "lost" : "connecting";
    if (s === "lost") {
      state.retryAt = Date.now() + (info.retryIn || 0);
      state.lostReason = info.reason ? ` (${info.reason})` : "";
    }
    refreshStatus();
  },
  onMessage(msg) {
    if (msg.type !== "snapshot") return;
    keepHistories(msg);
    state.snap = msg;
    state.receivedAt = performance.now();
    socket.healthy();
    schedule();
  },
});

socket.start();
setInterval(() => {
  refreshStatus();
  projector.check();
}, 1000);
window.addEventListener("resize", () => {
  projector.refit();
  schedule();
});
