// The dashboard page: one WebSocket, a snapshot then pushed updates; nothing is polled.
"use strict";

const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
const VERDICT_COLOURS = { WELL_RECEIVED: "#1b873f", NEUTRAL: "#b7791f", BADLY_RECEIVED: "#c62828", UNKNOWN: "#667085" };
const SHORT = { WELL_RECEIVED: "WELL", NEUTRAL: "NEUTRAL", BADLY_RECEIVED: "BADLY", UNKNOWN: "UNKNOWN" };

const model = {
  seq: 0, historyS: 60, frames: [], actions: new Map(), verdicts: new Map(), faceColours: new Map(),
  stats: null, health: null, camera: true, connected: false,
};
const dashboard = { model, plot: null, plotFaces: "" };
window.dashboard = dashboard;  // for people (and the browser test) to inspect in the console

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
};
const fmt = (v, digits = 2, sign = true) =>
  v === null || v === undefined ? "–" : (sign && v > 0 ? "+" : "") + v.toFixed(digits);
const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });

function faceColour(face) {
  if (!model.faceColours.has(face)) model.faceColours.set(face, PALETTE[model.faceColours.size % PALETTE.length]);
  return model.faceColours.get(face);
}

// ---- applying what the server pushes ----
function applySnapshot(msg) {
  model.seq = msg.seq;
  model.historyS = msg.history_s;
  model.camera = msg.camera;
  model.frames = msg.frames.map(([, t, row]) => [t, row]);
  model.actions = new Map(msg.actions.map((a) => [a.action_id, a]));
  model.verdicts = new Map();
  msg.verdicts.forEach(addVerdict);
  model.stats = msg.stats;
  model.health = msg.health;
  $("history").textContent = String(msg.history_s);
  renderAll();
}

function applyUpdate(msg) {
  const fresh = (item) => item.seq > model.seq;
  for (const [seq, t, row] of msg.frames || []) if (seq > model.seq) model.frames.push([t, row]);
  for (const a of (msg.actions || []).filter(fresh)) model.actions.set(a.action_id, a);
  (msg.verdicts || []).filter(fresh).forEach(addVerdict);
  if (msg.stats) model.stats = msg.stats;
  if (msg.health) model.health = msg.health;
  model.seq = Math.max(model.seq, msg.seq);
  const newest = latestStamp();
  while (model.frames.length && model.frames[0][0] < newest - model.historyS) model.frames.shift();
  renderAll();
}

function addVerdict(v) {
  model.verdicts.set(v.action_id, v);
  if (!model.actions.has(v.action_id)) {  // its action came before this page opened (or was lost)
    model.actions.set(v.action_id, { action_id: v.action_id, name: v.name, stamp: v.action_stamp, duration: 0 });
  }
}

function latestStamp() {
  let t = model.frames.length ? model.frames[model.frames.length - 1][0] : 0;
  for (const a of model.actions.values()) t = Math.max(t, a.stamp);
  return t;
}

// ---- the chart ----
function chartData(faces) {
  const xs = model.frames.map((f) => f[0]);
  const series = faces.map((face) => model.frames.map(([, row]) => {
    const hit = row.find((r) => r[0] === face);
    return hit ? hit[1] : null;
  }));
  return [xs, ...series];
}

function drawMarkers(u) {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  ctx.save();
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
  let row = 0;
  for (const a of model.actions.values()) {
    const x = u.valToPos(a.stamp, "x", true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    const v = model.verdicts.get(a.action_id);
    const colour = v ? VERDICT_COLOURS[v.verdict] || "#667085" : "#98a2b3";
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash(v ? [] : [6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    const label = v ? `${a.name} ${SHORT[v.verdict] || v.verdict} ${fmt(v.delta)}` : `${a.name} …`;
    ctx.fillStyle = colour;
    ctx.fillText(label, x + 4 * devicePixelRatio, top + (14 + 14 * (row++ % 3)) * devicePixelRatio);
  }
  ctx.restore();
}

function renderChart() {
  const faces = [...new Set(model.frames.flatMap(([, row]) => row.map((r) => r[0])))];
  const data = chartData(faces);
  const key = faces.join("|");
  const box = $("chart");
  if (!dashboard.plot || dashboard.plotFaces !== key) {
    if (dashboard.plot) dashboard.plot.destroy();
    dashboard.plotFaces = key;
    dashboard.plot = new uPlot({
      width: Math.max(box.clientWidth, 300), height: 280,
      legend: { show: false },  // #faces below lists each face with its colour and latest valence
      scales: { x: { time: true, auto: false }, y: { auto: false, range: [-1, 1] } },
      axes: [{}, { label: "valence", values: (u, ticks) => ticks.map((t) => fmt(t, 1)) }],
      series: [{ value: (u, v) => (v === null ? "–" : clock(v)) },
        ...faces.map((face) => ({ label: face, stroke: faceColour(face), width: 2, spanGaps: false,
          value: (u, v) => fmt(v) }))],
      hooks: { draw: [drawMarkers] },
    }, data, box);
  } else {
    dashboard.plot.setData(data, false);
  }
  const newest = latestStamp();
  dashboard.plot.setScale("x", { min: newest - model.historyS, max: newest + 1 });
  renderFaces(faces);
}

function renderFaces(faces) {
  const list = $("faces");
  list.replaceChildren();
  const last = model.frames.length ? model.frames[model.frames.length - 1] : null;
  for (const face of faces) {
    const hit = last && last[1].find((r) => r[0] === face);
    const item = el("li");
    const swatch = el("span", "", "swatch");
    swatch.style.background = faceColour(face);
    item.append(swatch, el("b", face), document.createTextNode(hit ? ` ${fmt(hit[1])}` : " (out of view)"));
    item.dataset.face = face;
    list.append(item);
  }
}

// ---- tables and indicators ----
function renderVerdicts() {
  const body = $("verdicts").querySelector("tbody");
  body.replaceChildren();
  const actions = [...model.actions.values()].sort((a, b) => b.stamp - a.stamp);
  for (const a of actions) {
    const v = model.verdicts.get(a.action_id);
    const tr = el("tr");
    tr.dataset.action = a.name;
    const badge = el("span", v ? v.verdict : "waiting…", `verdict ${v ? v.verdict : "PENDING"}`);
    const verdictCell = el("td");
    verdictCell.append(badge);
    tr.append(el("td", clock(a.stamp)), el("td", a.name), verdictCell, el("td", v ? fmt(v.delta) : ""),
      el("td", v ? `${fmt(v.baseline_valence)} → ${fmt(v.response_valence)}` : ""),
      el("td", v ? `${v.n_baseline} / ${v.n_response}` : ""));
    body.append(tr);
  }
}

function renderStats() {
  const body = $("stats").querySelector("tbody");
  body.replaceChildren();
  const stats = model.stats || { rows: [], message: "" };
  $("stats-note").textContent = stats.ok ? "from action_feedback_node, all runs recorded" : stats.message;
  for (const r of stats.rows) {
    const tr = el("tr");
    tr.dataset.action = r.name;
    tr.append(el("td", r.name), el("td", String(r.count)), el("td", String(r.well_received)),
      el("td", String(r.neutral)), el("td", String(r.badly_received)), el("td", String(r.unknown)),
      el("td", fmt(r.mean_delta)));
    body.append(tr);
  }
}

function renderHealth() {
  const box = $("indicators");
  box.replaceChildren();
  const health = model.health || { indicators: [], statuses: [] };
  for (const i of health.indicators) {
    const pill = el("span", `${i.name}: ${i.text}`, `pill ${i.ok ? "ok" : "bad"}`);
    pill.dataset.indicator = i.name;
    box.append(pill);
  }
  const body = $("health").querySelector("tbody");
  body.replaceChildren();
  for (const s of health.statuses) {
    const tr = el("tr", null, s.level);
    const values = Object.entries(s.values).map(([k, v]) => `${k} ${v}`).join(", ");
    tr.append(el("td", s.name), el("td", s.level, `level ${s.level}`), el("td", s.message),
      el("td", values, "values"));
    body.append(tr);
  }
}

function renderCameraNote() {
  const perception = ((model.health || {}).indicators || []).find((i) => i.name === "perception");
  $("camera").classList.toggle("stale", Boolean(perception && !perception.ok));
  if (!model.camera) {
    $("camera").classList.remove("live");
    $("camera-note").textContent = "camera view switched off (the dashboard's camera parameter)";
  }
}

function renderAll() {
  renderChart();
  renderVerdicts();
  renderStats();
  renderHealth();
  renderCameraNote();
}

// ---- the socket ----
let lastFrameUrl = null;
function showFrame(blob) {
  const url = URL.createObjectURL(blob);
  const img = $("camera");
  img.onload = () => { if (lastFrameUrl && lastFrameUrl !== url) URL.revokeObjectURL(lastFrameUrl); lastFrameUrl = url; };
  img.src = url;
  img.classList.add("live");
  $("camera-note").textContent = "";
}

function setConnected(ok, text) {
  model.connected = ok;
  const pill = $("connection");
  pill.textContent = text;
  pill.className = `pill ${ok ? "ok" : "bad"}`;
}

function connect(delay = 1000) {
  const token = new URLSearchParams(location.search).get("token");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(`${scheme}${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`);
  ws.binaryType = "blob";
  ws.onopen = () => {
    setConnected(true, "live");
    ws.send(JSON.stringify({ camera: !document.hidden }));
    delay = 1000;
  };
  ws.onmessage = (event) => {
    if (typeof event.data !== "string") { showFrame(event.data); return; }
    const msg = JSON.parse(event.data);
    if (msg.type === "snapshot") applySnapshot(msg); else applyUpdate(msg);
  };
  ws.onclose = (event) => {
    setConnected(false, `disconnected${event.reason ? ` (${event.reason})` : ""}; retrying…`);
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
  document.onvisibilitychange = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ camera: !document.hidden }));
  };
}

window.addEventListener("resize", () => {
  if (dashboard.plot) dashboard.plot.setSize({ width: Math.max($("chart").clientWidth, 300), height: 280 });
});
connect();
