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

async function api(path, options = {}) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || res.statusText);
  return body;
}

function runningStage(job) {
  return (job.stages || []).filter((s) => s.state === "processing").map((s) => s.name);
}

function stageFraction(job, stage) {
  const p = progress.get(job.id + "/" + stage);
  return p ? p.progress : 0;
}

function jobFraction(job) {
  const stages = job.stages || [];
  if (!stages.length) return 0;
  let done = 0;
  for (const s of stages) done += s.state === "completed" ? 1 : s.state === "processing" ? stageFraction(job, s.name) : 0;
  return done / stages.length;
}

function badgeText(job) {
  if (job.state === "completed") return "ready";
  return job.state;
}

function renderJobs() {
  const filter = $("#state-filter").value;
  const body = $("#jobs tbody");
  body.textContent = "";
  const list = [...jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
  for (const job of list) {
    if (filter && job.state !== filter) continue;
    const tr = document.createElement("tr");
    tr.className = "job";
    tr.tabIndex = 0;
    tr.dataset.id = job.id;
    const running = runningStage(job);
    const stageP = running.length ? progress.get(job.id + "/" + running[0]) : null;
    tr.innerHTML = `<td></td><td><span class="badge ${job.state}"></span></td><td></td>
      <td><progress max="1"></progress><div class="eta"></div></td><td></td>`;
    tr.children[0].textContent = job.sessionName || job.sessionId;
    tr.children[1].firstChild.textContent = badgeText(job);
    tr.children[2].textContent = running.join(" + ") || (job.state === "failed" ? job.error : "");
    tr.querySelector("progress").value = jobFraction(job);
    tr.querySelector(".eta").textContent = Math.round(jobFraction(job) * 100) + "%" + (stageP ? eta(stageP.etaMs) : "");
    const actions = tr.children[4];
    const button = (label, fn) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.addEventListener("click", (e) => { e.stopPropagation(); fn().catch((err) => alert(err.message)); });
      actions.appendChild(b);
    };
    if (job.state === "pending" || job.state === "processing") button("Cancel", () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }).then(update));
    if (job.state === "failed" || job.state === "cancelled") button("Retry", () => api(`/api/jobs/${job.id}/retry`, { method: "POST" }).then(update));
    if (job.state !== "pending" && job.state !== "processing") button("Remove", () => api(`/api/jobs/${job.id}`, { method: "DELETE" }).then(() => { jobs.delete(job.id); renderJobs(); }));
    tr.addEventListener("click", () => openSession(job.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") openSession(job.id); });
    body.appendChild(tr);
  }
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
  selected = id;
  history.replaceState(null, "", "#job=" + id);
  $("#session-view").hidden = false;
  $("#player-area").hidden = true;
  $("#player").removeAttribute("src");
  renderSession(jobs.get(id));
}

function renderSession(job) {
  if (!job) return;
  $("#session-title").textContent = job.sessionName || job.sessionId;
  const badge = $("#session-badge");
  badge.className = "badge " + badgeText(job);
  badge.textContent = badgeText(job);
  $("#session-error").textContent = job.state === "failed" ? job.error : "";
  const retry = $("#session-retry");
  retry.hidden = job.state !== "failed";
  retry.onclick = () => api(`/api/jobs/${job.id}/retry`, { method: "POST" }).then(update);
  const stages = $("#stages");
  stages.textContent = "";
  for (const s of job.stages || []) {
    const li = document.createElement("li");
    const p = progress.get(job.id + "/" + s.name);
    const fraction = s.state === "completed" ? 1 : s.state === "processing" && p ? p.progress : 0;
    li.innerHTML = `<strong></strong> <span class="badge ${s.state}"></span> <progress max="1"></progress> <span class="eta"></span>`;
    li.querySelector("strong").textContent = s.name;
    li.querySelector(".badge").textContent = s.state;
    li.querySelector("progress").value = fraction;
    li.querySelector(".eta").textContent = Math.round(fraction * 100) + "%" + (s.state === "processing" && p ? eta(p.etaMs) : "");
    stages.appendChild(li);
  }
  // The player opens by itself once the playable file exists.
  if (job.output && $("#player-area").hidden) showPlayer(job);
  else if (job.state === "completed") loadEnrichment(job);
}

function showPlayer(job) {
  $("#player-area").hidden = false;
  const name = job.output.split("/").pop();
  $("#player").src = `/api/sessions/${encodeURIComponent(job.sessionId)}/media/${name}`;
  loadEnrichment(job);
}

function seek(ms) {
  const v = $("#player");
  v.currentTime = ms / 1000;
  v.play().catch(() => {});
}

let enrichmentFor = null;
async function loadEnrichment(job) {
  if (enrichmentFor === job.id + job.updatedAt) return;
  enrichmentFor = job.id + job.updatedAt;
  const session = await api(`/api/sessions/${encodeURIComponent(job.sessionId)}`).catch(() => null);
  const e = (session && session.enrichment) || {};
  const chapters = (e.summary && e.summary.chapters) || (e.chapters && e.chapters.chapters) || [];
  const list = $("#chapters");
  list.textContent = "";
  const markers = $("#chapter-markers");
  markers.textContent = "";
  const duration = (e.summary && e.summary.durationMs) || 0;
  for (const c of chapters) {
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.innerHTML = `<span class="time"></span><span></span>`;
    li.firstChild.textContent = clock(c.startMs);
    li.lastChild.textContent = c.title || "Chapter " + c.index;
    li.addEventListener("click", () => seek(c.startMs));
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") seek(c.startMs); });
    list.appendChild(li);
    if (duration) {
      const m = document.createElement("span");
      m.style.left = (100 * c.startMs / duration) + "%";
      markers.appendChild(m);
    }
  }
  const transcript = $("#transcript");
  transcript.textContent = "";
  for (const u of (e.transcript && e.transcript.utterances) || []) {
    const li = document.createElement("li");
    li.tabIndex = 0;
    li.dataset.start = u.startMs;
    li.dataset.end = u.endMs;
    li.innerHTML = `<span class="time"></span><span></span>`;
    li.firstChild.textContent = clock(u.startMs);
    li.lastChild.textContent = u.text;
    li.addEventListener("click", () => seek(u.startMs));
    li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") seek(u.startMs); });
    transcript.appendChild(li);
  }
  $("#summary").textContent = (e.summary && e.summary.text) || "";
  const canvas = $("#canvas");
  if (e.canvas && e.canvas.image) {
    canvas.src = `/api/sessions/${encodeURIComponent(job.sessionId)}/canvas?v=${job.updatedAt}`;
    canvas.hidden = false;
  } else {
    canvas.hidden = true;
  }
}

// The transcript follows playback.
$("#player").addEventListener("timeupdate", () => {
  const ms = $("#player").currentTime * 1000;
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
  events.addEventListener("progress", (msg) => {
    const e = JSON.parse(msg.data);
    progress.set(e.jobId + "/" + e.stage, { progress: e.progress, etaMs: e.etaMs ?? -1 });
    renderJobs();
    if (e.jobId === selected) renderSession(jobs.get(e.jobId));
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
  loadJobs()
    .then(() => {
      const m = location.hash.match(/job=([A-Za-z0-9_-]+)/);
      if (m && jobs.has(m[1])) openSession(m[1]);
    })
    .catch(() => {});
} else {
  connect();
}
