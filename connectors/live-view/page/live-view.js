// The live QC view in the browser: server-sent events from /events ('hello' with what happened
// just before, then 'result' per inspected frame and 'stats' each second). Each camera has a tile
// whose canvas shows its latest picture (heatmap overlay or frame) with the defect boxes, their
// class and score, and the heatmap's peak. While a picture loads, newer results for that camera
// replace the waiting one: like video, the screen skips frames instead of falling behind. Next to
// it, the camera's last DEFECT stays up until the next one, since at line speed it is gone from the
// main picture before anyone can read it.
'use strict';

const CLASS_COLORS = { open: '#ff453a', short: '#ff9f0a', mousebite: '#ffd60a', spur: '#bf5af2', copper: '#64d2ff', 'pin-hole': '#ff375f' };
const OTHER_COLOR = '#ffffff';
const RECENT_MAX = 30;

const tiles = new Map();
const state = { results: 0, rendered: 0, model: null };

function classColor(cls) {
  return (cls && CLASS_COLORS[cls]) || OTHER_COLOR;
}

function $(id) {
  return document.getElementById(id);
}

function tileFor(camera) {
  let t = tiles.get(camera);
  if (t) return t;
  const el = $('camera-tile').content.firstElementChild.cloneNode(true);
  el.dataset.camera = camera;
  el.querySelector('.camera').textContent = camera;
  const canvas = el.querySelector('canvas.latest');
  const defectCanvas = el.querySelector('.last-defect canvas');
  t = { el, canvas, ctx: canvas.getContext('2d'), defectCanvas, defectCtx: defectCanvas.getContext('2d'), pending: null, loading: false };
  tiles.set(camera, t);
  $('waiting')?.remove();
  // Keep tiles in camera order.
  const after = [...tiles.keys()].sort().filter((c) => c > camera).map((c) => tiles.get(c).el).find((e) => e.isConnected);
  $('cameras').insertBefore(el, after ?? null);
  return t;
}

function onResult(r, listed = false) {
  state.results++;
  const model = `${r.model_name} ${r.model_version}`;
  if (model !== state.model) {
    state.model = model;
    $('model').textContent = model;
  }
  if (!listed) addRecent(r);
  const t = tileFor(r.camera_id);
  t.pending = r;
  if (!t.loading) void renderLatest(t);
}

async function renderLatest(t) {
  t.loading = true;
  while (t.pending) {
    const r = t.pending;
    t.pending = null;
    let img = null;
    if (r.image_url) {
      img = new Image();
      img.src = r.image_url;
      try {
        await img.decode();
      } catch {
        img = null; // gone from the server's memory, or never arrived: boxes on a blank frame
      }
    }
    draw(t, r, img);
    if (r.verdict === 'DEFECT') {
      paint(t.defectCanvas, t.defectCtx, r, img);
      t.el.dataset.lastDefectFrameId = r.frame_id;
      t.el.querySelector('.last-defect-info').textContent = `${new Date(r.captured_at).toLocaleTimeString([], { hour12: false })} · ${r.boxes.length} box${r.boxes.length === 1 ? '' : 'es'} · ${r.frame_id}`;
    }
  }
  t.loading = false;
}

function draw(t, r, img) {
  paint(t.canvas, t.ctx, r, img);
  const el = t.el;
  el.dataset.verdict = r.verdict;
  el.dataset.frameId = r.frame_id;
  el.dataset.boxCount = String(r.boxes.length);
  el.dataset.imageKind = img ? r.image_kind : 'none';
  el.querySelector('.verdict').textContent = r.verdict;
  el.querySelector('.probability').textContent = `p(defect) ${r.defect_probability.toFixed(3)}`;
  el.querySelector('.boxes').textContent = `${r.boxes.length} box${r.boxes.length === 1 ? '' : 'es'}`;
  el.querySelector('.latency').textContent = `capture → verdict ${Math.round(r.inspected_at - r.captured_at)} ms (model ${r.latency_ms.toFixed(0)} ms)`;
  el.querySelector('.frame-id').textContent = r.frame_id;
  state.rendered++;
}

/** The picture (or a blank), the boxes with class and score, and the heatmap's peak. */
function paint(canvas, ctx, r, img) {
  const w = img ? img.naturalWidth : r.width || 640;
  const h = img ? img.naturalHeight : r.height || 640;
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  if (img) ctx.drawImage(img, 0, 0);
  else {
    ctx.fillStyle = '#22272e';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#8a94a3';
    ctx.font = `${Math.round(h / 24)}px system-ui, sans-serif`;
    ctx.fillText('no picture for this frame', Math.round(w / 20), Math.round(h / 12));
  }
  const line = Math.max(2, Math.round(w / 213));
  const font = Math.max(11, Math.round(w / 40));
  ctx.lineWidth = line;
  ctx.font = `bold ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  for (const b of r.boxes) {
    const color = classColor(b.defect_class);
    ctx.strokeStyle = color;
    ctx.strokeRect(b.x, b.y, b.width, b.height);
    const label = `${b.defect_class ?? 'defect'} ${b.score.toFixed(2)}`;
    const lw = ctx.measureText(label).width + 6;
    const ly = b.y - line >= font + 2 ? b.y - line : b.y + b.height + font + 4;
    ctx.fillStyle = color;
    ctx.fillRect(b.x - line / 2, ly - font - 2, lw, font + 4);
    ctx.fillStyle = '#000';
    ctx.fillText(label, b.x + 3 - line / 2, ly + 1);
  }
  if (r.heatmap_peak) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = Math.max(1, line - 1);
    ctx.beginPath();
    ctx.arc(r.heatmap_peak.x, r.heatmap_peak.y, font * 0.8, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

function addRecent(r) {
  const li = document.createElement('li');
  li.className = r.verdict;
  const time = new Date(r.captured_at).toLocaleTimeString([], { hour12: false });
  for (const [cls, text] of [['t', time], ['c', r.camera_id], ['v', r.verdict], ['b', `${r.defect_probability.toFixed(2)} · ${r.boxes.length} box${r.boxes.length === 1 ? '' : 'es'}`]]) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    li.append(span);
  }
  const list = $('recent');
  list.prepend(li);
  while (list.children.length > RECENT_MAX) list.lastElementChild.remove();
}

function onStats(s) {
  $('stat-fps').textContent = s.fps.toFixed(1);
  $('stat-defect-rate').textContent = s.defect_rate === null ? '–' : `${(100 * s.defect_rate).toFixed(1)} %`;
  $('stat-inspected').textContent = `${s.inspected} (${s.defects} defective)`;
  $('stat-latency').textContent = s.latency_ms.p50 === null ? '–' : `${Math.round(s.latency_ms.p50)} / ${Math.round(s.latency_ms.p99)} ms`;
  $('stat-total').textContent = `${s.total} (${s.total_defects} defective)`;
  for (const [camera, c] of Object.entries(s.cameras)) {
    const t = tiles.get(camera);
    if (t) t.el.querySelector('.fps').textContent = `${c.fps.toFixed(1)} fps`;
  }
}

function connect() {
  const status = $('connection');
  const events = new EventSource('/events');
  events.onopen = () => {
    status.textContent = 'live';
    status.className = 'connection up';
  };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'connection down';
  };
  events.addEventListener('hello', (e) => {
    const hello = JSON.parse(e.data);
    // Reconnected: start the list again from the server's memory.
    $('recent').replaceChildren();
    for (const r of hello.recent) addRecent(r);
    for (const r of hello.latest) onResult(r, true);
    onStats(hello.stats);
  });
  events.addEventListener('result', (e) => onResult(JSON.parse(e.data)));
  events.addEventListener('stats', (e) => onStats(JSON.parse(e.data)));
}

window.streamscoreLiveView = { classColor, state };
connect();
