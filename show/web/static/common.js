// Shared helpers for the Stovelight dashboard and console: a websocket that
// reconnects by itself with jittered backoff, number formatting, and a small
// canvas line chart. Written for Stovelight; no third-party code.

/** Build the websocket URL for a path on the page's own host. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/**
 * A websocket that reconnects with exponential backoff and jitter (so hundreds
 * of phones do not all come back in the same millisecond after a restart).
 *
 * handlers: onOpen(ws), onMessage(obj), onState(state, info) where state is
 * "connecting" | "open" | "lost"; info = {code, reason, retryIn}.
 * shouldRetry(code, reason) may return false to stop (e.g. wrong token).
 */
export class ReconnectingSocket {
  constructor(path, handlers) {
    this.path = path;
    this.h = handlers;
    this.ws = null;
    this.delay = 500;
    this.maxDelay = 15000;
    this.timer = null;
    this.stopped = false;
    this.retryAt = 0;
  }

  start() {
    this.stopped = false;
    this._open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "closed by page");
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /** Reset the backoff once the server has proven it works (first message). */
  healthy() {
    this.delay = 500;
  }

  _open() {
    this.h.onState?.("connecting", {});
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.path));
    } catch (err) {
      this._schedule(0, String(err));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.h.onState?.("open", {});
      this.h.onOpen?.(ws);
    };
    ws.onmessage = (ev) => {
      let obj;
      try {
        obj = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.h.onMessage?.(obj);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (this.h.shouldRetry && !this.h.shouldRetry(ev.code, ev.reason)) {
        this.h.onState?.("stopped", { code: ev.code, reason: ev.reason });
        return;
      }
      this._schedule(ev.code, ev.reason);
    };
  }

  _schedule(code, reason) {
    const wait = Math.round(this.delay * (0.5 + Math.random()));
    this.delay = Math.min(this.maxDelay, this.delay * 2);
    this.retryAt = Date.now() + wait;
    this.h.onState?.("lost", { code, reason, retryIn: wait });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._open(), wait);
  }
}

let locale = "en-GB";

/** Set the language numbers are formatted in (a BCP 47 tag such as "de"). */
export function setLocale(tag) {
  try {
    new Intl.NumberFormat(tag);
    locale = tag;
  } catch {
    locale = "en-GB";
  }
}

/** Format a number for display: fixed decimals, thin-space thousands, "—" when missing. */
export function fmt(value, decimals = 1) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString(locale, {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** Human age such as "3 s", "2 min". */
export function fmtAge(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** Create an element with a class and optional text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Set text only when it changed (keeps the DOM quiet at 10 Hz). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** The smallest axis span worth showing for a unit, so sensor noise stays flat. */
const MIN_SPAN = { "°C": 10, "°F": 20, K: 10, kW: 1, W: 100, MW: 0.5, Hz: 0.5, "%": 10, V: 10, A: 1 };

/** The y range to draw: a declared range wins; otherwise the data, widened to at
 * least ``minSpan`` (or the unit's default) around its middle, and 0 when ``zero``. */
export function axisRange(values, opts = {}) {
  if (opts.range && opts.range.length === 2) return [opts.range[0], opts.range[1]];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v === "number" && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo === Infinity) return null;
  const span = opts.minSpan || MIN_SPAN[opts.unit] || 1e-9;
  if (hi - lo < span) {
    const mid = (hi + lo) / 2;
    lo = mid - span / 2;
    hi = mid + span / 2;
  }
  if (opts.zero) {
    if (lo < 0 && lo + span / 2 >= 0 && Math.min(...values.filter(Number.isFinite)) >= 0) {
      hi -= lo; // a positive quantity widened below zero: start the axis at zero instead
      lo = 0;
    }
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  const step = niceStep((hi - lo) / 5);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

function niceStep(raw) {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * Draw line series on a canvas, sized to its CSS box and the device pixel ratio.
 * series: [{values: number[]|null[], color, dash?: number[], width?}]
 * opts: {zero, range: [lo, hi], minSpan, unit, axes (default true): y labels with the
 * unit and an x axis from ``ago`` ("60 s ago") to ``now``}
 */
export function drawChart(canvas, series, opts = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  let n = 0;
  const all = [];
  for (const s of series) {
    n = Math.max(n, (s.values || []).length);
    all.push(...(s.values || []));
  }
  const range = axisRange(all, opts);
  if (n < 2 || !range) return;
  let [lo, hi] = range;
  if (hi - lo < 1e-9) {
    hi += 1;
    lo -= 1;
  }
  const axes = opts.axes !== false;
  const font = axes ? parseFloat(getComputedStyle(canvas).fontSize) * 0.8 * dpr : 0;
  ctx.font = `${Math.round(font)}px system-ui, sans-serif`;
  const labels = axes ? [hi, (hi + lo) / 2, lo].map((v) => `${fmt(v, niceDecimals((hi - lo) / 2))}${opts.unit ? " " + opts.unit : ""}`) : [];
  const labelW = axes ? Math.max(...labels.map((t) => ctx.measureText(t).width)) + 6 * dpr : 0;
  const left = axes ? labelW : 2 * dpr;
  const right = w - 4 * dpr;
  const top = axes ? font * 0.7 : 3 * dpr;
  const bottom = axes ? h - font * 1.4 : h - 3 * dpr;
  const x = (i) => left + ((right - left) * i) / (n - 1);
  const y = (v) => bottom - ((bottom - top) * (Math.min(hi, Math.max(lo, v)) - lo)) / (hi - lo);

  if (axes) {
    ctx.fillStyle = "rgba(230,235,240,0.75)";
    ctx.strokeStyle = "rgba(255,255,255,0.14)";
    ctx.lineWidth = 1 * dpr;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    [hi, (hi + lo) / 2, lo].forEach((v, i) => {
      ctx.fillText(labels[i], left - 4 * dpr, y(v));
      ctx.beginPath();
      ctx.moveTo(left, y(v));
      ctx.lineTo(right, y(v));
      ctx.stroke();
    });
    ctx.textBaseline = "bottom";
    ctx.textAlign = "left";
    ctx.fillText(opts.ago || "", left, h);
    ctx.textAlign = "right";
    ctx.fillText(opts.now || "", right, h);
  }
  if (opts.zero && lo < 0 && hi > 0) {
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.lineWidth = 1 * dpr;
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.beginPath();
    ctx.moveTo(left, y(0));
    ctx.lineTo(right, y(0));
    ctx.stroke();
  }
  for (const s of series) {
    const vals = s.values || [];
    const offset = n - vals.length;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = (s.width || 3) * dpr;
    ctx.lineJoin = "round";
    ctx.setLineDash((s.dash || []).map((d) => d * dpr));
    ctx.beginPath();
    let pen = false;
    vals.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      const px = x(i + offset);
      const py = y(v);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
  canvas.dataset.range = `${lo},${hi}`;
}

function niceDecimals(span) {
  if (span >= 10) return 0;
  if (span >= 1) return 1;
  return 2;
}
