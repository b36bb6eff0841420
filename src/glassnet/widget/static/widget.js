// glassnet's notebook widget (glassnet.widget.LiveFit): draws the traits of FitWidget (view.py).
// Plain ES module for anywidget: no build step, no CDN, nothing fetched.

// the playground's class colours (playground/static/app.js); class k is COLORS[k % 10]
const COLORS = ["#2f74c0", "#e07b39", "#3a9d5d", "#8e5cc2", "#d1495b", "#b8860b", "#1f9e9e", "#c2185b", "#6d6d6d", "#7f5539"];
const CHART_W = 250, CHART_H = 130, MAP_SIDE = 232, TILE = 52;
const TRAITS = ["title", "status", "epoch", "curves", "map_title", "map_rgb", "map_size", "map_extent",
  "map_points", "weights", "weights_shape", "note", "updates"];

function bytesOf(value) {
  // binary traits arrive as a DataView (ipywidgets), an ArrayBuffer or a typed array
  if (!value) return new Uint8Array(0);
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(0);
}

function hex(c) { return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)); }

function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(4);
}

// a canvas of css size (w, h) drawn at the screen's pixel density
function canvas(parent, w, h, cls) {
  const c = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
  c.style.width = `${w}px`; c.style.height = `${h}px`;
  if (cls) c.className = cls;
  c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
  parent.appendChild(c);
  return c;
}

function panel(parent, caption, cls) {
  const fig = document.createElement("figure");
  fig.className = `gn-panel ${cls}`;
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.appendChild(cap);
  parent.appendChild(fig);
  return fig;
}

// line chart of several named curves {name: {x: [...], y: [...]}} on one axis; with `logScale`, a positive
// range wider than 20x is drawn on a log axis (a loss falling over decades stays readable); returns whether it was
function drawChart(c, curves, names, ink, logScale) {
  const ctx = c.getContext("2d");
  const w = CHART_W, h = CHART_H, left = 46, right = 8, top = 8, bottom = 22;
  ctx.clearRect(0, 0, w, h);
  let xmax = 1, ymin = Infinity, ymax = -Infinity, drawn = 0;
  for (const n of names) {
    for (const v of curves[n].y) if (v !== null) { ymin = Math.min(ymin, v); ymax = Math.max(ymax, v); }
    xmax = Math.max(xmax, curves[n].x[curves[n].x.length - 1] || 1);
  }
  ctx.strokeStyle = ink; ctx.globalAlpha = 0.35; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, h - bottom); ctx.lineTo(w - right, h - bottom); ctx.stroke();
  ctx.globalAlpha = 1;
  if (!Number.isFinite(ymin)) { c.dataset.points = "0"; return false; }
  const log = logScale && ymin > 0 && ymax / ymin > 20;
  const f = log ? Math.log10 : (v) => v;
  const lo = ymin, hi = ymax;
  if (log) { ymin = f(ymin); ymax = f(ymax); }
  if (ymax - ymin < 1e-12) { ymax += 0.5 * (Math.abs(ymax) || 1e-3); ymin -= 0.5 * (Math.abs(ymin) || 1e-3); }
  const X = (x) => left + ((x - 1) / Math.max(xmax - 1, 1)) * (w - left - right);
  const Y = (y) => top + (1 - (f(y) - ymin) / (ymax - ymin)) * (h - top - bottom);
  ctx.fillStyle = ink; ctx.font = "10px sans-serif"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  ctx.fillText(fmt(hi), left - 4, top + 4); ctx.fillText(fmt(lo), left - 4, h - bottom - 4);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.fillText("1", left, h - bottom + 4); ctx.fillText(`${xmax} epochs`, w - right - 30, h - bottom + 4);
  names.forEach((n, i) => {
    const { x, y } = curves[n];
    ctx.strokeStyle = COLORS[i % COLORS.length]; ctx.lineWidth = 1.8; ctx.beginPath();
    let pen = false;
    for (let k = 0; k < x.length; k++) {
      if (y[k] === null) { pen = false; continue; }
      if (pen) ctx.lineTo(X(x[k]), Y(y[k])); else ctx.moveTo(X(x[k]), Y(y[k]));
      pen = true; drawn++;
    }
    if (x.length === 1 && y[0] !== null) { ctx.fillStyle = COLORS[i % COLORS.length]; ctx.fillRect(X(x[0]) - 2, Y(y[0]) - 2, 4, 4); }
    ctx.stroke();
  });
  c.dataset.points = String(drawn);
  return log;
}

function legend(box, names) {
  box.replaceChildren(...names.map((n, i) => {
    const s = document.createElement("span");
    s.className = "gn-key"; s.style.setProperty("--gn-key", COLORS[i % COLORS.length]); s.textContent = n;
    return s;
  }));
}

function drawMap(c, model) {
  const r = model.get("map_size"), rgb = bytesOf(model.get("map_rgb"));
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, MAP_SIDE, MAP_SIDE);
  if (!r || rgb.length !== r * r * 3) { c.dataset.drawn = "0"; return; }
  const cells = new ImageData(r, r);
  for (let i = 0; i < r * r; i++) {
    cells.data[4 * i] = rgb[3 * i]; cells.data[4 * i + 1] = rgb[3 * i + 1]; cells.data[4 * i + 2] = rgb[3 * i + 2];
    cells.data[4 * i + 3] = 255;
  }
  const small = document.createElement("canvas");
  small.width = r; small.height = r;
  small.getContext("2d").putImageData(cells, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, MAP_SIDE, MAP_SIDE);
  // points in their class colour, outlined in dark grey, on the paler map
  ctx.lineWidth = 1; ctx.strokeStyle = "rgba(30, 36, 44, 0.75)";
  for (const [u, v, colour] of model.get("map_points")) {
    ctx.beginPath(); ctx.arc(u * MAP_SIDE, v * MAP_SIDE, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = colour; ctx.fill(); ctx.stroke();
  }
  c.dataset.drawn = String(model.get("updates"));
}

// weights as pictures: byte 0 blue (negative), 128 white (zero), 255 orange (positive)
function drawTiles(box, model) {
  const [units, h, w] = model.get("weights_shape"), bytes = bytesOf(model.get("weights"));
  if (!units || bytes.length !== units * h * w) { box.replaceChildren(); box.dataset.tiles = "0"; return; }
  if (box.children.length !== units) {
    box.replaceChildren();
    for (let u = 0; u < units; u++) {
      const t = document.createElement("canvas");
      t.width = w; t.height = h; t.className = "gn-tile"; t.title = `unit ${u}`;
      t.style.width = `${TILE}px`; t.style.height = `${Math.round((TILE * h) / w)}px`;
      box.appendChild(t);
    }
  }
  const neg = hex(COLORS[0]), pos = hex(COLORS[1]);
  for (let u = 0; u < units; u++) {
    const img = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const t = (bytes[u * h * w + i] - 127.5) / 127.5, end = t < 0 ? neg : pos, a = Math.abs(t);
      for (let k = 0; k < 3; k++) img.data[4 * i + k] = Math.round(255 + (end[k] - 255) * a);
      img.data[4 * i + 3] = 255;
    }
    box.children[u].getContext("2d").putImageData(img, 0, 0);
  }
  box.dataset.tiles = String(units);
}

function render({ model, el }) {
  el.classList.add("glassnet-live");
  const head = document.createElement("div");
  head.className = "gn-head";
  const title = document.createElement("span"), status = document.createElement("span");
  title.className = "gn-title"; status.className = "gn-status";
  head.append(title, status);
  const stats = document.createElement("div");
  stats.className = "gn-stats";
  // two columns: the curves stacked on the left, the map or the weights on the right
  const panels = document.createElement("div"), curvesCol = document.createElement("div"), pictureCol = document.createElement("div");
  panels.className = "gn-panels"; curvesCol.className = pictureCol.className = "gn-column";
  panels.append(curvesCol, pictureCol);
  const lossFig = panel(curvesCol, "loss", "gn-loss"), scoreFig = panel(curvesCol, "score", "gn-score");
  const lossChart = canvas(lossFig, CHART_W, CHART_H, "gn-chart"), scoreChart = canvas(scoreFig, CHART_W, CHART_H, "gn-chart");
  const lossKeys = document.createElement("div"), scoreKeys = document.createElement("div");
  lossKeys.className = scoreKeys.className = "gn-keys";
  lossFig.appendChild(lossKeys); scoreFig.appendChild(scoreKeys);
  const mapFig = panel(pictureCol, "decision map", "gn-map"), map = canvas(mapFig, MAP_SIDE, MAP_SIDE, "gn-mapcanvas");
  const axes = document.createElement("div");
  axes.className = "gn-axes"; mapFig.appendChild(axes);
  const weightFig = panel(pictureCol, "first layer's weights", "gn-weights");
  const tiles = document.createElement("div");
  tiles.className = "gn-tiles"; weightFig.appendChild(tiles);
  const tileKey = document.createElement("div");
  tileKey.className = "gn-axes"; tileKey.textContent = "one picture a unit: blue < 0 < orange";
  weightFig.appendChild(tileKey);
  const note = document.createElement("div");
  note.className = "gn-note";
  el.append(head, stats, panels, note);

  let pending = false;
  const draw = () => {
    pending = false;
    const ink = getComputedStyle(el).color || "#333";
    title.textContent = model.get("title");
    status.textContent = model.get("status");
    status.dataset.status = model.get("status");
    const epoch = model.get("epoch"), curves = model.get("curves") || {};
    const last = (name) => (curves[name] ? curves[name].y[curves[name].y.length - 1] : null);
    stats.textContent = [`${epoch} epoch${epoch === 1 ? "" : "s"}`,
      ...["loss", "val_loss", "val_score"].filter((n) => last(n) !== null && last(n) !== undefined)
        .map((n) => `${n} ${fmt(last(n))}`)].join(" · ");
    el.dataset.epoch = String(epoch);
    el.dataset.updates = String(model.get("updates"));
    const names = Object.keys(curves);
    const losses = names.filter((n) => n.includes("loss")), scores = names.filter((n) => !n.includes("loss"));
    const logLoss = drawChart(lossChart, curves, losses, ink, true);
    legend(lossKeys, losses);
    lossFig.firstChild.textContent = logLoss ? "loss (log scale)" : "loss";
    drawChart(scoreChart, curves, scores, ink, false);
    legend(scoreKeys, scores);
    scoreFig.hidden = scores.length === 0;
    mapFig.hidden = !model.get("map_size");
    if (!mapFig.hidden) {
      mapFig.firstChild.textContent = model.get("map_title");
      drawMap(map, model);
      const [x0, x1, y0, y1] = model.get("map_extent");
      axes.textContent = `x₀ ${fmt(x0)} … ${fmt(x1)}   x₁ ${fmt(y0)} … ${fmt(y1)}`;
    }
    weightFig.hidden = !model.get("weights_shape")[0];
    if (!weightFig.hidden) drawTiles(tiles, model);
    note.textContent = model.get("note");
    note.hidden = !model.get("note");
  };
  // every update changes `updates` last, in one message: redraw once per animation frame at most
  const schedule = () => { if (!pending) { pending = true; requestAnimationFrame(draw); } };
  for (const t of TRAITS) model.on(`change:${t}`, schedule);
  draw();
  return () => { for (const t of TRAITS) model.off(`change:${t}`, schedule); };
}

export default { render };
