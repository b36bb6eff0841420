/* glassnet lesson viewer: replays a playground run recorded in this file. No library, no network. */
"use strict";
(async function () {
  const $ = (id) => document.getElementById(id);
  const COLORS = ["#2f74c0", "#e07b39", "#3a9d5d", "#8e5cc2", "#d1495b", "#b8860b", "#1f9e9e", "#c2185b", "#6d6d6d", "#7f5539"];
  const POS = [47, 116, 192], NEG = [224, 123, 57], WHITE = [255, 255, 255];
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
  const fmt = (v, d) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toPrecision(d).replace(/\.?0+(e|$)/, "$1"));
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

  // the run: zlib-compressed JSON in base64, unpacked by the browser's own DecompressionStream
  let L;
  try {
    const packed = bytes($("lesson-data").textContent.trim());
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
    L = await new Response(stream).json();
  } catch (e) {
    $("note").textContent = `This browser cannot unpack the lesson (${e.message}); open it in a current Chrome, Edge, Firefox or Safari.`;
    return;
  }
  window.__lesson = L;
  $("made").textContent = `· ${L.created} · glassnet ${L.version}`;
  if (L.task === "regression") { // a value to predict: the map is the prediction, the score R²
    $("map-caption").textContent = "The predicted value (orange low, blue high) and the training points in their values' colours (rings: test points)";
    $("curves-caption").textContent = "Loss (train solid, test dashed) and R²; the line is the frame shown; dotted: a setting changed";
  }

  // settings and script
  const settings = $("settings");
  for (const [k, v] of Object.entries(L.config)) {
    const tr = el("tr");
    tr.append(el("td", k), el("td", k === "layers" ? v.map((s) => `${s.units} ${s.activation}${s.dropout ? ` (dropout ${s.dropout})` : ""}`).join(", ") : String(v)));
    settings.appendChild(tr);
  }
  $("python").textContent = L.python;

  // drawing one frame
  const shades = COLORS.map(hex).map((col) => { const t = []; for (let v = 0; v < 256; v++) t.push(mix(WHITE, col, 0.12 + 0.5 * v / 255)); return t; });
  const diverging = (v) => { const t = (v - 128) / 127.5; return t >= 0 ? mix(WHITE, POS, Math.min(1, t)) : mix(WHITE, NEG, Math.min(1, -t)); };
  function image(n, colour) {
    const c = document.createElement("canvas"); c.width = c.height = n;
    const ctx = c.getContext("2d"), img = ctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) { const col = colour(i); img.data.set([col[0], col[1], col[2], 255], 4 * i); }
    ctx.putImageData(img, 0, 0);
    return c;
  }
  function drawMap(f) {
    const c = $("map"), ctx = c.getContext("2d"), W = c.width, d = L.domain;
    ctx.imageSmoothingEnabled = true;
    if (f.grid.value) { // a regression: the predicted value, orange (low) to blue (high)
      const value = bytes(f.grid.value);
      ctx.drawImage(image(f.grid.n, (i) => diverging(value[i])), 0, 0, W, W);
    } else {
      const cls = bytes(f.grid.cls), conf = bytes(f.grid.conf);
      ctx.drawImage(image(f.grid.n, (i) => shades[cls[i] % shades.length][conf[i]]), 0, 0, W, W);
    }
    const px = (x) => ((x + d) / (2 * d)) * W, py = (y) => ((d - y) / (2 * d)) * W;
    const [low, high] = L.value_range || [0, 1];
    const colour = (y) => (L.task === "regression" ? `rgb(${diverging(Math.round(255 * (y - low) / ((high - low) || 1))).join(",")})`
      : COLORS[y % COLORS.length]);
    for (const [set, ring] of [[L.train, false], [L.test, true]]) {
      set.x.forEach(([x, y], i) => {
        const col = colour(set.y[i]);
        ctx.beginPath(); ctx.arc(px(x), py(y), 4, 0, 2 * Math.PI);
        ctx.fillStyle = ring ? "#fff" : col; ctx.fill();
        ctx.lineWidth = ring ? 2 : 1; ctx.strokeStyle = ring ? col : "#fff"; ctx.stroke();
      });
    }
  }
  const FEATURE_OF = { "x₁": (a) => a, "x₂": (a, b) => b, "x₁²": (a) => a * a, "x₂²": (a, b) => b * b,
    "x₁x₂": (a, b) => a * b, "sin x₁": (a) => Math.sin(a), "sin x₂": (a, b) => Math.sin(b) };
  function inputTile(name) { // an input's value over the plane, scaled to its largest
    const f = FEATURE_OF[name] || FEATURE_OF["x₁"], d = L.domain, values = [];
    for (let i = 0; i < 400; i++) values.push(f(d * (((i % 20) + 0.5) / 10 - 1), d * (1 - (Math.floor(i / 20) + 0.5) / 10)));
    const max = Math.max(1e-9, ...values.map(Math.abs));
    return image(20, (i) => diverging(Math.round(128 + 127 * values[i] / max)));
  }
  function drawNet(f) {
    const c = $("net"), ctx = c.getContext("2d"), W = c.width, H = c.height;
    ctx.clearRect(0, 0, W, H);
    const widths = L.layout.map((l) => l.units), cols = widths.length, size = Math.min(34, (H - 20) / Math.max(...widths) - 4);
    const pos = widths.map((n, l) => Array.from({ length: n }, (_, j) => [20 + (l * (W - 40 - size)) / Math.max(cols - 1, 1), H / 2 + (j - (n - 1) / 2) * (size + 4)]));
    if (f.weights) {
      let max = 1e-9;
      f.weights.forEach((Wl) => Wl.forEach((row) => row.forEach((w) => { max = Math.max(max, Math.abs(w)); })));
      f.weights.forEach((Wl, l) => Wl.forEach((row, i) => row.forEach((w, j) => {
        const a = pos[l][j], b = pos[l + 1] && pos[l + 1][i];
        if (!a || !b) return;
        ctx.strokeStyle = `rgba(${(w >= 0 ? POS : NEG).join(",")},${0.2 + 0.6 * Math.abs(w) / max})`;
        ctx.lineWidth = 0.5 + 3 * Math.abs(w) / max;
        ctx.beginPath(); ctx.moveTo(a[0] + size, a[1] + size / 2); ctx.lineTo(b[0], b[1] + size / 2); ctx.stroke();
      })));
    }
    pos.forEach((column, l) => column.forEach(([x, y], j) => {
      let tile = null;
      if (l === 0) tile = inputTile((L.layout[0].names || ["x₁", "x₂"])[j]);
      else if (l < cols - 1 && f.neurons) tile = image(f.neurons.n, ((m) => (i) => diverging(m[i]))(bytes(f.neurons.maps[l - 1][j])));
      if (tile) ctx.drawImage(tile, x, y, size, size);
      else { ctx.fillStyle = `rgb(${mix(WHITE, hex(COLORS[j % COLORS.length]), 0.55).join(",")})`; ctx.fillRect(x, y, size, size); }
      ctx.strokeStyle = "#9aa5b1"; ctx.lineWidth = 1; ctx.strokeRect(x, y, size, size);
    }));
  }
  function drawCurves(f) {
    const c = $("curves"), ctx = c.getContext("2d"), W = c.width, H = c.height, k = L.curves;
    ctx.clearRect(0, 0, W, H);
    const xmax = Math.max(1e-9, k.epoch.length ? k.epoch[k.epoch.length - 1] : 1), half = H / 2;
    const X = (e) => 40 + (e / xmax) * (W - 50);
    const plot = (values, top, max, dashed, colour) => {
      ctx.setLineDash(dashed ? [6, 4] : []); ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath();
      let on = false;
      values.forEach((v, i) => { if (v === null) return; const y = top + (1 - Math.max(0, Math.min(v, max)) / max) * (half - 24); if (on) ctx.lineTo(X(k.epoch[i]), y); else { ctx.moveTo(X(k.epoch[i]), y); on = true; } });
      ctx.stroke(); ctx.setLineDash([]);
    };
    const lossMax = Math.max(1e-9, ...k.train_loss.filter((v) => v !== null), ...k.test_loss.filter((v) => v !== null));
    plot(k.train_loss, 8, lossMax, false, "#1f2933"); plot(k.test_loss, 8, lossMax, true, "#2f74c0");
    plot(k.train_acc, half + 8, 1, false, "#1f2933"); plot(k.test_acc, half + 8, 1, true, "#2f74c0");
    ctx.fillStyle = "#6b7785"; ctx.font = "13px system-ui, sans-serif";
    ctx.fillText("loss", 4, 18); ctx.fillText(L.task === "regression" ? "R²" : "accuracy", 4, half + 18); ctx.fillText(`epoch ${fmt(xmax, 4)}`, W - 90, H - 4);
    ctx.strokeStyle = "#d9822b"; ctx.setLineDash([3, 3]);
    for (const m of L.marks) { ctx.beginPath(); ctx.moveTo(X(m.epoch), 0); ctx.lineTo(X(m.epoch), H); ctx.stroke(); }
    ctx.setLineDash([]); ctx.strokeStyle = "#d1495b"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(X(f.epoch), 0); ctx.lineTo(X(f.epoch), H); ctx.stroke();
  }
  function show(index) {
    const f = L.frames[index];
    if (!f) return;
    $("scrub").value = String(index);
    $("where").textContent = `frame ${index + 1} of ${L.frames.length}`;
    const stats = $("stats");
    stats.textContent = "";
    for (const [k, v, d] of [["step", f.step, 6], ["epoch", f.epoch, 4], ["learning rate", f.lr, 3], ["train loss", f.train_loss, 3],
      ["test loss", f.test_loss, 3], [L.task === "regression" ? "train R²" : "train acc.", f.train_acc, 3],
      [L.task === "regression" ? "test R²" : "test acc.", f.test_acc, 3]]) {
      const d0 = el("div"); d0.append(el("span", k), el("strong", fmt(v, d))); stats.appendChild(d0);
    }
    drawMap(f); drawNet(f); drawCurves(f);
    window.__lesson.shown = index;
  }

  // the timeline: play and scrub
  let timer = 0;
  $("scrub").max = String(Math.max(0, L.frames.length - 1));
  $("scrub").oninput = () => { stop(); show(Number($("scrub").value)); };
  function stop() { clearInterval(timer); timer = 0; $("play").textContent = "▶"; }
  $("play").onclick = () => {
    if (timer) return stop();
    let i = Number($("scrub").value);
    if (i >= L.frames.length - 1) i = 0;
    $("play").textContent = "❚❚";
    timer = setInterval(() => { show(i); i += 1; if (i >= L.frames.length) stop(); }, 120);
  };
  show(L.frames.length ? L.frames.length - 1 : 0);

  // the traced steps: the batch, its labels and probabilities, dL/dz = (p - y)/N, each layer's gradients
  if (L.traces.length) $("traces").textContent = "";
  for (const t of L.traces) {
    const box = el("div", undefined, "trace");
    box.appendChild(el("h3", `Step ${t.step}: a batch of ${t.batch_size}, learning rate ${fmt(t.lr, 3)}, loss ${fmt(t.loss, 5)}`));
    if (t.loss_formula_html) { const p = el("div"); p.innerHTML = t.loss_formula_html; box.appendChild(p); }
    if (t.proba && t.labels) {
      const wrap = el("div", undefined, "scroll"), table = el("table"), head = el("tr");
      ["row", "label y", ...L.class_names.map((n) => `p(${n})`), ...L.class_names.map((n) => `∂L/∂z(${n}) = (p − y)/N`)].forEach((h) => head.appendChild(el("th", h)));
      table.appendChild(head);
      t.labels.forEach((y, i) => {
        const tr = el("tr");
        tr.append(el("td", String(t.rows[i])), el("td", L.class_names[y]));
        t.proba.values[i].forEach((p) => tr.appendChild(el("td", fmt(p, 3))));
        t.grad_logits.values[i].forEach((g) => tr.appendChild(el("td", fmt(g, 4))));
        table.appendChild(tr);
      });
      wrap.appendChild(table); box.appendChild(wrap);
    }
    for (const layer of t.layers) {
      const grads = Object.entries(layer.grads || {});
      if (!grads.length) continue;
      const p = el("p");
      p.innerHTML = `<strong>${layer.name} · ${layer.kind}</strong> `;
      const s = el("span"); s.innerHTML = layer.summary_html || ""; p.appendChild(s);
      box.appendChild(p);
      for (const [k, g] of grads) {
        const wrap = el("div", undefined, "scroll"), table = el("table");
        table.appendChild(el("caption", `∂L/∂${k} (${g.shape.join("×")})`));
        const rows = g.shape.length === 1 ? [g.values] : g.values;
        rows.slice(0, 12).forEach((r) => { const tr = el("tr"); r.slice(0, 12).forEach((v) => tr.appendChild(el("td", fmt(v, 3)))); table.appendChild(tr); });
        wrap.appendChild(table); box.appendChild(wrap);
      }
    }
    $("traces").appendChild(box);
  }
  window.__lesson.ready = true;
})();
