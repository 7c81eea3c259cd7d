// postroll dashboard: jobs live over the node's event stream, a session view
// with each stage's progress, and a player with chapters and transcript.
// Plain JavaScript, no build step, no network access beyond the node.
"use strict";

const $ = (sel) => document.querySelector(sel);
const jobs = new Map();        // id -> job record
const progress = new Map();    // "job/stage" -> {progress, etaMs}
let selected = null;           // job id shown in the session view

const clock = (ms) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return (m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") : m) + ":" + String(s % 60).padStart(2, "0");
};
const eta = (ms) => (ms >= 0 ? " · " + Math.ceil(ms / 1000) + " s left" : "");
const sessionUrl = (job) => `/api/sessions/${encodeURIComponent(job.sessionId)}`;

async function api(path, options = {}) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || res.statusText);
  return body;
}

function runningStages(job) {
  return (job.stages || []).filter((s) => s.state === "processing").map((s) => s.name);
}

function stageFraction(job, s) {
  if (s.state === "completed") return 1;
  const p = progress.get(job.id + "/" + s.name);
  return s.state === "processing" && p ? p.progress : 0;
}

function jobFraction(job) {
  const stages = job.stages || [];
  if (job.state === "completed") return 1;
  if (!stages.length) return 0;
  return stages.reduce((sum, s) => sum + stageFraction(job, s), 0) / stages.length;
}

// The status badge: processing / ready / failed (and the quieter states).
function badgeText(job) {
  if (job.live) return "recording";
  if (job.state === "completed") return "ready";
  if (job.state === "pending" && job.waiting) return "waiting";
  return job.state;
}

function badgeClass(job) {
  if (job.live) return "recording";
  return job.state === "completed" ? "ready" : job.state;
}

// -- jobs panel ----------------------------------------------------------------
// Rows are kept and updated in place (progress ticks ten times a second):
// focus, hover and a half-made click survive an update.

const rows = new Map();  // job id -> <tr>

function makeRow(job) {
  const tr = document.createElement("tr");
  tr.className = "job";
  tr.tabIndex = 0;
  tr.dataset.id = job.id;
  tr.innerHTML = `<td><div class="name"></div><div class="stage"></div></td><td><span class="badge"></span></td>
    <td><progress max="1" aria-label="progress"></progress><div class="eta"></div></td><td class="actions"></td>`;
  tr.addEventListener("click", () => openSession(job.id));
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === tr) openSession(job.id); });
  return tr;
}

function fillActions(cell, job) {
  cell.textContent = "";
  const button = (label, fn) => {
    const b = document.createElement("button");
    b.textContent = label;
    b.addEventListener("click", (e) => { e.stopPropagation(); fn().catch((err) => alert(err.message)); });
    cell.appendChild(b);
  };
  if (job.state === "pending" || job.state === "processing") button("Cancel", () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }).then(update));
  if (job.state === "failed" || job.state === "cancelled") button("Retry", () => api(`/api/jobs/${job.id}/retry`, { method: "POST" }).then(update));
  if (job.state !== "pending" && job.state !== "processing")
    button("Remove", () => api(`/api/jobs/${job.id}`, { method: "DELETE" }).then(() => { jobs.delete(job.id); renderJobs(); }));
}

function renderRow(tr, job) {
  tr.querySelector(".name").textContent = job.sessionName || job.sessionId;
  const badge = tr.querySelector(".badge");
  badge.className = "badge " + badgeClass(job);
  badge.textContent = badgeText(job);
  const running = runningStages(job);
  const stage = tr.querySelector(".stage");
  // Which node runs each stage (a coordinator's worker nodes).
  const where = (job.stages || []).filter((s) => s.state === "processing")
    .map((s) => s.name + (s.node ? " on " + s.node : ""));
  stage.textContent = where.join(" + ") || (job.state === "failed" ? job.error : job.state === "pending" ? job.waiting || "" : "");
  // A recording being made: no bar (nothing to measure yet), but what has
  // arrived and how far the live work is, where the percentage goes.
  const liveNote = job.live ? (progress.get(job.id + "/live.record") || {}).note || "recording" : "";
  if (job.live) stage.textContent = "";
  stage.title = stage.textContent;
  tr.querySelector("progress").hidden = job.live;
  const fraction = jobFraction(job);
  tr.querySelector("progress").value = fraction;
  const p = running.length ? progress.get(job.id + "/" + running[0]) : null;
  tr.querySelector(".eta").textContent = job.live ? liveNote : Math.round(fraction * 100) + "%" + (p ? eta(p.etaMs) : "");
  if (tr.dataset.state !== job.state) {
    tr.dataset.state = job.state;
    fillActions(tr.querySelector(".actions"), job);
  }
}

function renderJobs() {
  const filter = $("#state-filter").value;
  const body = $("#jobs tbody");
  const list = [...jobs.values()].filter((j) => !filter || j.state === filter).sort((a, b) => b.createdAt - a.createdAt);
  const shown = new Set(list.map((j) => j.id));
  for (const [id, tr] of rows)
    if (!shown.has(id)) { tr.remove(); rows.delete(id); }
  list.forEach((job, i) => {
    let tr = rows.get(job.id);
    if (!tr) { tr = makeRow(job); rows.set(job.id, tr); }
    renderRow(tr, job);
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  $("#no-jobs").hidden = jobs.size > 0;
}

async function refreshCounts() {
  const page = await api("/api/jobs?limit=1");
  $("#counts").textContent = Object.entries(page.counts).map(([k, v]) => `${v} ${k}`).join(" · ");
}

function update(job) {
  jobs.set(job.id, job);
  renderJobs();
  if (job.id === selected) renderSession(job);
}

async function loadJobs() {
  const page = await api("/api/jobs?limit=200");
  jobs.clear();
  for (const j of page.jobs) jobs.set(j.id, j);
  renderJobs();
  refreshCounts();
}

// -- session view ------------------------------------------------------------

async function openSession(id) {
  if (selected !== id) player.reset();
  selected = id;
  history.replaceState(null, "", location.search + "#job=" + id);
  $("#session-view").hidden = false;
  $("#stages").textContent = "";
  renderSession(jobs.get(id));
  $("#session-title").focus();
}

function renderStages(job) {
  const list = $("#stages");
  for (const s of job.stages || []) {
    let li = list.querySelector(`li[data-stage="${s.name}"]`);
    if (!li) {
      li = document.createElement("li");
      li.dataset.stage = s.name;
      li.innerHTML = `<strong></strong> <span class="badge"></span> <progress max="1"></progress> <span class="eta"></span>
        <span class="stage-error error"></span>`;
      li.querySelector("strong").textContent = s.name;
      list.appendChild(li);
    }
    const p = progress.get(job.id + "/" + s.name);
    const fraction = stageFraction(job, s);
    // A compression that did not happen says so (the playable file stays).
    const r = s.result || {};
    const skipped = s.state === "completed" && s.name === "media.compress" && r.replaced === false && !r.compressedByMerge && r.reason;
    li.querySelector(".badge").className = "badge " + (skipped ? "skipped" : s.state);
    li.querySelector(".badge").textContent = skipped ? "not compressed" : s.state;
    li.title = skipped ? "not compressed: " + r.reason : "";
    li.querySelector("progress").value = fraction;
    li.querySelector(".eta").textContent = (s.name === "live.record" && s.state === "processing" ? (p && p.note) || "recording"
      : Math.round(fraction * 100) + "%" + (s.state === "processing" && p ? eta(p.etaMs) : "")) + (s.node ? " · " + s.node : "");
    // An attempt's error while it retries (the job's own error is shown above).
    li.querySelector(".stage-error").textContent = skipped ? r.reason :
      s.error && s.state !== "completed" && !(job.error || "").includes(s.error) ? "last attempt: " + s.error : "";
  }
}

// The nodes serving the queue (scale-out): load, results, encoder. A
// standalone node is one row.
async function loadNodes() {
  const { nodes } = await api("/api/nodes");
  const body = $("#nodes tbody");
  body.replaceChildren();
  for (const n of nodes) {
    const tr = document.createElement("tr");
    for (const text of [n.id + (n.local ? " (coordinator)" : ""), `${n.running}/${n.slots}`,
                        `${n.completed} / ${n.failed}`,
                        (n.encoders[0] || "none") + (n.hardwareEncoder ? " (hardware)" : "")]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.title = (n.leases || []).join("\n");
    body.appendChild(tr);
  }
}

function renderSession(job) {
  if (!job) return;
  $("#session-title").textContent = job.sessionName || job.sessionId;
  const badge = $("#session-badge");
  badge.className = "badge " + badgeClass(job);
  badge.textContent = badgeText(job);
  $("#session-error").textContent = job.state === "failed" ? job.error : job.state === "pending" ? job.waiting || "" : "";
  const retry = $("#session-retry");
  retry.hidden = job.state !== "failed" && job.state !== "cancelled";
  retry.onclick = () => api(`/api/jobs/${job.id}/retry`, { method: "POST" }).then(update);
  renderStages(job);
  // The player opens by itself: the merged file once it exists, the
  // recording's own files until then (nobody waits for processing).
  if (job.output) player.showMerged(job);
  else player.showOriginal(job);
  if (job.state === "completed") loadEnrichment(job);
}

// -- player ------------------------------------------------------------------
// "merged": the session's MP4 through the Range endpoint.
// "original": the recording's video, with its audio segments decoded and
// scheduled by Web Audio at their offsets on the video's clock.

const player = {
  mode: null,
  job: null,
  ctx: null,
  segments: [],        // {name, offsetMs, url, buffer, failed}
  sources: [],         // scheduled AudioBufferSourceNodes
  videoOffsetMs: 0,
  video: () => $("#player"),

  reset() {
    this.stopAudio();
    this.mode = null;
    this.job = null;
    this.segments = [];
    enrichmentFor = null;
    for (const id of ["#chapters", "#transcript", "#chapter-markers", "#summary"]) $(id).textContent = "";
    $("#canvas").hidden = true;
    $("#overview-title").hidden = true;
    $("#player-note").textContent = "";
    $("#player-area").hidden = true;
    this.video().removeAttribute("src");
    this.video().load();
    this.publish();
  },

  // Test and host hooks read these: what plays and how much is scheduled.
  publish() {
    const area = $("#player-area");
    area.dataset.mode = this.mode || "";
    area.dataset.scheduled = String(this.sources.length);
    area.dataset.decoded = String(this.segments.filter((s) => s.buffer).length);
    area.dataset.audio = this.ctx ? this.ctx.state : "none";
  },

  showMerged(job) {
    if (this.mode === "merged" && this.job === job.id) return;
    const v = this.video();
    const resumeAt = this.mode === "original" ? this.timelineMs() : 0;
    const wasPlaying = this.mode === "original" && !v.paused;
    this.stopAudio();
    this.mode = "merged";
    this.job = job.id;
    $("#player-area").hidden = false;
    $("#player-note").textContent = "";
    v.src = `${sessionUrl(job)}/media/${job.output.split("/").pop()}`;
    if (resumeAt > 0 || wasPlaying) {
      v.addEventListener("loadedmetadata", () => {
        v.currentTime = resumeAt / 1000;
        if (wasPlaying) v.play().catch(() => {});
      }, { once: true });
    }
    this.publish();
  },

  async showOriginal(job) {
    if (this.job === job.id) return;
    this.mode = "original";
    this.job = job.id;
    this.publish();
    const session = await api(sessionUrl(job)).catch((e) => ({ manifestError: e.message }));
    if (this.job !== job.id || this.mode !== "original") return;
    const m = session.manifest;
    if (!m) {
      $("#player-note").textContent = "The recording cannot be played: " + (session.manifestError || "no manifest");
      return;
    }
    const video = m.video.find((f) => f.url);
    this.videoOffsetMs = video ? video.offsetMs : 0;
    this.segments = m.audio.filter((a) => a.url).map((a) => ({ name: a.path, offsetMs: a.offsetMs, url: a.url, buffer: null, failed: false }));
    $("#player-area").hidden = false;
    $("#player-note").textContent = "Not processed yet: playing the recording's own files (" + this.segments.length + " audio segments).";
    if (video) this.video().src = video.url;
    else $("#player-note").textContent = "This recording has no video; its audio is not merged yet.";
    this.publish();
  },

  timelineMs() {
    return this.videoOffsetMs + this.video().currentTime * 1000;
  },

  stopAudio() {
    for (const s of this.sources) { try { s.stop(); } catch (e) { /* already ended */ } }
    this.sources = [];
    this.publish();
  },

  // Decodes what is not decoded yet; each segment is scheduled as soon as
  // it is ready, so a long session starts playing without waiting for all.
  decodeAll() {
    for (const seg of this.segments) {
      if (seg.buffer || seg.failed || seg.decoding) continue;
      seg.decoding = fetch(seg.url)
        .then((r) => r.arrayBuffer())
        .then((data) => this.ctx.decodeAudioData(data))
        .then((buffer) => {
          seg.buffer = buffer;
          if (this.mode === "original" && !this.video().paused) this.scheduleOne(seg, this.timelineMs());
          this.publish();
        })
        .catch(() => {
          seg.failed = true;
          $("#player-note").textContent = `${seg.name} cannot be decoded by this browser; it is silent here.`;
        });
    }
  },

  scheduleOne(seg, atMs) {
    const startMs = seg.offsetMs;
    const endMs = startMs + seg.buffer.duration * 1000;
    if (endMs <= atMs) return;
    const src = this.ctx.createBufferSource();
    src.buffer = seg.buffer;
    src.connect(this.ctx.destination);
    src.start(this.ctx.currentTime + Math.max(0, (startMs - atMs) / 1000), Math.max(0, (atMs - startMs) / 1000));
    src.onended = () => { this.sources = this.sources.filter((s) => s !== src); this.publish(); };
    this.sources.push(src);
  },

  schedule() {
    this.stopAudio();
    if (!this.ctx) this.ctx = new AudioContext();
    this.ctx.resume().then(() => this.publish());
    const at = this.timelineMs();
    for (const seg of this.segments) if (seg.buffer) this.scheduleOne(seg, at);
    this.decodeAll();
    this.publish();
  },
};

player.video().addEventListener("error", () => {
  if (player.mode === "original")
    $("#player-note").textContent = "The recording's video cannot be played here (" +
      ((player.video().error && player.video().error.message) || "unreadable") + "); the job's error says why.";
});
for (const ev of ["playing"]) player.video().addEventListener(ev, () => { if (player.mode === "original") player.schedule(); });
for (const ev of ["pause", "seeking", "waiting", "emptied", "ended"])
  player.video().addEventListener(ev, () => { if (player.mode === "original") player.stopAudio(); });

function seek(ms) {
  const v = player.video();
  v.currentTime = ms / 1000;
  v.play().catch(() => {});
}

function timedList(list, items, text, start) {
  list.textContent = "";
  for (const item of items) {
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.dataset.start = start(item);
    if (item.endMs !== undefined) li.dataset.end = item.endMs;
    li.innerHTML = `<span class="time"></span><span></span>`;
    li.firstChild.textContent = clock(start(item));
    li.lastChild.textContent = text(item);
    li.addEventListener("click", () => seek(start(item)));
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); seek(start(item)); } });
    list.appendChild(li);
  }
}

let enrichmentFor = null;
async function loadEnrichment(job) {
  if (enrichmentFor === job.id + job.updatedAt) return;
  enrichmentFor = job.id + job.updatedAt;
  const session = await api(sessionUrl(job)).catch(() => null);
  const e = (session && session.enrichment) || {};
  const chapters = (e.summary && e.summary.chapters) || (e.chapters && e.chapters.chapters) || [];
  timedList($("#chapters"), chapters, (c) => c.title || "Chapter " + c.index, (c) => c.startMs);
  const markers = $("#chapter-markers");
  markers.textContent = "";
  const duration = (e.summary && e.summary.durationMs) || 0;
  if (duration)
    for (const c of chapters) {
      const m = document.createElement("span");
      m.style.left = (100 * c.startMs / duration) + "%";
      m.title = c.title || "";
      markers.appendChild(m);
    }
  timedList($("#transcript"), (e.transcript && e.transcript.utterances) || [], (u) => u.text, (u) => u.startMs);
  $("#summary").textContent = (e.summary && e.summary.text) || "";
  $("#overview-title").hidden = !(e.summary || e.canvas);
  const canvas = $("#canvas");
  if (e.canvas && e.canvas.image) {
    canvas.src = `${sessionUrl(job)}/canvas?v=${job.updatedAt}`;
    canvas.hidden = false;
  } else {
    canvas.hidden = true;
  }
}

// The transcript follows playback.
player.video().addEventListener("timeupdate", () => {
  const ms = player.mode === "merged" ? player.video().currentTime * 1000 : player.timelineMs();
  for (const li of document.querySelectorAll("#transcript li")) {
    const on = ms >= +li.dataset.start && ms < +li.dataset.end;
    if (on && !li.classList.contains("current")) li.scrollIntoView({ block: "nearest" });
    li.classList.toggle("current", on);
  }
});

// -- live updates ------------------------------------------------------------

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => {
    $("#connection").textContent = "live";
    $("#connection").className = "badge completed";
    loadJobs()
      .then(() => {
        // A link to one job: #job=<id> opens its session view.
        const m = location.hash.match(/job=([A-Za-z0-9_-]+)/);
        if (m && jobs.has(m[1]) && selected !== m[1]) openSession(m[1]);
      })
      .catch(() => {});
  });
  events.addEventListener("error", () => {
    $("#connection").textContent = "reconnecting…";
    $("#connection").className = "badge pending";
  });
  // A state change: fetch the job's record (the event names it).
  events.addEventListener("transition", (msg) => {
    const t = JSON.parse(msg.data);
    api(`/api/jobs/${t.jobId}`).then(update).catch(() => { jobs.delete(t.jobId); renderJobs(); });
    refreshCounts().catch(() => {});
  });
  // A job held back (disk space, no worker): its record says why.
  events.addEventListener("waiting", (msg) => {
    const e = JSON.parse(msg.data);
    api(`/api/jobs/${e.jobId}`).then(update).catch(() => {});
  });
  events.addEventListener("progress", (msg) => {
    const e = JSON.parse(msg.data);
    progress.set(e.jobId + "/" + e.stage, { progress: e.progress, etaMs: e.etaMs ?? -1, note: e.message || "" });
    const job = jobs.get(e.jobId);
    if (!job) return;
    // A stage the record does not show running yet (the record was
    // fetched before it started): mark it so its bar moves now.
    const s = (job.stages || []).find((x) => x.name === e.stage);
    if (s && s.state === "pending") s.state = "processing";
    const tr = rows.get(job.id);
    if (tr) renderRow(tr, job);
    if (e.jobId === selected) renderStages(job);
  });
}

$("#state-filter").addEventListener("change", renderJobs);
$("#submit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("#submit-error").textContent = "";
  try {
    const job = await api("/api/jobs", { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify({ session: $("#session-path").value }) });
    update(job);
    openSession(job.id);
  } catch (err) {
    $("#submit-error").textContent = err.message;
  }
});

// ?static=1: no live stream (a page that stays loading cannot be captured
// by a headless screenshot); the jobs are fetched once.
if (new URLSearchParams(location.search).has("static")) {
  loadNodes().catch(() => {});
  loadJobs()
    .then(() => {
      const m = location.hash.match(/job=([A-Za-z0-9_-]+)/);
      if (m && jobs.has(m[1])) openSession(m[1]);
    })
    .catch(() => {});
} else {
  connect();
  loadNodes().catch(() => {});
  setInterval(() => loadNodes().catch(() => {}), 5000);
}
