// Projector mode for the public dashboard: the whole page fits the window without
// scrolling, as large as it can be. Every size on the page is in rem, so one root
// font size scales it all; the fit tries each column count and keeps the one with
// the largest type. When even the smallest readable type does not fit, the panels
// are split into pages shown in turn. Phones (narrow portrait windows) keep the
// ordinary scrolling page.
//
// On with /?projector (or /?kiosk), or the page's projector button; the button
// also asks for full screen, and the choice is remembered on this screen.

const KEY = "stovelight.projector";
const PAGE_SECONDS = 12;

export class Projector {
  constructor({ root, panels, toggle, pageText }) {
    this.root = root;
    this.panels = panels;
    this.pageText = pageText || ((n, of) => `${n} / ${of}`);
    this.timer = 0;
    this.pageTimer = 0;
    this.pages = [];
    this.page = 0;
    const params = new URLSearchParams(location.search);
    this.on = params.has("projector") || params.has("kiosk") || localStorage.getItem(KEY) === "1";
    if (params.get("projector") === "0") this.on = false;
    if (toggle) {
      toggle.addEventListener("click", () => this.toggle());
    }
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "p" || ev.key === "P") this.toggle();
    });
    this.apply();
  }

  toggle() {
    this.on = !this.on;
    localStorage.setItem(KEY, this.on ? "1" : "0");
    if (this.on && document.documentElement.requestFullscreen && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (!this.on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
    this.apply();
  }

  /** Whether this window gets the fitted layout (phones keep scrolling). */
  fits() {
    return this.on && !(innerWidth < 700 && innerHeight > innerWidth);
  }

  apply() {
    this.root.dataset.projector = this.on ? (this.fits() ? "fit" : "scroll") : "off";
    if (!this.fits()) {
      document.documentElement.style.fontSize = "";
      this.showPages(null);
    }
    this.refit();
  }

  /** Fit again soon (after a layout, an alert, a message, a resize). */
  refit() {
    if (!this.fits()) {
      if (this.root.dataset.projector === "fit") this.apply();
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fit(), 30);
  }

  /** Called every second: refit when something grew past the window. */
  check() {
    if (this.fits() && this.overflows()) this.refit();
  }

  overflows() {
    const s = document.scrollingElement;
    return s.scrollHeight > innerHeight || s.scrollWidth > innerWidth;
  }

  fit() {
    const box = this.panels();
    if (!box) return;
    this.root.dataset.projector = "fit";
    const count = box.children.length || 1;
    const minFont = Math.max(11, innerHeight / 80);
    const maxFont = Math.max(minFont, Math.min(innerHeight / 16, innerWidth / 28));
    this.showPages(null);
    let best = this.bestFit(box, count, minFont, maxFont);
    if (!best) {
      // Not even the smallest readable type fits: pages of fewer panels, shown in turn.
      // The fewest pages whose every page fits at the smallest type (a few layouts per
      // page), then the largest type all those pages allow.
      let last = 0;
      for (let n = 2; n <= count && !best; n++) {
        const per = Math.ceil(count / n);
        if (per === last) continue;
        last = per;
        const pages = [];
        for (let i = 0; i < count; i += per) pages.push([...Array(Math.min(per, count - i)).keys()].map((k) => i + k));
        if (!this.pagesFitAt(box, pages, minFont)) continue;
        best = this.bestFitPaged(box, pages, minFont, maxFont);
        if (best) best.pages = pages;
      }
    }
    if (!best) best = { cols: 1, font: minFont, pages: null };
    box.style.setProperty("--cols", String(best.cols));
    document.documentElement.style.fontSize = `${best.font}px`;
    this.showPages(best.pages || null, best.pageCols || []);
  }

  bestFit(box, count, minFont, maxFont) {
    let best = null;
    for (let cols = 1; cols <= Math.min(count, 4); cols++) {
      box.style.setProperty("--cols", String(cols));
      const font = this.largestFont(minFont, maxFont);
      if (font !== null && (!best || font > best.font)) best = { cols, font };
    }
    return best;
  }

  pagesFitAt(box, pages, font) {
    document.documentElement.style.fontSize = `${font}px`;
    const ok = pages.every((page) => {
      this.showOnly(box, page);
      for (let cols = Math.min(page.length, 4); cols >= 1; cols--) {
        box.style.setProperty("--cols", String(cols));
        if (!this.overflows()) return true;
      }
      return false;
    });
    this.showOnly(box, null);
    return ok;
  }

  /** The largest type every page fits in, with each page's own column count. */
  bestFitPaged(box, pages, minFont, maxFont) {
    const cols = [];
    let font = Infinity;
    for (const page of pages) {
      this.showOnly(box, page);
      const fit = this.bestFit(box, page.length, minFont, maxFont);
      if (!fit) return null;
      cols.push(fit.cols);
      font = Math.min(font, fit.font);
    }
    this.showOnly(box, null);
    return { font, cols: cols[0], pageCols: cols };
  }

  largestFont(lo, hi) {
    const html = document.documentElement;
    html.style.fontSize = `${lo}px`;
    if (this.overflows()) return null;
    for (let i = 0; i < 9 && hi - lo > 0.5; i++) {
      const mid = (lo + hi) / 2;
      html.style.fontSize = `${mid}px`;
      if (this.overflows()) hi = mid;
      else lo = mid;
    }
    return Math.floor(lo * 2) / 2;
  }

  showOnly(box, indexes) {
    [...box.children].forEach((node, i) => {
      node.hidden = indexes !== null && !indexes.includes(i);
    });
  }

  showPages(pages, pageCols = []) {
    clearInterval(this.pageTimer);
    this.pages = pages || [];
    const box = this.panels();
    const label = document.getElementById("page");
    if (!box) return;
    if (!this.pages.length) {
      this.showOnly(box, null);
      if (label) label.textContent = "";
      return;
    }
    this.page = 0;
    const show = () => {
      if (pageCols[this.page]) box.style.setProperty("--cols", String(pageCols[this.page]));
      this.showOnly(box, this.pages[this.page]);
      if (label) label.textContent = this.pageText(this.page + 1, this.pages.length);
    };
    show();
    this.pageTimer = setInterval(() => {
      this.page = (this.page + 1) % this.pages.length;
      show();
    }, PAGE_SECONDS * 1000);
  }
}
