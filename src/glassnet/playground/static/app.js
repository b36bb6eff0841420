/* glassnet playground front end: plain JavaScript, no library, no network access beyond this server. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const COLORS = ["#2f74c0", "#e07b39", "#3a9d5d", "#8e5cc2", "#d1495b", "#b8860b", "#1f9e9e", "#c2185b", "#6d6d6d", "#7f5539"];
  const POS = [47, 116, 192], NEG = [224, 123, 57], WHITE = [255, 255, 255];
  const NUMERIC = ["n_samples", "noise", "train_fraction", "classes", "data_seed", "lr", "momentum", "weight_decay",
    "step_size", "gamma", "total_epochs", "batch_size", "alpha", "seed"];
  // the controls a link may hide (name_hide=true): one list, in the page, which the teacher's page reads too
  const HIDEABLE = document.querySelector('meta[name="glassnet-hideable"]').content.split(" ");
  const S = { id: null, info: null, config: null, hide: {}, csv: null, es: null, pending: null, raf: 0, frame: null,
    playing: false, view: "train", positions: null, frames: 0 };
  window.__playground = S; // for the tests and the curious

  // ---------------------------------------------------------------- helpers
  function mix(a, b, t) { return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)); }
  function hex(c) { return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)); }
  function rgb(c, alpha) { return alpha === undefined ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${alpha})`; }
  function diverging(t) { return t >= 0 ? mix(WHITE, POS, Math.min(1, t)) : mix(WHITE, NEG, Math.min(1, -t)); }
  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
    return Number(v.toPrecision(digits || 4)).toString();
  }
  function b64bytes(text) {
    const bin = atob(text), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  async function api(method, path, body, raw) {
    // commands are JSON (a file upload: raw bytes); the server refuses other types, which pages of other
    // sites could send without the browser asking the server first
    const opts = { method, headers: {} };
    if (method === "POST" && body === undefined) body = {};
    if (body !== undefined) {
      opts.body = raw ? body : JSON.stringify(body);
      opts.headers["Content-Type"] = raw ? "application/octet-stream" : "application/json";
    }
    const r = await fetch(path, opts);
    const type = r.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await r.json() : await r.text();
    if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
    return data;
  }
  function message(text, kind) {
    const box = $("message");
    if (!text) { box.hidden = true; return; }
    $("message-text").textContent = text;
    box.className = "message" + (kind === "info" ? " info" : "");
    box.hidden = false;
  }
  $("message-close").onclick = () => message(null);

  // ---------------------------------------------------------------- menus (from glassnet's registries)
  // S.menus: GET /api/menus, what the registries offer (activations, losses, optimizers, schedules), each entry
  // with its name, class, formula, summary, constructor defaults and, for optimizers and schedules, "fields":
  // the settings of this page its constructor takes (only those are shown)
  function entry(kind, name) { return (S.menus[kind] || []).find((e) => e.name === name) || null; }
  function fillMenu(select, entries, label) {
    select.textContent = "";
    for (const e of entries) {
      const o = el("option", null, label ? label(e) : e.name);
      o.value = e.name; o.title = [e.formula, e.summary].filter(Boolean).join(" — ");
      select.appendChild(o);
    }
  }
  function activationFormula(name) {
    const e = entry("activations", name);
    return e ? `a = f(z), f(x) = ${e.formula}` : `a = ${name}(z)`;
  }
  // a regression (a value y = f(x₁, x₂) to predict) or classes: the data set says, or a CSV's target column
  const REGRESSION_SETS = ["surface", "plane"];
  function taskOf(c) { return REGRESSION_SETS.includes(c.dataset) || (c.dataset === "csv" && c.target === "value") ? "regression" : "classification"; }
  function regression() { return !!S.info && S.info.task === "regression"; }
  function scoreName() { return regression() ? "R²" : "accuracy"; }
  // a change of task starts from the task's own loss (softmax cross-entropy, or squared error)
  function withTask(change) { return taskOf({ ...S.config, ...change }) === taskOf(S.config) ? change : { ...change, loss: "auto" }; }
  function showFormula(id, e) { $(id).textContent = e ? e.formula : ""; $(id).title = e ? e.summary : ""; }

  // ---------------------------------------------------------------- URL state
  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const config = {}, hide = {};
    for (const [k, v] of params) {
      if (k.endsWith("_hide")) { if (v === "true" || v === "1") hide[k.slice(0, -5)] = true; }
      else if (k === "layers") config.layers = v;
      else if (k === "batch_norm") config.batch_norm = v === "true" || v === "1";
      else if (k === "view") S.view = v;
      else if (k === "challenge") S.challenge = { target: Number(v), reached: null };
      else if (NUMERIC.includes(k)) config[k] = v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v; // the server names a bad value
      else config[k] = v;
    }
    return { config, hide };
  }
  function writeHash() {
    const c = S.config, params = new URLSearchParams();
    for (const k of Object.keys(c)) {
      if (k === "layers") params.set("layers", c.layers.map((l) => `${l.units}:${l.activation}:${l.dropout}`).join(","));
      else params.set(k, String(c[k]));
    }
    for (const k of Object.keys(S.hide)) params.set(`${k}_hide`, "true");
    if (S.view !== "train") params.set("view", S.view);
    if (S.challenge) params.set("challenge", String(S.challenge.target));
    history.replaceState(null, "", "#" + params.toString());
  }
  function applyHide() {
    for (const k of HIDEABLE) {
      document.querySelectorAll(`[data-hide="${k}"]`).forEach((e) => e.classList.toggle("hidden-by-url", !!S.hide[k]));
    }
  }

  // ---------------------------------------------------------------- session
  async function start() {
    const { config, hide } = readHash();
    S.menus = await api("GET", "/api/menus");
    fillMenu($("optimizer"), S.menus.optimizers, (e) => e.class);
    fillMenu($("schedule"), S.menus.schedules);
    S.hide = hide;
    applyHide();
    let info;
    try {
      info = await api("POST", "/api/session", { config, salvage: true }); // a bad value drops only itself
      if (info.dropped && info.dropped.length) {
        message(`Some settings of this link were left out (their defaults are used); the rest of the link is kept. ${info.dropped.join(" ")}`);
      }
    } catch (e) {
      message(`${e.message} The default settings are used instead.`);
      info = await api("POST", "/api/session", { config: {} });
    }
    setInfo(info);
    openEvents();
    showView(S.view);
    window.addEventListener("hashchange", () => location.reload()); // a pasted link: start from its state
    window.addEventListener("pagehide", () => fetch(`/api/session/${S.id}/close`, {
      method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {}));
  }
  document.querySelectorAll("#features input").forEach((box) => {
    box.onchange = () => changeConfig({ features: [...document.querySelectorAll("#features input:checked")].map((b) => b.value) });
  });
  function setInfo(info) {
    S.info = info; S.id = info.id; S.config = info.config;
    fillControls();
    buildNetwork();
    legend();
    writeHash();
    headerActions();
    const score = scoreName();
    $("stat-test-acc-name").textContent = `test ${score}`;
    $("train-acc-name").textContent = regression() ? "train R²" : "train acc.";
    $("test-acc-name").textContent = regression() ? "test R²" : "test acc.";
    $("curve-acc-name").textContent = regression() ? "R² (1 − residual / total sum of squares)" : "Accuracy";
    $("add-note").hidden = regression();
    $("n-params").textContent = `${info.n_params.toLocaleString()} parameters · layers: ${info.layers.join(" → ")}`;
  }
  function openEvents() {
    if (S.es) S.es.close();
    const es = new EventSource(`/api/session/${S.id}/events`);
    S.es = es;
    es.onmessage = (e) => {
      S.received = (S.received || 0) + 1;
      S.pending = e.data;
      if (!S.raf) S.raf = requestAnimationFrame(drawPending);
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) message("Lost the connection to the playground server: is it still running? Reload the page.");
    };
  }
  function drawPending() {
    S.raf = 0;
    if (!S.pending) return;
    const started = performance.now();
    const f = JSON.parse(S.pending);
    S.pending = null;
    drawFrame(f);
    S.drawMs = (S.drawMs || 0) + performance.now() - started; // the benchmark's time spent drawing
  }
  async function changeConfig(patch) {
    const config = Object.assign({}, S.config, patch);
    try {
      const info = await api("POST", `/api/session/${S.id}/config`, { config, csv: S.csv });
      message(info.change || null, "info"); // changed while training, or why it reset
      setInfo(info);
    } catch (e) {
      message(e.message);
      fillControls();
    }
  }

  // ---------------------------------------------------------------- controls
  function setSelect(id, value) {
    const s = $(id), v = String(value);
    if (![...s.options].some((o) => (o.value || o.text) === v)) {
      const o = el("option", null, v); o.value = v; s.appendChild(o);
    }
    s.value = v;
  }
  function fillControls() {
    const c = S.config;
    document.querySelectorAll("#features input").forEach((box) => { box.checked = (c.features || []).includes(box.value); });
    document.querySelectorAll("#datasets button").forEach((b) => b.classList.toggle("active", b.dataset.dataset === c.dataset));
    const multi = c.dataset === "spirals" || c.dataset === "blobs";
    $("field-classes").hidden = !multi;
    $("classes-label").textContent = c.dataset === "spirals" ? "arms" : "classes";
    $("classes").max = c.dataset === "spirals" ? 6 : 10;
    $("field-csv").hidden = c.dataset !== "csv";
    for (const k of ["classes", "noise", "train_fraction", "n_samples"]) { $(k).value = c[k]; $(`${k}-out`).textContent = c[k]; }
    $("n_samples").closest(".field").hidden = c.dataset === "csv";
    $("noise").closest(".field").hidden = c.dataset === "csv";
    $("data_seed").value = c.data_seed;
    $("seed").value = c.seed;
    $("step_size").value = c.step_size;
    $("total_epochs").value = c.total_epochs;
    $("optimizer").value = c.optimizer;
    $("schedule").value = c.schedule;
    $("init").value = c.init;
    for (const k of ["lr", "momentum", "weight_decay", "gamma", "batch_size", "alpha"]) setSelect(k, c[k]);
    const opt = entry("optimizers", c.optimizer), sched = entry("schedules", c.schedule);
    for (const k of ["momentum", "weight_decay"]) $(`field-${k}`).hidden = !(opt && opt.fields.includes(k));
    for (const k of ["step_size", "gamma", "total_epochs"]) $(`field-${k}`).hidden = !(sched && sched.fields.includes(k));
    const lossTask = taskOf(c) === "regression" ? "regression" : "multiclass";
    const losses = S.menus.losses.filter((e) => e.task === lossTask);
    fillMenu($("loss"), [{ name: "auto", summary: `the task's first: ${losses[0] ? losses[0].name : "–"}` }, ...losses]);
    $("loss").value = c.loss;
    const lossEntry = entry("losses", c.loss === "auto" && losses[0] ? losses[0].name : c.loss);
    $("loss-formula").textContent = lossEntry ? lossEntry.class : ""; // its summary (reStructuredText) on hover
    $("loss-formula").title = lossEntry ? lossEntry.summary : "";
    $("target").value = c.target;
    showFormula("optimizer-formula", opt);
    showFormula("schedule-formula", sched);
    $("batch_norm").checked = !!c.batch_norm;
  }
  document.querySelectorAll("#datasets button").forEach((b) => {
    b.onclick = () => {
      if (b.dataset.dataset === "csv" && !S.csv) { $("field-csv").hidden = false; $("csv-file").click(); return; }
      changeConfig(withTask({ dataset: b.dataset.dataset }));
    };
  });
  $("csv-file").onchange = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    S.csv = await file.text();
    changeConfig(withTask({ dataset: "csv" }));
  };
  $("target").onchange = () => changeConfig(withTask({ target: $("target").value }));
  $("loss").onchange = () => changeConfig({ loss: $("loss").value });
  for (const k of ["classes", "noise", "train_fraction", "n_samples"]) {
    $(k).oninput = () => { $(`${k}-out`).textContent = $(k).value; };
    $(k).onchange = () => changeConfig({ [k]: Number($(k).value) });
  }
  for (const k of ["lr", "momentum", "weight_decay", "gamma", "batch_size", "alpha", "data_seed", "seed", "step_size", "total_epochs"]) {
    $(k).onchange = () => changeConfig({ [k]: Number($(k).value) });
  }
  for (const k of ["schedule", "init"]) $(k).onchange = () => changeConfig({ [k]: $(k).value });
  $("optimizer").onchange = () => {
    // weight decay starts from the new optimizer's own default (AdamW's 0.01; the others' 0)
    const e = entry("optimizers", $("optimizer").value), wd = e && e.parameters.weight_decay;
    changeConfig({ optimizer: $("optimizer").value, ...(wd === undefined ? {} : { weight_decay: wd }) });
  };
  $("batch_norm").onchange = () => changeConfig({ batch_norm: $("batch_norm").checked });
  $("btn-new-data").onclick = () => changeConfig({ data_seed: (S.config.data_seed + 1) % 2147483647 });
  $("btn-new-seed").onclick = () => changeConfig({ seed: (S.config.seed + 1) % 2147483647 });
  $("btn-add-layer").onclick = () => {
    const layers = S.config.layers.slice(), last = layers[layers.length - 1];
    layers.push(last ? Object.assign({}, last) : { units: 4, activation: "tanh", dropout: 0 });
    changeConfig({ layers });
  };
  $("btn-remove-layer").onclick = () => changeConfig({ layers: S.config.layers.slice(0, -1) });
  function setLayer(i, patch) {
    const layers = S.config.layers.map((l, j) => (j === i ? Object.assign({}, l, patch) : l));
    changeConfig({ layers });
  }

  // ---------------------------------------------------------------- run controls
  function setPlaying(p) {
    S.playing = p;
    $("btn-play").classList.toggle("playing", p);
    $("btn-play").title = p ? "pause (space)" : "train (space)";
  }
  $("btn-play").onclick = async () => {
    try {
      if (S.playing) { await api("POST", `/api/session/${S.id}/pause`, {}); setPlaying(false); }
      else { await api("POST", `/api/session/${S.id}/play`, { steps_per_frame: Number($("speed").value) || null }); setPlaying(true); }
    } catch (e) { message(e.message); }
  };
  $("speed").onchange = () => { if (S.playing) api("POST", `/api/session/${S.id}/play`, { steps_per_frame: Number($("speed").value) || null }); };
  $("btn-reset").onclick = async () => {
    try { await api("POST", `/api/session/${S.id}/reset`, {}); setPlaying(false); message(null); $("trace").textContent = ""; $("gradcheck").hidden = true; }
    catch (e) { message(e.message); }
  };
  async function stepOnce() {
    try {
      const r = await api("POST", `/api/session/${S.id}/step`, { trace: true });
      setPlaying(false);
      renderTrace(r.trace);
      S.stage = 0;
      showStages();
    } catch (e) { message(e.message); }
  }
  $("btn-step").onclick = stepOnce;
  $("btn-trace").onclick = stepOnce;

  // ---------------------------------------------------------------- views
  function headerActions() { // Download and Copy as Python act on the tab shown: the digits model there
    const digits = S.view === "digits";
    $("btn-model").href = digits ? "/api/digits/model" : `/api/session/${S.id}/model`;
    $("btn-model").download = digits ? "digits-model.npz" : "playground-model.npz";
    $("btn-model").title = digits ? "the digits network as a glassnet model file, with its 8x8 preprocessing"
      : "a glassnet model file (glassnet.io.load_model)";
  }
  function showView(v) {
    if (!["train", "step", "digits"].includes(v)) v = "train";
    S.view = v;
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === v));
    for (const name of ["train", "step", "digits"]) $(`view-${name}`).hidden = name !== v;
    if (v === "train") requestAnimationFrame(() => { layoutEdges(); if (S.frame) drawEdges(S.frame); });
    if (v === "digits") digitsStatus();
    headerActions();
    if (S.config) writeHash();
  }
  document.querySelectorAll(".tab").forEach((t) => { t.onclick = () => showView(t.dataset.view); });

  // ---------------------------------------------------------------- network diagram
  function neuronSize(n) {
    const gap = n > 48 ? 0 : n > 16 ? 2 : 6, avail = 340;
    return { size: Math.max(2, Math.min(38, Math.floor((avail - gap * (n - 1)) / n))), gap };
  }
  function buildNetwork() {
    S.selected = null;
    $("neuron-info").hidden = true;
    const cols = $("net-columns");
    cols.textContent = "";
    const layout = S.info.layout;
    const tallest = Math.max(...layout.map((l) => { const { size, gap } = neuronSize(l.units); return l.units * (size + gap) - gap; }));
    cols.style.minHeight = `${92 + Math.max(tallest, 140) + 16}px`;
    layout.forEach((layer, li) => {
      const col = el("div", "layer-col");
      const ctl = el("div", "layer-ctl");
      if (layer.kind === "input") {
        ctl.appendChild(el("div", "title", "input"));
        ctl.appendChild(el("div", "muted", (layer.names || ["x₁", "x₂"]).join(", ")));
      } else if (layer.kind === "output") {
        ctl.appendChild(el("div", "title", "output"));
        ctl.appendChild(el("div", "muted", regression() ? `ŷ, ${layer.loss}` : `softmax, ${layer.units} classes`));
      } else {
        const i = li - 1, spec = S.config.layers[i];
        ctl.appendChild(el("div", "title", `hidden ${i + 1}`));
        const units = el("div", "units");
        units.dataset.hide = "layers";
        const minus = el("button", null, "−"), plus = el("button", null, "+"), n = el("span", null, String(spec.units));
        minus.title = "one unit fewer"; plus.title = "one unit more";
        minus.onclick = () => { if (spec.units > 1) setLayer(i, { units: spec.units - 1 }); else message("A layer needs at least 1 unit: remove the layer instead (− layer)."); };
        plus.onclick = () => setLayer(i, { units: spec.units + 1 });
        units.append(minus, n, plus);
        ctl.appendChild(units);
        const act = el("select");
        act.dataset.hide = "activation";
        act.className = "activation";
        fillMenu(act, S.menus.activations);
        act.value = spec.activation;
        act.onchange = () => setLayer(i, { activation: act.value });
        ctl.appendChild(act);
        const drop = el("select");
        drop.dataset.hide = "dropout";
        for (const r of [0, 0.1, 0.2, 0.3, 0.5]) { const o = el("option", null, r ? `dropout ${r}` : "no dropout"); o.value = String(r); drop.appendChild(o); }
        if (![...drop.options].some((o) => Number(o.value) === spec.dropout)) { const o = el("option", null, `dropout ${spec.dropout}`); o.value = String(spec.dropout); drop.appendChild(o); }
        drop.value = String(spec.dropout);
        drop.onchange = () => setLayer(i, { dropout: Number(drop.value) });
        ctl.appendChild(drop);
      }
      col.appendChild(ctl);
      const box = el("div", "neurons");
      const { size, gap } = neuronSize(layer.units);
      box.style.gap = `${gap}px`;
      for (let j = 0; j < layer.units; j++) {
        const c = el("canvas", "neuron" + (layer.kind === "output" ? " out" : ""));
        c.width = c.height = 20;
        c.style.width = c.style.height = `${size}px`;
        if (size < 10) c.style.borderRadius = "2px";
        c.dataset.layer = String(li); c.dataset.unit = String(j);
        if (layer.kind === "output") { c.style.borderColor = regression() ? "#6b7785" : COLORS[j % COLORS.length]; c.title = regression() ? "the predicted value ŷ" : `class ${S.info.class_names[j]}`; }
        else if (layer.kind === "input") c.title = (layer.names || ["x₁", "x₂"])[j];
        else c.title = `hidden ${li}, unit ${j + 1}`;
        if (layer.kind !== "input") c.onclick = () => selectNeuron(li, j);
        box.appendChild(c);
      }
      col.appendChild(box);
      cols.appendChild(col);
    });
    applyHide();
    drawInputMaps();
    warpControls();
    requestAnimationFrame(layoutEdges);
  }
  function options(select, items, value) {
    select.textContent = "";
    items.forEach(([v, label]) => { const o = el("option", null, label); o.value = String(v); select.appendChild(o); });
    select.value = String(value);
  }
  function warpControls(w) {
    const widths = S.config.layers.map((l) => l.units), ok = widths.map((n, i) => [i, n]).filter(([, n]) => n >= 2);
    $("warp-box").hidden = !ok.length;
    if (!ok.length) return;
    const layer = w ? w.layer : ok[ok.length - 1][0], units = w ? w.units : [0, 1];
    options($("warp-layer"), ok.map(([i]) => [i, `hidden ${i + 1}`]), layer);
    const unitItems = Array.from({ length: widths[layer] }, (_, j) => [j, String(j + 1)]);
    options($("warp-x"), unitItems, units[0]);
    options($("warp-y"), unitItems, units[1]);
    S.warpShown = `${layer}:${units.join(",")}`;
  }
  async function setWarp() {
    const layer = Number($("warp-layer").value), widths = S.config.layers.map((l) => l.units);
    let x = Number($("warp-x").value), y = Number($("warp-y").value);
    if (x >= widths[layer]) x = 0;
    if (y >= widths[layer] || y === x) y = x === 0 ? 1 : 0;
    try { await api("POST", `/api/session/${S.id}/warp`, { layer, units: [x, y] }); } catch (e) { message(e.message); }
  }
  for (const id of ["warp-layer", "warp-x", "warp-y"]) $(id).onchange = setWarp;
  function drawWarp(f) {
    const w = f.warp, canvas = $("warp");
    if (!w) return;
    if (S.warpShown !== `${w.layer}:${w.units.join(",")}`) warpControls(w);
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 24;
    ctx.clearRect(0, 0, W, H);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of w.lines.concat(w.points)) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const sx = (W - 2 * pad) / Math.max(x1 - x0, 1e-6), sy = (H - 2 * pad) / Math.max(y1 - y0, 1e-6);
    const X = (x) => pad + (x - x0) * sx, Y = (y) => H - pad - (y - y0) * sy;
    ctx.strokeStyle = "rgba(31,41,51,0.22)"; ctx.lineWidth = 1.5;
    for (let k = 0; k < w.lines.length; k += w.points_per_line) {
      ctx.beginPath();
      for (let i = k; i < k + w.points_per_line; i++) (i === k ? ctx.moveTo : ctx.lineTo).call(ctx, X(w.lines[i][0]), Y(w.lines[i][1]));
      ctx.stroke();
    }
    const ys = S.info.train.y;
    w.points.forEach(([x, y], i) => {
      ctx.beginPath(); ctx.arc(X(x), Y(y), 5, 0, 2 * Math.PI);
      ctx.fillStyle = COLORS[ys[i] % COLORS.length]; ctx.fill();
      ctx.lineWidth = 1.2; ctx.strokeStyle = "#fff"; ctx.stroke();
    });
    ctx.fillStyle = "#6b7785"; ctx.font = "20px system-ui, sans-serif";
    ctx.fillText(`unit ${w.units[0] + 1} →`, W - pad - 110, H - 4);
    ctx.save(); ctx.translate(16, pad + 100); ctx.rotate(-Math.PI / 2); ctx.fillText(`unit ${w.units[1] + 1} →`, 0, 0); ctx.restore();
  }
  function selectNeuron(li, j) {
    const same = S.selected && S.selected.layer === li && S.selected.unit === j;
    S.selected = same ? null : { layer: li, unit: j };
    document.querySelectorAll(".neuron.selected").forEach((c) => c.classList.remove("selected"));
    if (S.selected) document.querySelector(`.neuron[data-layer="${li}"][data-unit="${j}"]`).classList.add("selected");
    neuronInfo();
  }
  function updateRule() {
    const e = entry("optimizers", S.config.optimizer);
    return e ? `${e.class}: ${e.formula}` : S.config.optimizer;
  }
  function neuronInfo() {
    const box = $("neuron-info"), sel = S.selected, f = S.frame;
    if (!sel || !S.info || sel.layer >= S.info.layout.length) { box.hidden = true; return; }
    const layer = S.info.layout[sel.layer], out = layer.kind === "output";
    box.textContent = "";
    box.hidden = false;
    const outName = regression() ? "output · the predicted value ŷ" : `output · class ${S.info.class_names[sel.unit]}`;
    const name = out ? outName : `hidden ${sel.layer} · unit ${sel.unit + 1} (${layer.activation})`;
    box.appendChild(el("div", "title", name));
    const inputs = sel.layer === 1 ? (S.info.layout[0].names || ["x₁", "x₂"]).join(", ") : `the ${S.info.layout[sel.layer - 1].units} outputs of the layer before`;
    const outAct = regression() ? "ŷ = z (no activation)" : "p = softmax(z) over the classes";
    const act = out ? outAct : activationFormula(layer.activation);
    const bn = S.config.batch_norm && !out ? ", then batch norm" : "";
    box.appendChild(el("div", "formula", `z = Σᵢ wᵢ xᵢ + b   (xᵢ: ${inputs})${bn};   ${act}`));
    if (!f || !f.weights) { box.appendChild(el("div", "muted", "this network is too large to send its weights to the page")); return; }
    const w = f.weights[sel.layer - 1][sel.unit], b = f.biases[sel.layer - 1][sel.unit];
    let max = 1e-9;
    for (const v of w) max = Math.max(max, Math.abs(v));
    const row = el("div", "weights");
    w.forEach((v, i) => {
      const span = el("span", null, `w${i + 1} ${fmt(v, 3)}`);
      span.dataset.v = String(v);
      span.style.background = rgb(diverging((v / max) * 0.7));
      row.appendChild(span);
    });
    const bias = el("span", "bias", `b ${fmt(b, 3)}`);
    bias.dataset.v = String(b);
    bias.style.background = "#eef1f4";
    row.appendChild(bias);
    row.dataset.unit = `${sel.layer}.${sel.unit}`;
    box.appendChild(row);
    box.appendChild(el("div", "note", "Live: these change as it trains. The step view shows the Dense and activation layers' forward and backward source."));
  }
  // the colour of each byte value 0..255 (orange, white at 128, blue), computed once: a frame paints
  // tens of maps of hundreds of cells, which must not allocate a colour per cell
  const DIVERGING = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) { DIVERGING.set(diverging((v - 128) / 127.5), 4 * v); DIVERGING[4 * v + 3] = 255; }
  function paintMap(canvas, n, values) {
    if (canvas.width !== n || canvas.height !== n) { canvas.width = canvas.height = n; canvas._img = null; }
    const ctx = canvas.getContext("2d");
    const img = canvas._img || (canvas._img = ctx.createImageData(n, n)), data = img.data;
    for (let i = 0; i < n * n; i++) {
      const c = 4 * values[i];
      data[4 * i] = DIVERGING[c]; data[4 * i + 1] = DIVERGING[c + 1]; data[4 * i + 2] = DIVERGING[c + 2]; data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  // an input's value over the plane: x1, x2 or an engineered feature of them (scaled to its largest value)
  const FEATURE_OF = { "x₁": (a) => a, "x₂": (a, b) => b, "x₁²": (a) => a * a, "x₂²": (a, b) => b * b,
    "x₁x₂": (a, b) => a * b, "sin x₁": (a) => Math.sin(a), "sin x₂": (a, b) => Math.sin(b) };
  function drawInputMaps() {
    const n = 20, d = S.info.domain, names = S.info.layout[0].names || ["x₁", "x₂"];
    document.querySelectorAll('.neuron[data-layer="0"]').forEach((c) => {
      const f = FEATURE_OF[names[Number(c.dataset.unit)]] || FEATURE_OF["x₁"], values = [];
      for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) values.push(f(d * ((k + 0.5) / n * 2 - 1), d * (1 - (r + 0.5) / n * 2)));
      const max = Math.max(1e-9, ...values.map(Math.abs)), v = new Uint8Array(n * n);
      values.forEach((t, i) => { v[i] = Math.round((t / max) * 127.5 + 128); });
      paintMap(c, n, v);
    });
    const last = S.info.layout.length - 1;
    document.querySelectorAll(`.neuron[data-layer="${last}"]`).forEach((c) => {
      const ctx = c.getContext("2d"), col = regression() ? POS : hex(COLORS[Number(c.dataset.unit) % COLORS.length]);
      ctx.fillStyle = rgb(mix(WHITE, col, 0.55)); ctx.fillRect(0, 0, c.width, c.height);
    });
  }
  function layoutEdges() {
    const wrap = $("net-wrap"), canvas = $("edges"), cols = $("net-columns");
    if (!wrap.offsetWidth) return;
    const w = cols.scrollWidth, h = cols.scrollHeight, dpr = window.devicePixelRatio || 1;
    canvas.width = w * dpr; canvas.height = h * dpr;
    canvas.style.width = `${w}px`; canvas.style.height = `${h}px`;
    const base = cols.getBoundingClientRect();
    S.positions = S.info.layout.map((_, li) => [...document.querySelectorAll(`.neuron[data-layer="${li}"]`)].map((c) => {
      const r = c.getBoundingClientRect();
      return { l: r.left - base.left, r: r.right - base.left, y: r.top - base.top + r.height / 2 };
    }));
  }
  // click an edge to set its weight by hand (TensorFlow Playground's habit): the nearest line within 6 px
  function edgeAt(e) {
    const f = S.frame, cols = $("net-columns");
    if (!f || !f.weights || !S.positions) return null;
    const base = cols.getBoundingClientRect(), x = e.clientX - base.left, y = e.clientY - base.top;
    let best = null;
    f.weights.forEach((W, l) => {
      const from = S.positions[l], to = S.positions[l + 1];
      if (!from || !to) return;
      for (let i = 0; i < W.length && i < to.length; i++) for (let j = 0; j < W[i].length && j < from.length; j++) {
        const ax = from[j].r, ay = from[j].y, bx = to[i].l, by = to[i].y, dx = bx - ax, dy = by - ay;
        const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
        const d = Math.hypot(x - ax - t * dx, y - ay - t * dy);
        if (d < 6 && (!best || d < best.d)) best = { d, l, i, j, w: W[i][j] };
      }
    });
    return best;
  }
  $("net-wrap").addEventListener("click", async (e) => {
    if (e.target.closest(".neuron, button, select, input")) return;
    const edge = edgeAt(e);
    if (!edge) return;
    const names = S.info.layout.map((_, k) => (k === 0 ? "input" : k === S.info.layout.length - 1 ? "output" : `hidden ${k}`));
    const text = window.prompt(`The weight from ${names[edge.l]} unit ${edge.j + 1} to ${names[edge.l + 1]} unit ${edge.i + 1} is ${fmt(edge.w, 4)}. New value:`, fmt(edge.w, 4));
    if (text === null || text.trim() === "") return;
    try {
      const r = await api("POST", `/api/session/${S.id}/weight`, { layer: edge.l, row: edge.i, col: edge.j, value: Number(text) });
      message(r.change, "info");
    } catch (err) { message(err.message); }
  });
  $("net-wrap").addEventListener("mousemove", (e) => { $("net-wrap").style.cursor = edgeAt(e) ? "pointer" : ""; });
  function drawEdges(f) {
    const canvas = $("edges"), ctx = canvas.getContext("2d"), dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!f.weights || !S.positions) return;
    let max = 1e-9;
    for (const W of f.weights) for (const row of W) for (const w of row) max = Math.max(max, Math.abs(w));
    // one path per (sign, size) bucket: a dozen strokes, however many weights
    const LEVELS = 8, paths = [[], []].map(() => Array.from({ length: LEVELS }, () => new Path2D()));
    f.weights.forEach((W, l) => {
      const from = S.positions[l], to = S.positions[l + 1];
      if (!from || !to) return;
      for (let i = 0; i < W.length && i < to.length; i++) for (let j = 0; j < W[i].length && j < from.length; j++) {
        const w = W[i][j], level = Math.min(LEVELS - 1, Math.floor((Math.abs(w) / max) * LEVELS));
        const p = paths[w >= 0 ? 0 : 1][level];
        p.moveTo(from[j].r, from[j].y);
        p.lineTo(to[i].l, to[i].y);
      }
    });
    for (let level = 0; level < LEVELS; level++) for (const sign of [0, 1]) { // the largest on top
      const t = (level + 0.5) / LEVELS;
      ctx.strokeStyle = rgb(sign === 0 ? POS : NEG, 0.18 + 0.62 * t);
      ctx.lineWidth = 0.4 + 3.6 * t;
      ctx.stroke(paths[sign][level]);
    }
  }
  window.addEventListener("resize", () => { layoutEdges(); if (S.frame) drawEdges(S.frame); });

  // ---------------------------------------------------------------- frame drawing
  function legend() {
    const box = $("legend");
    box.textContent = "";
    if (regression()) { // the colour scale: the training values' range, orange (low) to blue (high)
      const [low, high] = S.info.value_range, bar = el("span", "scale");
      bar.style.background = `linear-gradient(to right, ${rgb(NEG)}, #fff, ${rgb(POS)})`;
      box.append(el("span", null, `ŷ = ${fmt(low, 3)}`), bar, el("span", null, fmt(high, 3)));
      return;
    }
    if (!(S.addClass < S.info.n_classes)) S.addClass = 0;
    S.info.class_names.forEach((name, k) => {
      const s = el("span", k === S.addClass ? "chosen" : null), dot = el("i");
      dot.style.background = COLORS[k % COLORS.length];
      s.append(dot, document.createTextNode(`class ${name}`));
      s.title = "a click on the plane adds a point of this class (shift-click: of the next class)";
      s.onclick = () => { S.addClass = k; legend(); };
      box.appendChild(s);
    });
  }
  // click the plane to add a training point of the chosen class (shift: the next class), weights kept
  $("heatmap").addEventListener("click", async (e) => {
    const r = e.target.getBoundingClientRect(), d = S.info.domain, k = S.info.n_classes;
    const u = (e.clientX - r.left) / r.width, v = (e.clientY - r.top) / r.height;
    const label = e.shiftKey ? (S.addClass + 1) % k : S.addClass;
    try {
      const info = await api("POST", `/api/session/${S.id}/point`, { x: -d + 2 * d * u, y: d - 2 * d * v, label });
      S.info.train = info.train;
      if (S.frame) drawHeatmap(S.frame);
      message(info.change, "info");
    } catch (err) { message(err.message); }
  });
  function valueColor(v) { // a value on the training values' scale: orange (low), white (middle), blue (high)
    const [low, high] = S.info.value_range;
    return diverging(high > low ? (2 * (v - low)) / (high - low) - 1 : 0);
  }
  function paintGrid(f) { // the grid's colours into S.heatImg: a class's colour by confidence, or a value's
    const n = f.grid.n, data = S.heatImg.data;
    if (f.grid.value) {
      const value = b64bytes(f.grid.value);
      if (!S.valueShades) { S.valueShades = []; for (let v = 0; v < 256; v++) S.valueShades.push(diverging((2 * v) / 255 - 1)); }
      for (let i = 0; i < n * n; i++) { const c = S.valueShades[value[i]]; data.set([c[0], c[1], c[2], 255], 4 * i); }
      return;
    }
    const cls = b64bytes(f.grid.cls), conf = b64bytes(f.grid.conf), shades = S.classShades;
    for (let i = 0; i < n * n; i++) {
      const t = shades[cls[i] % shades.length], c = 3 * conf[i];
      data[4 * i] = t[c]; data[4 * i + 1] = t[c + 1]; data[4 * i + 2] = t[c + 2]; data[4 * i + 3] = 255;
    }
  }
  function drawHeatmap(f) {
    const canvas = $("heatmap"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    const n = f.grid.n;
    if (!S.heatOff || S.heatOff.width !== n) { // one small canvas and its pixels, kept between frames
      S.heatOff = document.createElement("canvas");
      S.heatOff.width = S.heatOff.height = n;
      S.heatImg = S.heatOff.getContext("2d").createImageData(n, n);
    }
    if (!S.classShades) { // each class's colour at each confidence byte, computed once
      S.classShades = COLORS.map(hex).map((col) => {
        const t = new Uint8ClampedArray(256 * 3);
        for (let v = 0; v < 256; v++) t.set(mix(WHITE, col, 0.12 + 0.5 * (v / 255)), 3 * v);
        return t;
      });
    }
    const off = S.heatOff, img = S.heatImg;
    paintGrid(f);
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(off, 0, 0, W, H);
    const d = S.info.domain, px = (x) => ((x + d) / (2 * d)) * W, py = (y) => ((d - y) / (2 * d)) * H;
    // axes
    ctx.strokeStyle = "rgba(31,41,51,0.18)"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(px(0), 0); ctx.lineTo(px(0), H); ctx.moveTo(0, py(0)); ctx.lineTo(W, py(0)); ctx.stroke();
    ctx.fillStyle = "rgba(31,41,51,0.55)"; ctx.font = "22px system-ui, sans-serif";
    ctx.fillText(`x₁ ∈ [−${d}, ${d}]`, 12, H - 14);
    const pts = (set, test) => { // one path per class: a fill and a stroke each, however many points
      const r = test ? 6.5 : 6;
      if (regression()) { // each point in its value's colour, ringed in grey
        for (let i = 0; i < set.y.length; i++) {
          ctx.beginPath(); ctx.arc(px(set.x[i][0]), py(set.x[i][1]), r, 0, 2 * Math.PI);
          ctx.fillStyle = test ? "#fff" : rgb(valueColor(set.y[i])); ctx.fill();
          ctx.lineWidth = test ? 3 : 1.4; ctx.strokeStyle = test ? rgb(valueColor(set.y[i])) : "#3d4752"; ctx.stroke();
        }
        return;
      }
      COLORS.forEach((color, k) => {
        const path = new Path2D();
        for (let i = 0; i < set.y.length; i++) {
          if (set.y[i] % COLORS.length !== k) continue;
          const x = px(set.x[i][0]), y = py(set.x[i][1]);
          path.moveTo(x + r, y);
          path.arc(x, y, r, 0, 2 * Math.PI);
        }
        if (test) { ctx.fillStyle = "#fff"; ctx.fill(path); ctx.lineWidth = 3; ctx.strokeStyle = color; ctx.stroke(path); }
        else { ctx.fillStyle = color; ctx.fill(path); ctx.lineWidth = 1.6; ctx.strokeStyle = "#fff"; ctx.stroke(path); }
      });
    };
    pts(S.info.train, false);
    if ($("show-test").checked) pts(S.info.test, true);
  }
  $("show-test").onchange = () => { if (S.frame) drawHeatmap(S.frame); };
  $("heatmap").addEventListener("mousemove", (e) => {
    const f = S.frame, tip = $("hover");
    if (!f) return;
    const r = e.target.getBoundingClientRect(), u = (e.clientX - r.left) / r.width, v = (e.clientY - r.top) / r.height;
    const d = S.info.domain, n = f.grid.n, k = S.info.n_classes;
    const cell = Math.min(n - 1, Math.floor(v * n)) * n + Math.min(n - 1, Math.floor(u * n));
    const where = `x₁ ${fmt(-d + 2 * d * u, 3)}, x₂ ${fmt(d - 2 * d * v, 3)}`;
    if (f.grid.value) {
      const [low, high] = S.info.value_range, byte = b64bytes(f.grid.value)[cell];
      tip.textContent = `${where} → ŷ ≈ ${fmt(low + (byte / 255) * (high - low), 3)}`;
      tip.hidden = false;
      return;
    }
    const cls = b64bytes(f.grid.cls)[cell], p = (b64bytes(f.grid.conf)[cell] / 255) * (1 - 1 / k) + 1 / k;
    tip.textContent = `x₁ ${fmt(-d + 2 * d * u, 3)}, x₂ ${fmt(d - 2 * d * v, 3)} → class ${S.info.class_names[cls]}, p ≈ ${p.toFixed(2)}`;
    tip.hidden = false;
  });
  $("heatmap").addEventListener("mouseleave", () => { $("hover").hidden = true; });
  function drawCurve(id, xs, series, fixedMax, marks) {
    const canvas = $(id), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const left = 64, right = 14, top = 12, bottom = 34;
    let max = fixedMax || 0;
    if (!fixedMax) for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
    if (!(max > 0)) max = 1;
    const xmax = Math.max(1e-9, xs.length ? xs[xs.length - 1] : 1);
    const X = (x) => left + (x / xmax) * (W - left - right), Y = (v) => top + (1 - v / max) * (H - top - bottom);
    ctx.strokeStyle = "#e3e7ec"; ctx.lineWidth = 1; ctx.fillStyle = "#6b7785"; ctx.font = "20px system-ui, sans-serif";
    for (let k = 0; k <= 2; k++) {
      const v = (max * k) / 2;
      ctx.beginPath(); ctx.moveTo(left, Y(v)); ctx.lineTo(W - right, Y(v)); ctx.stroke();
      ctx.fillText(fmt(v, 2), 4, Y(v) + 6);
    }
    ctx.fillText(`epoch ${xs.length && xmax > 1e-6 ? fmt(xmax, 3) : 0}`, W - right - 150, H - 6);
    for (const m of marks || []) { // a setting changed while training: a dotted line where, its text on hover
      ctx.strokeStyle = "#d9822b"; ctx.lineWidth = 2; ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(X(m.epoch), top); ctx.lineTo(X(m.epoch), H - bottom); ctx.stroke();
    }
    ctx.setLineDash([]);
    canvas.title = (marks || []).map((m) => `step ${m.step}: ${m.text}`).join("\n");
    canvas.dataset.marks = String((marks || []).length);
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 3; ctx.setLineDash(s.dashed ? [10, 7] : []);
      ctx.beginPath();
      let started = false;
      s.values.forEach((v, i) => {
        if (v === null) return;
        const y = Y(Math.max(0, Math.min(v, max))); // a negative R² sits on the axis
        if (!started) { ctx.moveTo(X(xs[i]), y); started = true; } else ctx.lineTo(X(xs[i]), y);
      });
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  function setStat(id, value, text) {
    const e = $(id);
    e.textContent = text;
    e.dataset.v = value === null || value === undefined ? "" : String(value);
  }
  function drawFrame(f) {
    S.frame = f; S.frames += 1;
    if (S.playing !== f.playing) setPlaying(f.playing);
    setStat("stat-epoch", f.epoch, fmt(f.epoch, 4));
    setStat("stat-step", f.step, String(f.step));
    setStat("stat-speed", f.steps_per_s, f.playing ? Math.round(f.steps_per_s).toLocaleString() : "–");
    setStat("stat-lr", f.lr, fmt(f.lr, 3));
    setStat("stat-test-acc", f.test_acc, fmt(f.test_acc, 3));
    setStat("train-loss", f.train_loss, fmt(f.train_loss, 3));
    setStat("test-loss", f.test_loss, fmt(f.test_loss, 3));
    setStat("train-acc", f.train_acc, fmt(f.train_acc, 3));
    setStat("test-acc", f.test_acc, fmt(f.test_acc, 3));
    if (f.message) message(f.message, f.message.includes("diverged") ? "error" : "info");
    const hint = $("hint");
    if (hint) { hint.hidden = !f.hint; hint.textContent = f.hint || ""; }
    challenge(f);
    if (S.view !== "train") return;
    drawHeatmap(f);
    const c = f.curves;
    drawCurve("curve-loss", c.epoch, [
      { values: c.train_loss, color: "#1f2933" }, { values: c.test_loss, color: "#2f74c0", dashed: true }], 0, f.marks);
    drawCurve("curve-acc", c.epoch, [
      { values: c.train_acc, color: "#1f2933" }, { values: c.test_acc, color: "#2f74c0", dashed: true }], 1, f.marks);
    drawCurve("curve-lr", c.epoch, [{ values: c.lr, color: "#8e5cc2" }], 0, f.marks);
    $("schedule-name").textContent = `(${S.config.schedule})`;
    if (f.neurons) {
      f.neurons.maps.forEach((layer, l) => layer.forEach((m, j) => {
        const canvas = document.querySelector(`.neuron[data-layer="${l + 1}"][data-unit="${j}"]`);
        if (canvas) paintMap(canvas, f.neurons.n, b64bytes(m));
      }));
    }
    drawEdges(f);
    drawWarp(f);
    if (S.selected) neuronInfo();
  }

  // ---------------------------------------------------------------- a teacher's challenge (#...&challenge=0.95)
  function challenge(f) {
    const c = S.challenge, box = $("challenge");
    if (!c || !(c.target > 0)) { box.hidden = true; return; }
    box.hidden = false;
    if (f.step === 0) { c.reached = null; c.since = null; }
    // met once the accuracy has held the target for a whole epoch: a lucky moment does not count
    if (f.test_acc >= c.target) { if (c.since === null || c.since === undefined) c.since = f.epoch; }
    else c.since = null;
    if (!c.reached && c.since !== null && c.since !== undefined && f.epoch - c.since >= 1) c.reached = { epoch: f.epoch, step: f.step };
    box.classList.toggle("done", !!c.reached);
    box.textContent = c.reached
      ? `✓ Challenge met: test ${scoreName()} ${fmt(c.target, 3)} reached at epoch ${fmt(c.reached.epoch, 3)} (step ${c.reached.step}).`
      : `Challenge: reach a test ${scoreName()} of ${fmt(c.target, 3)} and hold it for an epoch (now ${fmt(f.test_acc, 3)}).`;
  }

  // ---------------------------------------------------------------- step view
  function matrix(name, arr, label, note) {
    const box = el("div", "array");
    box.dataset.trace = name;
    const lab = el("div", "label", label);
    if (arr) lab.appendChild(el("code", null, `(${arr.shape.join(", ")})`));
    box.appendChild(lab);
    if (!arr) { box.appendChild(el("div", "more", note || "–")); return box; }
    let rows = arr.values;
    if (arr.shape.length === 0) rows = [[rows]];
    else if (arr.shape.length === 1) rows = [rows];
    else rows = rows.slice(0, 32); // a usual batch whole; the hover title and data-v hold every digit
    let max = 1e-12;
    for (const r of rows) for (const v of r) max = Math.max(max, Math.abs(v));
    const table = el("table", "matrix"), maxCols = 12;
    rows.forEach((r) => {
      const tr = el("tr");
      r.slice(0, maxCols).forEach((v) => {
        const td = el("td", null, fmt(v, 3));
        td.dataset.v = String(v);
        td.title = String(v);
        td.style.background = rgb(diverging((v / max) * 0.8));
        tr.appendChild(td);
      });
      if (r.length > maxCols) tr.appendChild(el("td", "more", `… ${r.length - maxCols} more`));
      table.appendChild(tr);
    });
    box.appendChild(table);
    if (arr.shape.length === 2 && rows.length < arr.shape[0]) box.appendChild(el("div", "more", `first ${rows.length} of ${arr.shape[0]} rows`));
    return box;
  }
  function source(src, what, open) {
    const d = el("details");
    if (open) d.open = true;
    d.appendChild(el("summary", null, `${what}: the source in glassnet (${src.owner}, ${src.file}${src.line ? ":" + src.line : ""})`));
    d.appendChild(el("pre", "source", src.code));
    return d;
  }
  function card(head, shape, formula, src, srcName, arrays, open) {
    const c = el("div", "card"), left = el("div"), right = el("div", "arrays");
    const h = el("div", "card-head", head);
    if (shape) h.appendChild(el("span", "shape", shape));
    left.appendChild(h);
    // formulas come as HTML with MathML from the server (glassnet.playground.mathml: the docstrings' TeX,
    // drawn by the browser); the plain text is the fallback
    const html = (cls, markup, text) => {
      const e = el("div", cls);
      if (markup) e.innerHTML = markup; else e.textContent = text;
      return e;
    };
    if (formula && typeof formula === "object") {
      if (formula.summary_html || formula.summary) left.appendChild(html("summary", formula.summary_html, formula.summary));
      if (formula.math_html || formula.math) left.appendChild(html("formula math", formula.math_html, formula.math));
      if (formula.doc_html || formula.doc) {
        const d = el("details");
        d.appendChild(el("summary", null, "the whole docstring"));
        d.appendChild(html("formula doc", formula.doc_html, formula.doc));
        left.appendChild(d);
      }
    } else if (formula) left.appendChild(el("div", "formula", formula));
    arrays.forEach((a) => right.appendChild(a));
    c.append(left, right);
    if (src) { const d = source(src, srcName, open); d.className = "code"; c.appendChild(d); }
    return c;
  }
  function stage(n, title, note) {
    const t = el("div", "stage-title");
    t.append(el("span", "n", String(n)), document.createTextNode(title));
    if (note) t.appendChild(el("span", "muted", note));
    return t;
  }
  function difference(a, b) {
    const sub = (x, y) => (Array.isArray(x) ? x.map((v, i) => sub(v, y[i])) : x - y);
    return { shape: a.shape, values: sub(a.values, b.values) };
  }
  const OUT_NAME = { Dense: "z = x Wᵀ + b", BatchNorm: "y = γ x̂ + β", Dropout: "y = x ⊙ m" };
  function renderTrace(t) {
    const box = $("trace");
    box.textContent = "";
    S.trace = t;
    if (!t) return;
    $("trace-summary").textContent = "";
    const sum = $("trace-summary");
    sum.append(`step ${t.step}: a batch of ${t.batch_size} training points (rows ${t.rows.slice(0, 12).join(", ")}${t.rows.length > 12 ? ", …" : ""}), learning rate ${fmt(t.lr, 3)}, loss `);
    const lossEl = el("strong", null, fmt(t.loss, 5));
    lossEl.id = "trace-loss"; lossEl.dataset.v = String(t.loss);
    sum.appendChild(lossEl);
    box.appendChild(stage(1, "Forward", "each layer's forward(x), in order"));
    t.layers.forEach((L, i) => {
      const params = Object.keys(L.params_before).map((k) => matrix(`${L.name}.${k}`, L.params_before[k], k));
      const isAct = !["Dense", "BatchNorm", "Dropout"].includes(L.kind);
      const F = L.formula, dense = L.kind === "Dense";
      const forward = { summary: F.summary, summary_html: F.summary_html, math: dense ? "" : F.math,
        math_html: dense ? "" : F.math_html, doc: F.doc, doc_html: F.doc_html };
      box.appendChild(card(`${L.name} · ${L.kind}`, `${L.input.shape.join("×")} → ${L.output.shape.join("×")}`, forward,
        L.source_forward, "forward()", [
          matrix(`${L.name}.input`, L.input, "input x"), ...params,
          matrix(`${L.name}.output`, L.output, isAct ? "a = f(x)" : (OUT_NAME[L.kind] || "output")),
        ], i === 0));
    });
    box.appendChild(stage(2, "Loss", `${t.loss_kind}: the logits z become a number, and ∂L/∂z`));
    const lossArrays = [matrix("logits", t.logits, "logits z"), matrix("grad_logits", t.grad_logits, "∂L/∂z")];
    const lossFormula = { summary: t.loss_formula, summary_html: t.loss_formula_html };
    const lc = card(`loss = ${fmt(t.data_loss, 6)} + L2 ${fmt(t.penalty, 4)} = ${fmt(t.loss, 6)}`, null, lossFormula, null, null, lossArrays);
    for (const [part, src] of [["forward()", t.loss_source.forward], ["backward()", t.loss_source.backward]]) {
      const d = source(src, part);
      d.className = "code";
      lc.appendChild(d);
    }
    box.appendChild(lc);
    const bc = batchCard(t);
    if (bc) box.appendChild(bc);
    box.appendChild(stage(3, "Backward", "each layer's backward(∂L/∂out) → ∂L/∂x, in reverse: the chain rule"));
    const flow = el("button", "ghost small", "▶ animate the backward pass");
    flow.id = "btn-flow";
    flow.onclick = () => animateBackward();
    box.lastChild.appendChild(flow);
    t.layers.slice().reverse().forEach((L, i) => {
      if (!L.grad_output) return;
      const grads = Object.keys(L.grads).map((k) => matrix(`${L.name}.grad.${k}`, L.grads[k], `∂L/∂${k}`));
      const F = L.formula;
      const backward = F.math ? { math: F.math, math_html: F.math_html, doc: F.doc, doc_html: F.doc_html } : F;
      const bcard = card(`${L.name} · ${L.kind} backward`, null, backward, L.source_backward, "backward()", [
        matrix(`${L.name}.grad_output`, L.grad_output, "∂L/∂out (received)"), ...grads,
        matrix(`${L.name}.grad_input`, L.grad_input, "∂L/∂x (passed on)", "not computed: this layer's input is the data"),
      ], i === 0);
      bcard.classList.add("backward");
      box.appendChild(bcard);
    });
    box.appendChild(stage(4, "Update", updateRule() + (S.config.alpha ? `; the gradient includes L2: + (α/n) W` : "")));
    t.layers.forEach((L) => {
      Object.keys(L.params_before).forEach((k) => {
        box.appendChild(card(`${L.name}.${k}`, `η = ${fmt(t.lr, 3)}`, null, null, null, [
          matrix(`${L.name}.before.${k}`, L.params_before[k], `${k} before`),
          matrix(`${L.name}.grad2.${k}`, L.grads[k], `∂L/∂${k}`),
          matrix(`${L.name}.after.${k}`, L.params_after[k], `${k} after`),
          matrix(`${L.name}.delta.${k}`, difference(L.params_after[k], L.params_before[k]), "after − before"),
        ]));
      });
    });
  }
  // ---------------------------------------------------------------- a step by hand: one row, one neuron
  const MATH = (body) => `<math display="block"><mrow>${body}</mrow></math>`;
  const mn = (v) => `<mn>${fmt(v, 4).replace("-", "−")}</mn>`;
  const vec = (values) => `<mrow><mo>[</mo>${values.map(mn).join("<mo>,</mo>")}<mo>]</mo></mrow>`;
  function batchCard(t) {
    if (!t.proba || !t.labels) return null;
    const N = t.batch_size, K = t.proba.shape[1], names = S.info.class_names, X = t.layers[0].input.values;
    const c = el("div", "card batch-card"), left = el("div");
    left.appendChild(el("div", "card-head", `The batch by hand: ${N} rows, labels y, probabilities p = softmax(z)`));
    left.appendChild(el("div", "summary", "Click a row to follow it: its ∂L/∂z below, and one neuron's scalar graph."));
    const wrap = el("div", "array"), table = el("table", "matrix batch");
    const head = el("tr");
    ["row", "x₁", "x₂", "label y", ...names.map((n) => `p(${n})`), ...names.map((n) => `∂L/∂z(${n})`)].forEach((h) => head.appendChild(el("th", null, h)));
    table.appendChild(head);
    t.labels.forEach((y, i) => {
      const tr = el("tr");
      tr.dataset.row = String(i);
      const cells = [String(t.rows[i]), fmt(X[i][0], 3), fmt(X[i][1], 3), names[y]];
      cells.forEach((v) => tr.appendChild(el("td", null, v)));
      t.proba.values[i].forEach((p, k) => { const td = el("td", k === y ? "hit" : null, fmt(p, 3)); td.dataset.p = String(p); tr.appendChild(td); });
      t.grad_logits.values[i].forEach((g) => { const td = el("td", null, fmt(g, 4)); td.dataset.dz = String(g); tr.appendChild(td); });
      tr.onclick = () => byHand(t, i);
      table.appendChild(tr);
    });
    wrap.appendChild(table);
    if (t.labels.length < N) wrap.appendChild(el("div", "more", `first ${t.labels.length} of ${N} rows`));
    const hand = el("div", "by-hand");
    hand.id = "by-hand";
    const graph = el("div", "scalar-graph");
    graph.id = "scalar-graph";
    left.append(wrap, hand, graph);
    c.appendChild(left);
    requestAnimationFrame(() => byHand(t, 0));
    return c;
  }
  function byHand(t, i) {
    const N = t.batch_size, y = t.labels[i], p = t.proba.values[i];
    const onehot = p.map((_, k) => (k === y ? 1 : 0)), dz = p.map((v, k) => (v - onehot[k]) / N);
    document.querySelectorAll("table.batch tr").forEach((tr) => tr.classList.toggle("chosen", tr.dataset.row === String(i)));
    const box = $("by-hand");
    box.innerHTML = "";
    box.appendChild(el("div", "card-head", `Batch row ${i} (training point ${t.rows[i]}, label ${S.info.class_names[y]}): the loss's gradient by hand`));
    const eq = el("div", "math-line");
    eq.innerHTML = MATH(
      `<mfrac><mrow><mi>∂</mi><mi>L</mi></mrow><mrow><mi>∂</mi><msub><mi>z</mi><mi>${i}</mi></msub></mrow></mfrac><mo>=</mo>` +
      `<mfrac><mrow><msub><mi>p</mi><mi>${i}</mi></msub><mo>−</mo><msub><mi>y</mi><mi>${i}</mi></msub></mrow><mi>N</mi></mfrac><mo>=</mo>` +
      `<mfrac><mrow>${vec(p)}<mo>−</mo>${vec(onehot)}</mrow><mn>${N}</mn></mfrac><mo>=</mo>${vec(dz)}`);
    eq.dataset.dz = dz.join(",");
    box.appendChild(eq);
    box.appendChild(el("div", "note", `y is the label as a one-hot row; N = ${N}, the batch size (the mean's 1/N). The engine's backward gave ${t.grad_logits.values[i].map((v) => fmt(v, 4)).join(", ")}: the same numbers.`));
    neuronGraph(t, i, 0);
  }
  // micrograd's draw_dot for one neuron of the first layer on one row: every node's value and gradient
  function neuronGraph(t, i, j) {
    const box = $("scalar-graph"), D = t.layers[0], next = t.layers[1];
    box.innerHTML = "";
    if (!D.grad_output || i >= D.grad_output.values.length) return;
    const W = D.params_before.W.values, b = D.params_before.b.values, x = D.input.values[i];
    const dz = D.grad_output.values[i][j], z = D.output.values[i][j];
    const act = next && !["BatchNorm", "Dropout", "Dense"].includes(next.kind) ? next : null;
    box.appendChild(el("div", "card-head", `Neuron 1 of hidden layer 1 on batch row ${i}, as scalars (value, gradient), as micrograd draws it`));
    const nodes = [], edges = [];
    const node = (label, value, grad, col, row) => { nodes.push({ label, value, grad, col, row }); return nodes.length - 1; };
    const op = (label, col, row) => { nodes.push({ label, op: true, col, row }); return nodes.length - 1; };
    const sums = [];
    x.forEach((xk, k) => {
      const wn = node(`w${k + 1}`, W[j][k], dz * xk, 0, 2 * k), xn = node(`x${k + 1}`, xk, dz * W[j][k], 0, 2 * k + 1);
      const m = op("×", 1, 2 * k + 0.5), pn = node(`w${k + 1}·x${k + 1}`, W[j][k] * xk, dz, 2, 2 * k + 0.5);
      edges.push([wn, m], [xn, m], [m, pn]);
      sums.push(pn);
    });
    const bn = node("b", b[j], dz, 2, 2 * x.length);
    const plus = op("+", 3, x.length - 0.5), zn = node("z", z, dz, 4, x.length - 0.5);
    sums.concat([bn]).forEach((n) => edges.push([n, plus]));
    edges.push([plus, zn]);
    if (act) {
      const f = op(act.kind.toLowerCase(), 5, x.length - 0.5);
      const an = node("a", act.output.values[i][j], act.grad_output.values[i][j], 6, x.length - 0.5);
      edges.push([zn, f], [f, an]);
    }
    const CW = 170, RH = 54, w = 7 * CW + 40, h = (2 * x.length + 1) * RH + 20;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("class", "graph");
    const pos = (n) => [20 + n.col * CW, 20 + n.row * RH];
    const add = (tag, attrs, text) => {
      const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    };
    edges.forEach(([a, c]) => {
      const [x1, y1] = pos(nodes[a]), [x2, y2] = pos(nodes[c]);
      add("line", { x1: x1 + (nodes[a].op ? 16 : 138), y1: y1 + 16, x2: x2 - (nodes[c].op ? 16 : 0), y2: y2 + 16, class: "edge" });
    });
    nodes.forEach((n) => {
      const [px, py] = pos(n);
      if (n.op) { add("circle", { cx: px, cy: py + 16, r: 16, class: "op" }); add("text", { x: px, y: py + 21, "text-anchor": "middle" }, n.label); return; }
      const g = add("rect", { x: px, y: py, width: 138, height: 34, rx: 5, class: "node" });
      g.dataset.value = String(n.value); g.dataset.grad = String(n.grad);
      add("text", { x: px + 6, y: py + 14, class: "lab" }, n.label);
      add("text", { x: px + 6, y: py + 28, class: "num" }, `${fmt(n.value, 3)} | ∂ ${fmt(n.grad, 4)}`);
    });
    box.appendChild(svg);
    box.appendChild(el("div", "note", "Each box: the value (forward) | ∂L/∂ that value for this row (backward). The chain rule at every node: a product passes each input the other's value times the gradient it receives; a sum passes its gradient on unchanged. The whole batch's ∂L/∂W adds these over the rows."));
  }
  // the backward pass as it happens: the gradient flows from the loss to the first layer, card by card
  function animateBackward() {
    const cards = [...$("trace").querySelectorAll(".card.backward")];
    cards.forEach((c) => c.classList.remove("flow"));
    cards.forEach((c, k) => setTimeout(() => {
      cards.forEach((o) => o.classList.remove("flow"));
      c.classList.add("flow");
      if (k === 0 || $("one-by-one").checked) c.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }, 700 * k));
    setTimeout(() => cards.forEach((c) => c.classList.remove("flow")), 700 * cards.length + 400);
  }

  // one stage at a time: the cards in order, forward, loss, backward, update
  function showStages() {
    const cards = [...$("trace").querySelectorAll(".card")], on = $("one-by-one").checked && cards.length > 0;
    $("stage-nav").hidden = !on;
    if (!on) { $("trace").querySelectorAll(".later, .current").forEach((e) => e.classList.remove("later", "current")); return; }
    S.stage = Math.max(0, Math.min(S.stage || 0, cards.length - 1));
    let index = -1;
    for (const e of $("trace").children) {
      if (e.classList.contains("card")) index += 1;
      const next = e.classList.contains("stage-title") ? index + 1 : index;
      e.classList.toggle("later", next > S.stage);
      e.classList.toggle("current", e.classList.contains("card") && index === S.stage);
    }
    $("stage-pos").textContent = `${S.stage + 1} of ${cards.length}: ${cards[S.stage].querySelector(".card-head").firstChild.textContent}`;
    cards[S.stage].scrollIntoView({ block: "nearest" });
  }
  $("one-by-one").onchange = () => { S.stage = 0; showStages(); };
  $("btn-next-stage").onclick = () => { S.stage += 1; showStages(); };
  $("btn-prev-stage").onclick = () => { S.stage -= 1; showStages(); };

  $("btn-gradcheck").onclick = async () => {
    const box = $("gradcheck");
    box.hidden = false;
    box.textContent = "Checking: central differences in float64, two forward passes per parameter…";
    try {
      const r = await api("POST", `/api/session/${S.id}/gradcheck`, {});
      box.textContent = "";
      box.appendChild(el("h2", null, "glassnet.gradcheck.gradcheck_network on the last batch"));
      const table = el("table"), head = el("tr");
      ["parameter", "max relative error", ""].forEach((h) => head.appendChild(el("th", null, h)));
      table.appendChild(head);
      for (const [name, err] of Object.entries(r.errors)) {
        const tr = el("tr");
        const e = el("td", null, err.toExponential(2));
        e.dataset.v = String(err);
        tr.append(el("td", null, name), e, el("td", err < 1e-4 ? "ok" : "bad", err < 1e-4 ? "✓ agrees" : "✗ differs"));
        tr.dataset.param = name;
        table.appendChild(tr);
      }
      box.appendChild(table);
      box.appendChild(el("p", "note", `${r.rows} points, ${r.seconds.toFixed(2)} s. Error: max |analytic − numeric| / max |gradient| per array; float64 differences agree to about 1e-6.`));
    } catch (e) { box.textContent = e.message; }
  };

  // ---------------------------------------------------------------- take home
  function modal(title, note, text) {
    $("modal-title").textContent = title;
    $("modal-note").textContent = note;
    $("modal-text").textContent = text;
    $("modal-copied").textContent = "";
    $("modal").hidden = false;
  }
  $("modal-close").onclick = () => { $("modal").hidden = true; };
  $("modal").onclick = (e) => { if (e.target === $("modal")) $("modal").hidden = true; };
  $("modal-copy").onclick = async () => {
    const text = $("modal-text").textContent;
    try { await navigator.clipboard.writeText(text); $("modal-copied").textContent = "copied"; }
    catch (e) {
      const range = document.createRange(); range.selectNodeContents($("modal-text"));
      const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
      $("modal-copied").textContent = document.execCommand("copy") ? "copied" : "select the text and copy it";
    }
  };
  $("btn-model").addEventListener("click", (e) => {
    if (S.view === "digits" && S.digitsState !== "ready") { e.preventDefault(); message("No digits model yet: train one (or load a model file) first."); }
  });
  $("btn-lesson").onclick = () => { // the run so far as one HTML file, with the teacher's note
    const note = window.prompt("A note for your students (shown at the top of the lesson):", "");
    if (note === null) return;
    const a = document.createElement("a");
    a.href = `/api/session/${S.id}/lesson?note=${encodeURIComponent(note)}`;
    a.download = "glassnet-lesson.html";
    document.body.appendChild(a); a.click(); a.remove();
  };
  $("btn-python").onclick = async () => {
    try {
      if (S.view === "digits") {
        const code = await api("GET", "/api/digits/python");
        modal("Copy as Python", "A glassnet script that trains the digits network as this tab did: it ends with the same weights.", code);
        return;
      }
      const code = await api("GET", `/api/session/${S.id}/python`);
      modal("Copy as Python", "A glassnet script that rebuilds this data, network and optimizer and takes the same steps: it ends with the same weights.", code);
    } catch (e) { message(e.message); }
  };
  $("btn-share").onclick = () => {
    writeHash();
    const csv = S.config.dataset === "csv"
      ? ` Your CSV's rows are not in it (a link would grow to the size of the file): whoever opens it sees the default data set and is told so; send the CSV along.`
      : "";
    modal("Share link", `The settings, network and seeds are in this link.${csv} To hide controls from students or set a challenge, build the link on the teacher's page: ${location.origin}/teacher`, location.href);
  };

  // ---------------------------------------------------------------- digits
  const draw = $("draw"), dctx = draw.getContext("2d");
  let drawing = false, lastPredict = 0, pollTimer = 0;
  function clearDrawing() { dctx.fillStyle = "#111"; dctx.fillRect(0, 0, draw.width, draw.height); }
  clearDrawing();
  function pointer(e) { const r = draw.getBoundingClientRect(); return [(e.clientX - r.left) * draw.width / r.width, (e.clientY - r.top) * draw.height / r.height]; }
  draw.addEventListener("pointerdown", (e) => {
    drawing = true; draw.setPointerCapture && draw.setPointerCapture(e.pointerId);
    const [x, y] = pointer(e);
    dctx.strokeStyle = "#fff"; dctx.fillStyle = "#fff"; dctx.lineWidth = 30; dctx.lineCap = dctx.lineJoin = "round";
    dctx.beginPath(); dctx.arc(x, y, 15, 0, 2 * Math.PI); dctx.fill();
    dctx.beginPath(); dctx.moveTo(x, y);
  });
  draw.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = pointer(e);
    dctx.lineTo(x, y); dctx.stroke(); dctx.beginPath(); dctx.moveTo(x, y);
    if (performance.now() - lastPredict > 150) predictDigit();
  });
  const stop = () => { if (drawing) { drawing = false; predictDigit(); } };
  draw.addEventListener("pointerup", stop);
  draw.addEventListener("pointerleave", stop);
  $("btn-clear").onclick = () => { clearDrawing(); $("proba").textContent = ""; $("digit-label").textContent = "–"; $("seen").getContext("2d").clearRect(0, 0, 240, 240); $("hidden").textContent = ""; };
  async function predictDigit() {
    lastPredict = performance.now();
    const n = 56, off = document.createElement("canvas");
    off.width = off.height = n;
    const octx = off.getContext("2d");
    octx.imageSmoothingEnabled = true; octx.imageSmoothingQuality = "high";
    octx.drawImage(draw, 0, 0, n, n);
    const data = octx.getImageData(0, 0, n, n).data, pixels = new Array(n * n);
    for (let i = 0; i < n * n; i++) pixels[i] = data[4 * i] / 255;
    try {
      const r = await api("POST", "/api/digits/predict", { pixels, width: n, height: n });
      showPrediction(r);
    } catch (e) { $("digits-status").textContent = e.message; }
  }
  function showPrediction(r) {
    const seen = $("seen"), sctx = seen.getContext("2d"), cell = seen.width / 8;
    r.image.forEach((v, i) => {
      const g = Math.round(255 * (1 - v));
      sctx.fillStyle = `rgb(${g},${g},${g})`;
      sctx.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
    });
    seen.dataset.values = r.image.join(",");
    const box = $("proba");
    box.textContent = "";
    const top = r.proba.indexOf(Math.max(...r.proba));
    r.proba.forEach((p, k) => {
      const bar = el("div", "bar" + (k === top ? " best" : "")), track = el("div", "track"), fill = el("div", "fill");
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      track.appendChild(fill);
      bar.append(el("span", null, r.class_names[k]), track, el("span", null, `${(100 * p).toFixed(1)} %`));
      box.appendChild(bar);
    });
    $("digit-label").textContent = r.label;
    const hid = $("hidden");
    hid.textContent = "";
    r.hidden.forEach((h, l) => {
      hid.appendChild(el("div", "muted", `hidden layer ${l + 1}: ${h.length} units (darker blue = larger output)`));
      const c = el("canvas"), w = Math.max(3, Math.min(12, Math.floor(1100 / h.length)));
      c.width = h.length * w; c.height = 18;
      const ctx = c.getContext("2d"), max = Math.max(1e-9, ...h.map(Math.abs));
      h.forEach((v, j) => { ctx.fillStyle = rgb(diverging(v / max)); ctx.fillRect(j * w, 0, w, 18); });
      hid.appendChild(c);
    });
  }
  function digitsCurve(losses) { // the training loss epoch by epoch: the network learning, live
    const c = $("digits-curve"), ctx = c.getContext("2d"), w = c.width, h = c.height;
    ctx.clearRect(0, 0, w, h);
    c.dataset.points = String(losses.length);
    if (losses.length < 1) return;
    const top = Math.max(...losses), pad = 14;
    ctx.strokeStyle = "#2f6fde"; ctx.lineWidth = 2; ctx.beginPath();
    losses.forEach((v, i) => {
      const x = pad + (w - 2 * pad) * (losses.length > 1 ? i / (losses.length - 1) : 0);
      const y = h - pad - (h - 2 * pad) * (v / (top || 1));
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = "#666"; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(`training loss ${losses[losses.length - 1].toFixed(3)} (first epoch ${losses[0].toFixed(3)})`, pad, 12);
  }
  async function digitsStatus() {
    try {
      const s = await api("GET", "/api/digits/status");
      $("digits-status").textContent = s.message;
      $("digits-status").dataset.state = s.state;
      $("digits-progress").style.width = `${Math.round(100 * (s.state === "ready" ? 1 : s.progress))}%`;
      S.digitsState = s.state;
      digitsCurve(s.losses || []);
      if (!$("digits-epochs").value) $("digits-epochs").value = s.recipes[$("digits-recipe").value].epochs;
      clearTimeout(pollTimer);
      if (s.state === "training") pollTimer = setTimeout(digitsStatus, 200);
      S.digitRecipes = s.recipes;
    } catch (e) { $("digits-status").textContent = e.message; }
  }
  $("digits-recipe").onchange = () => { if (S.digitRecipes) $("digits-epochs").value = S.digitRecipes[$("digits-recipe").value].epochs; };
  $("btn-digits-train").onclick = async () => {
    try {
      await api("POST", "/api/digits/train", { recipe: $("digits-recipe").value, epochs: Number($("digits-epochs").value) || null });
      digitsStatus();
    } catch (e) { $("digits-status").textContent = e.message; }
  };
  $("digits-file").onchange = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try { await api("POST", "/api/digits/load", await file.arrayBuffer(), true); digitsStatus(); }
    catch (err) { $("digits-status").textContent = err.message; }
  };

  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === " " && S.view === "train") { e.preventDefault(); $("btn-play").click(); }
    else if (S.view === "step" && $("one-by-one").checked && (e.key === "ArrowRight" || e.key === "ArrowLeft")) {
      e.preventDefault(); S.stage += e.key === "ArrowRight" ? 1 : -1; showStages();
    }
    else if (e.key === "s" || e.key === "ArrowRight") { if (S.view !== "digits") { e.preventDefault(); stepOnce(); } }
    else if (e.key === "r" && S.view === "train") $("btn-reset").click();
    else if (e.key === "Escape") $("modal").hidden = true;
  });

  start().catch((e) => message(`Could not start: ${e.message}`));
})();
