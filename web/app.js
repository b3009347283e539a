// The coordinator's console: sign in, then a live board of active incidents over /ws/console
// (a snapshot on connect, then deltas; it reconnects by itself and starts again from a fresh
// snapshot). No build step: a module the broker serves as is.

const words = {
  fr: {
    language: "Langue", sign_in: "Connexion", user: "Utilisateur", password: "Mot de passe",
    logout: "Se déconnecter", approvals: "Approbations en attente", active: "Incidents actifs",
    none: "Aucun incident actif.", ack: "Accuser réception", resolve: "Résoudre",
    approve: "Approuver", reject: "Rejeter", acknowledged: "reçu par", live: "RÉEL",
    exercise: "EXERCICE", connected: "En direct", reconnecting: "Connexion perdue, reconnexion…",
    wrong: "Utilisateur ou mot de passe incorrect.", limited: "Trop d'essais : réessayez plus tard.",
    run: "déroulement", step: "étape", due: "échéance", reach: "portée",
    severity: { extreme: "EXTRÊME", severe: "GRAVE", moderate: "MODÉRÉE", minor: "MINEURE", unknown: "INCONNUE" },
    signed_in: (id, role) => `${id} (${role})`, updates: (n) => `${n} mise(s) à jour`,
    cancel_alert: "Annuler l'alerte publique", correct_alert: "Corriger",
    cancellation: "annulation", correction: "correction", correction_text: "Texte de la correction :",
    report: "Signaler un incident", type: "Type", severity_label: "Gravité", zone: "Zone",
    headline: "Titre", is_exercise: "Exercice (pas un incident réel)", send_report: "Signaler",
  },
  en: {
    language: "Language", sign_in: "Sign in", user: "User", password: "Password",
    logout: "Sign out", approvals: "Pending approvals", active: "Active incidents",
    none: "No active incident.", ack: "Acknowledge", resolve: "Resolve",
    approve: "Approve", reject: "Reject", acknowledged: "acknowledged by", live: "LIVE",
    exercise: "EXERCISE", connected: "Live", reconnecting: "Connection lost, reconnecting…",
    wrong: "Wrong user name or password.", limited: "Too many attempts: try again later.",
    run: "run", step: "step", due: "due", reach: "reach",
    severity: { extreme: "EXTREME", severe: "SEVERE", moderate: "MODERATE", minor: "MINOR", unknown: "UNKNOWN" },
    signed_in: (id, role) => `${id} (${role})`, updates: (n) => `${n} update(s)`,
    cancel_alert: "Cancel the public alert", correct_alert: "Correct",
    cancellation: "cancellation", correction: "correction", correction_text: "Correction text:",
    report: "Report an incident", type: "Type", severity_label: "Severity", zone: "Zone",
    headline: "Headline", is_exercise: "Exercise (not a real incident)", send_report: "Report",
  },
};
const symbols = { extreme: "▲▲▲▲", severe: "▲▲▲", moderate: "▲▲", minor: "▲", unknown: "?" };
const order = { extreme: 4, severe: 3, moderate: 2, minor: 1, unknown: 0 };

const state = {
  language: localStorage.getItem("tocsin.language") ||
    ((navigator.language || "fr").slice(0, 2) === "en" ? "en" : "fr"),
  me: null, csrf: "", incidents: new Map(), approvals: [], seq: 0, socket: null, retry: 1000,
};
const $ = (id) => document.getElementById(id);
const t = (key) => words[state.language][key];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined,
                                credentials: "same-origin" });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(data.error ? data.error.message : r.statusText),
                                 { status: r.status });
  return data;
}

function translate() {
  document.documentElement.lang = state.language;
  $("language").value = state.language;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  if (state.me) $("who").textContent = t("signed_in")(state.me.id, state.me.role);
  render();
}

function time(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(state.language === "fr" ? "fr-CA" : "en-CA",
                                      { dateStyle: "short", timeStyle: "medium" });
}

function incidentItem(i) {
  const sev = i.severity || "unknown";
  const exercise = i.status && i.status !== "actual";
  const li = el("li", { class: "incident", "data-severity": sev, "data-id": i.id, tabindex: "-1" });
  li.append(el("h3", {},
    el("span", { class: "severity", text: `${symbols[sev]} ${t("severity")[sev]}` }),
    el("span", { text: ` ${i.headline || i.type}` }),
    el("span", { class: `badge ${exercise ? "exercise" : "live"}`,
                 text: exercise ? `${t("exercise")} (${i.status})` : t("live") })));
  const zone = i.location && i.location.zone ? i.location.zone : "";
  li.append(el("p", { class: "meta", text:
    `${i.type} · ${i.source}${zone ? " · " + zone : ""} · ${time(i.created_at)} · ${t("updates")(i.updates || 0)}` +
    (i.acknowledged_by ? ` · ${t("acknowledged")} ${i.acknowledged_by}` : "") }));
  for (const run of i.runs || [])
    li.append(el("p", { class: "runs", text:
      `${t("run")} ${run.playbook}: ${run.status}, ${t("step")} ${run.step}` +
      (run.due_at ? `, ${t("due")} ${time(run.due_at)}` : "") }));
  const followed = new Set((i.alerts || []).filter((a) => a.follow_up_of && a.template !== "public-update")
                                            .map((a) => a.follow_up_of));
  for (const a of i.alerts || []) {
    const c = a.delivery_counts || {};
    const label = a.follow_up_of ? (a.template === "public-update" ? t("correction") : t("cancellation"))
                                 : a.kind;
    const total = Object.values(c).reduce((s, n) => s + n, 0);
    const done = (c.sent || 0) + (c.delivered || 0);
    const p = el("p", { class: "deliveries" },
      el("span", { text: `${label}${a.public ? " (public)" : ""} ${(a.channels || []).join(", ")}: ` }),
      el("progress", { max: String(total || 1), value: String(done),
                       "aria-label": `${done}/${total}` }),
      el("span", { text: ` ${done}/${total}` + (c.failed ? ` · ✗ ${c.failed}` : "") +
                         (a.status === "blocked" ? " · BLOCKED" : "") }));
    // One action reaches every channel the public alert went to (sirens: the all-clear).
    if (a.public && !a.follow_up_of && a.status === "dispatched" && !followed.has(a.id) &&
        state.me && state.me.scopes.includes("operate")) {
      p.append(el("button", { type: "button", class: "cancel-alert", text: t("cancel_alert"),
                              onclick: () => followUp(a.id, "cancel") }));
      if (a.kind !== "siren")
        p.append(el("button", { type: "button", class: "correct-alert", text: t("correct_alert"),
                                onclick: () => followUp(a.id, "correct") }));
    }
    li.append(p);
  }
  const actions = el("p", { class: "actions" });
  if (!i.acknowledged_at && state.me && state.me.scopes.includes("operate"))
    actions.append(el("button", { type: "button", class: "ack", text: t("ack"),
                                  onclick: () => act(i.id, "ack") }));
  if (state.me && state.me.scopes.includes("operate"))
    actions.append(el("button", { type: "button", class: "resolve", text: t("resolve"),
                                  onclick: () => act(i.id, "resolve") }));
  li.append(actions);
  return li;
}

function render() {
  const list = [...state.incidents.values()].filter((i) => i.state === "active");
  list.sort((a, b) => (order[b.severity] || 0) - (order[a.severity] || 0) ||
                      String(b.created_at).localeCompare(String(a.created_at)));
  $("incidents").replaceChildren(...list.map(incidentItem));
  $("empty").hidden = list.length > 0;
  $("approvals").replaceChildren(...state.approvals.map((a) => {
    const reach = (a.preview || []).map((r) => Object.entries(r.recipients)
      .map(([c, n]) => `${c} ${n}`).join(", ") + ((r.problems || []).length ? ` ⚠ ${r.problems.join("; ")}` : ""))
      .join(" | ");
    const mine = state.me && state.me.scopes.includes("approve");
    return el("li", { "data-id": a.id },
      el("span", { text: `${a.playbook} · ${t("step")} ${a.step} · ${a.role} · ${t("reach")}: ${reach} ` }),
      mine && el("button", { type: "button", class: "approve", text: t("approve"), onclick: () => vote(a.id, "approve") }),
      mine && el("button", { type: "button", class: "reject", text: t("reject"), onclick: () => vote(a.id, "reject") }));
  }));
}

function say(text) { $("message").textContent = text || ""; }

async function act(id, verb) {
  try { await api("POST", `/api/v1/incidents/${id}/${verb}`, {}); say(""); }
  catch (e) { say(e.message); }
}

async function followUp(id, verb) {
  let note = "";
  if (verb === "correct") {
    note = window.prompt(t("correction_text")) || "";
    if (!note) return;
  }
  try { await api("POST", `/api/v1/alerts/${id}/${verb}`, { note }); say(""); }
  catch (e) { say(e.message); }
}

async function vote(id, verb) {
  try { await api("POST", `/api/v1/approvals/${id}/${verb}`, {}); say(""); await refreshApprovals(); }
  catch (e) { say(e.message); }
}

async function refreshIncident(id) {
  try {
    const data = await api("GET", `/api/v1/incidents/${id}`);
    state.incidents.set(id, data);
  } catch (e) { if (e.status === 404) state.incidents.delete(id); }
  render();
}

async function refreshApprovals() {
  try { state.approvals = (await api("GET", "/api/v1/approvals?state=pending")).approvals; }
  catch (e) { /* shown at the next snapshot */ }
  render();
}

let pending = new Set(), timer = null;
function soon(id) {  // several deltas of one incident in a burst: one fetch
  pending.add(id);
  if (timer) return;
  timer = setTimeout(() => {
    const ids = [...pending]; pending = new Set(); timer = null;
    ids.forEach(refreshIncident);
    refreshApprovals();
  }, 150);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/console`);
  state.socket = ws;
  ws.onopen = () => { state.retry = 1000; $("link").textContent = t("connected"); $("link").className = ""; };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "snapshot") {
      state.incidents = new Map(msg.incidents.map((i) => [i.id, i]));
      state.approvals = msg.approvals;
      state.seq = msg.seq;
      document.body.dataset.seq = String(state.seq);
      render();
    } else if (msg.type === "incident") {
      state.seq = msg.seq;
      const old = state.incidents.get(msg.incident.id) || {};
      state.incidents.set(msg.incident.id, { ...old, ...msg.incident });
      render();
      soon(msg.incident.id);  // its runs and alerts
    } else if (msg.type === "deliveries") {
      state.seq = msg.seq;
      const known = new Set();
      for (const i of state.incidents.values())
        for (const a of i.alerts || [])
          if (msg.alert_ids.includes(a.id)) { known.add(a.id); soon(i.id); }
      // A new alert (a run moved on): find its incident.
      for (const id of msg.alert_ids.filter((a) => !known.has(a)))
        api("GET", `/api/v1/alerts/${id}`).then((r) => soon(r.alert.incident_id)).catch(() => {});
    }
  };
  ws.onclose = () => {
    if (!state.me) return;
    $("link").textContent = t("reconnecting");
    $("link").className = "down";
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  };
}

async function start() {
  try {
    const me = await api("GET", "/api/v1/session");
    signedIn(me, me.csrf_token);
  } catch (e) {
    $("login").hidden = false;
    $("login").querySelector("input").focus();
  }
}

function signedIn(me, csrf) {
  state.me = me; state.csrf = csrf;
  if (!localStorage.getItem("tocsin.language") && me.language) state.language = me.language;
  $("login").hidden = true;
  $("board").hidden = false;
  $("report").hidden = !me.scopes.includes("ingest");
  $("who").hidden = false;
  $("logout").hidden = false;
  translate();
  connect();
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    const me = await api("POST", "/api/v1/login", { user: form.get("user"), password: form.get("password") });
    $("login-error").textContent = "";
    signedIn(me, me.csrf_token);
  } catch (err) {
    $("login-error").textContent = err.status === 429 ? t("limited") : t("wrong");
  }
});

$("report").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await api("POST", "/api/v1/incidents", {
      source: state.me.id, type: f.get("type"), severity: f.get("severity"),
      headline: f.get("headline"), location: { zone: f.get("zone") },
      status: f.get("exercise") ? "exercise" : "actual",
    });
    e.target.reset();
    say("");
  } catch (err) { say(err.message); }
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/v1/logout", {}); } catch (e) { /* gone already */ }
  state.me = null;
  if (state.socket) state.socket.close();
  location.reload();
});

$("language").addEventListener("change", (e) => {
  state.language = e.target.value;
  localStorage.setItem("tocsin.language", state.language);
  translate();
});

translate();
start();
