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
    cancellation: "annulation", correction: "correction",
    correct_title: "Corriger l'alerte publique", correction_fr: "Correction en français",
    correction_en: "Correction en anglais", send_correction: "Envoyer la correction",
    correct_about: (what, channels) => `${what} · par ${channels} : chaque canal reçoit la correction, chacun dans sa langue.`,
    corrected: "Correction envoyée.",
    report: "Signaler un incident", type: "Type", severity_label: "Gravité", zone: "Zone",
    headline: "Titre", is_exercise: "Exercice (pas un incident réel)", send_report: "Signaler",
    compose: "Composer une alerte", template: "Modèle", channels: "Canaux", audience: "Destinataires",
    residents: "Résidents des zones choisies (alerte publique)", zones: "Zones (cliquez, ou Espace, sur la carte)",
    expires: "Expire après", sirens: "Sirènes", sound_sirens: "Faire sonner les sirènes des zones",
    send: "Envoyer", close: "Fermer", picked: "Zones choisies", nothing_picked: "aucune zone choisie",
    mode_live: "ALERTE RÉELLE : elle atteindra vraiment la population",
    mode_exercise: (s) => `EXERCICE (${s}) : chaque message le dit`,
    channel: "Canal", french: "Français", english: "English",
    segments: (n, enc, units) => `${n} segment(s) SMS · ${enc === "gsm7" ? "GSM-7" : "UCS-2 (accents)"} · ${units} car.`,
    reach_line: "Portée", sirens_line: "sirènes", held_back: "Exercice : la partie publique ne sera pas envoyée (ses modèles ne marquent pas l'exercice).",
    type_confirm: (w) => `Alerte RÉELLE : tapez ${w} pour confirmer`,
    needs_approval: "Une autre personne devra l'approuver avant l'envoi.",
    composed: (status) => `Alerte composée (${status}).`,
    states: { queued: "en attente", sending: "en cours", sent: "envoyé", delivered: "remis", failed: "échec" },
    audit: "Journal d'audit", audit_note: "Chaque changement, par une personne ou une machine ; chaque ligne porte l'empreinte de la précédente (tocsin audit verify).",
    when: "Quand", actor: "Qui", action: "Action", subject: "Objet", detail: "Détail", older: "Plus anciens",
    confirm_approve: "Approuver l'alerte RÉELLE", by_initiator: "demandé par", siren_panel: "Sirènes par zone", not_polled: "pas encore interrogée", unreachable: "injoignable",
    fault: "défaut", silent: "silencieuse", sounding: "sonne", on_battery: "sur batterie",
    run_status: { running: "en cours", waiting: "en attente", awaiting_approval: "attend une approbation",
                  watching: "surveille", completed: "terminé", cancelled: "annulé", rejected: "rejeté" },
    kinds: { notify: "avis", siren: "sirène", escalation: "escalade" }, blocked: "BLOQUÉE",
    expired: "Session expirée : reconnectez-vous.",
    // What a run did, by name (the server's `what`), in French; the server's own line is English.
    timeline: {
      prefix: (n) => `étape ${n} : `,
      "run.started": (a) => `déroulement lancé pour ${a.type} (${sev(a.severity)})`,
      "run.gathering": (a) => `regroupe les incidents de même ${a.group_by} pendant ${a.wait}`,
      "run.gathered": () => "regroupement terminé : les étapes du groupe commencent",
      "run.completed": () => "déroulement terminé",
      "run.acknowledged": (a) => `reçu par ${a.by}`,
      "run.incident_closed": (a) => `incident ${a.how === "resolved" ? "résolu" : "annulé"} par ${a.by} : déroulement arrêté`,
      "step.skipped": (a) => `${a.kind} sautée (condition ${a.when})`,
      "step.held_back": (a) => `retenue : l'incident est « ${a.status} » et l'étape ne dit pas allow_in_exercise`,
      "step.notify": (a) => `${a.public === "true" ? "avis PUBLIC" : "avis"} à ${a.audience} par ${a.channels} (modèle ${a.template})`,
      "step.siren": (a) => `sirène ${a.pattern} dans ${a.zones} pendant ${a.duration}`,
      "step.wait_skipped": () => "attente sautée : déjà reçu",
      "step.wait": (a) => `attente ${a.duration}${a.until ? ` ou jusqu'à ${a.until === "acknowledged" ? "l'accusé de réception" : a.until}` : ""}`,
      "step.wait_over": () => "attente écoulée",
      "step.approval": (a) => `approbation requise : ${a.count} × ${a.role}${a.not_initiator === "true" ? " (pas l'initiateur)" : ""}, délai ${a.timeout}`,
      "step.approved": (a) => `approuvée par ${a.by} (${a.count}/${a.of})`,
      "step.rejected": (a) => `rejetée par ${a.by} : déroulement arrêté, rien de public envoyé`,
      "step.escalated": (a) => `approbation en retard : escalade vers ${a.audience} par ${a.channels}, encore ${a.wait}`,
      "step.approval_expired": (a) => `approbation expirée${a.escalations !== "0" ? ` après ${a.escalations} escalade(s)` : ""} : déroulement arrêté, rien de public envoyé`,
      "step.resolve_holds": () => "conditions resolve_when remplies : incident résolu",
      "step.watching": () => "surveille les mises à jour jusqu'aux conditions resolve_when",
    },
    // A refusal in words, by its reason or its code; the server's English detail follows where
    // it says more than the sentence (which field, which lint problem).
    refusals: {
      own_approval: "Vous êtes à l'origine de cet incident : une autre personne doit approuver l'alerte.",
      missing_role: "Vous n'avez pas le rôle que demande cette approbation.",
      already_approved: "Vous avez déjà approuvé.",
      not_pending: "Cette approbation n'est plus en attente.",
      person_required: "Approuver une alerte publique RÉELLE demande une personne connectée.",
      missing_scope: "Votre rôle ne permet pas cette action.",
      forbidden: "Refusé.",
      conflict: "Déjà fait, ou plus possible : le tableau est à jour.",
      confirmation_required: "Alerte réelle : tapez le mot demandé pour confirmer.",
      unprocessable: "L'alerte serait bloquée : corrigez-la d'abord.",
      csrf: "Requête refusée (protection CSRF) : rechargez la page.",
      cross_origin: "Requête refusée : elle ne vient pas de cette console.",
      rate_limited: "Trop de demandes : réessayez dans un instant.",
      storage_unavailable: "Le serveur ne peut pas enregistrer pour l'instant : réessayez.",
      unavailable: "Service indisponible pour l'instant : réessayez.",
      not_found: "Introuvable : il a peut-être déjà été retiré.",
      too_large: "Trop long.",
      invalid: "Valeur refusée.",
      network: "Le serveur ne répond pas : réessayez.",
    },
    field: (f) => `champ « ${f} »`,
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
    cancellation: "cancellation", correction: "correction",
    correct_title: "Correct the public alert", correction_fr: "Correction in French",
    correction_en: "Correction in English", send_correction: "Send the correction",
    correct_about: (what, channels) => `${what} · on ${channels}: every channel gets the correction, each reader in their language.`,
    corrected: "Correction sent.",
    report: "Report an incident", type: "Type", severity_label: "Severity", zone: "Zone",
    headline: "Headline", is_exercise: "Exercise (not a real incident)", send_report: "Report",
    compose: "Compose an alert", template: "Template", channels: "Channels", audience: "Audience",
    residents: "Residents of the zones picked (public alert)", zones: "Zones (click, or Space, on the map)",
    expires: "Expires after", sirens: "Sirens", sound_sirens: "Sound the zones' sirens",
    send: "Send", close: "Close", picked: "Zones picked", nothing_picked: "no zone picked",
    mode_live: "LIVE ALERT: it will really reach the public",
    mode_exercise: (s) => `EXERCISE (${s}): every message says so`,
    channel: "Channel", french: "Français", english: "English",
    segments: (n, enc, units) => `${n} SMS segment(s) · ${enc === "gsm7" ? "GSM-7" : "UCS-2 (accents)"} · ${units} chars`,
    reach_line: "Reach", sirens_line: "sirens", held_back: "Exercise: the public part will not be sent (its templates do not mark an exercise).",
    type_confirm: (w) => `LIVE alert: type ${w} to confirm`,
    needs_approval: "Another person must approve it before it is sent.",
    composed: (status) => `Alert composed (${status}).`,
    states: { queued: "queued", sending: "sending", sent: "sent", delivered: "delivered", failed: "failed" },
    audit: "Audit trail", audit_note: "Every change, by a person or a machine; each row carries the hash of the one before (tocsin audit verify).",
    when: "When", actor: "Who", action: "Action", subject: "Subject", detail: "Detail", older: "Older",
    confirm_approve: "Approve the LIVE alert", by_initiator: "asked by", siren_panel: "Sirens by zone", not_polled: "not polled yet", unreachable: "unreachable",
    fault: "fault", silent: "silent", sounding: "sounding", on_battery: "on battery",
    run_status: { running: "running", waiting: "waiting", awaiting_approval: "awaiting approval",
                  watching: "watching", completed: "completed", cancelled: "cancelled", rejected: "rejected" },
    kinds: { notify: "notice", siren: "siren", escalation: "escalation" }, blocked: "BLOCKED",
    expired: "Session expired: sign in again.",
    timeline: {},  // the server's own line is English
    refusals: {
      own_approval: "You started this incident: another person must approve the alert.",
      missing_role: "You do not have the role this approval asks for.",
      already_approved: "You have already approved.",
      not_pending: "This approval is no longer pending.",
      person_required: "Approving a LIVE public alert takes a signed-in person.",
      missing_scope: "Your role does not allow this.",
      forbidden: "Refused.",
      conflict: "Already done, or no longer possible: the board is up to date.",
      confirmation_required: "LIVE alert: type the word asked for to confirm.",
      unprocessable: "The alert would be blocked: correct it first.",
      csrf: "Request refused (CSRF protection): reload the page.",
      cross_origin: "Request refused: it does not come from this console.",
      rate_limited: "Too many requests: try again in a moment.",
      storage_unavailable: "The server cannot record anything right now: try again.",
      unavailable: "Service unavailable right now: try again.",
      not_found: "Not found: it may have been removed already.",
      too_large: "Too long.",
      invalid: "Value refused.",
      network: "The server does not answer: try again.",
    },
    field: (f) => `field '${f}'`,
  },
};
const symbols = { extreme: "▲▲▲▲", severe: "▲▲▲", moderate: "▲▲", minor: "▲", unknown: "?" };
const order = { extreme: 4, severe: 3, moderate: 2, minor: 1, unknown: 0 };

const state = {
  language: localStorage.getItem("tocsin.language") ||
    ((navigator.language || "fr").slice(0, 2) === "en" ? "en" : "fr"),
  me: null, csrf: "", incidents: new Map(), approvals: [], seq: 0, socket: null, retry: 1000,
  options: null, composing: null, picked: new Set(), preview: null, sirens: [],
};
const $ = (id) => document.getElementById(id);
const t = (key) => words[state.language][key];
const sev = (s) => t("severity")[s] || s;

// A run's history line in the reader's language, from its name and particulars; the server's
// English line where there is no translation (or the reader reads English).
function timelineLine(r) {
  const say = t("timeline")[r.what];
  if (!say) return r.line;
  return (r.step ? t("timeline").prefix(r.step) : "") + say(r.args || {});
}

// A refusal in the reader's language: the sentence for its reason, else for its code (with the
// field it names), else the server's own words; those follow a general sentence as detail.
function refusal(e) {
  const r = t("refusals");
  if (e.reason && r[e.reason]) return r[e.reason];
  if (e.status === undefined) return r.network;
  if (r[e.code]) return `${r[e.code]} — ${e.message}`;
  if (e.field) return `${r.invalid} (${t("field")(e.field)}) — ${e.message}`;
  return e.message;
}

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
  if (!r.ok) {
    const e = data.error || {};
    // The session ended (expired, signed out elsewhere): back to the sign-in page, saying why.
    if (r.status === 401 && state.me && path !== "/api/v1/login") expired();
    throw Object.assign(new Error(e.message || r.statusText),
                        { status: r.status, code: e.code, reason: e.reason, field: e.field });
  }
  return data;
}

function translate() {
  document.documentElement.lang = state.language;
  $("language").value = state.language;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  labelReportForm();
  if (state.me) $("who").textContent = t("signed_in")(state.me.id, state.me.role);
  if (state.socket) $("link").textContent = t($("link").classList.contains("down") ? "reconnecting" : "connected");
  render();
  if (state.composing) { drawMap(); showPreview(); }
}

// The report form in the reader's language: severities in words, the city's own zones by name
// (from the compose options, which read config/zones.geojson) once they are known.
function labelReportForm() {
  const form = $("report");
  for (const o of form.querySelectorAll('select[name="severity"] option')) o.textContent = t("severity")[o.value];
  if (!state.options || !state.options.zones) return;
  // The types the playbooks match (a family as its prefix, "chem."), as suggestions.
  $("incident-types").replaceChildren(...(state.options.incident_types || []).map((v) => el("option", { value: v })));
  const select = form.querySelector('select[name="zone"]');
  const chosen = select.value;
  select.replaceChildren(...state.options.zones.map((z) => el("option", { value: z.id, text: zoneName(z) })));
  if (state.options.zones.some((z) => z.id === chosen)) select.value = chosen;
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
  for (const run of i.runs || []) {
    li.append(el("p", { class: "runs", "data-run": run.id, text:
      `${t("run")} ${run.playbook}: ${t("run_status")[run.status] || run.status}, ${t("step")} ${run.step}` +
      (run.due_at ? `, ${t("due")} ${time(run.due_at)}` : "") }));
    // What the run did last (a step sent, skipped, held back, approved…), from its events.
    const lines = (i.events || []).filter((e) => e.kind === "run" && e.report && e.report.run === run.id);
    if (lines.length)
      li.append(el("ul", { class: "timeline", "data-run": run.id }, ...lines.slice(-4).map((e) =>
        el("li", { "data-what": e.report.what || "", text: `${time(e.at)} · ${timelineLine(e.report)}` }))));
  }
  const followed = new Set((i.alerts || []).filter((a) => a.follow_up_of && a.template !== "public-update")
                                            .map((a) => a.follow_up_of));
  for (const a of i.alerts || []) {
    const label = a.follow_up_of ? (a.template === "public-update" ? t("correction") : t("cancellation"))
                                 : t("kinds")[a.kind] || a.kind;
    const p = el("div", { class: "deliveries", "data-alert": a.id },
      el("span", { text: `${label}${a.public ? " (public)" : ""} ${(a.channels || []).join(", ")}` +
                         (a.status === "blocked" ? ` · ${t("blocked")}` : "") }));
    // One bar per channel: how many were sent or delivered of all, and what is queued or failed.
    for (const [channel, c] of Object.entries(a.channel_counts || {})) {
      const total = Object.values(c).reduce((s, n) => s + n, 0);
      const done = (c.sent || 0) + (c.delivered || 0);
      const parts = ["delivered", "sent", "queued", "sending", "failed"].filter((k) => c[k])
        .map((k) => `${k === "failed" ? "✗ " : k === "delivered" ? "✓ " : ""}${c[k]} ${t("states")[k]}`);
      p.append(el("p", { class: "channel", "data-channel": channel },
        el("span", { class: "channel-name", text: `${channel} ` }),
        el("progress", { max: String(total || 1), value: String(done),
                         "aria-label": `${channel} ${done}/${total}` }),
        el("span", { text: ` ${done}/${total} · ${parts.join(" · ")}` })));
    }
    if (a.kind === "siren") {  // per zone, each controller's state
      const states = new Map((a.controllers || []).map((c) => [c.controller, c.state]));
      for (const zone of a.zones || []) {
        const ctl = (state.sirens.find((z) => z.zone === zone) || { controllers: [] }).controllers;
        const said = ctl.map((c) => `${c.id} ${states.has(c.id) ? t("states")[states.get(c.id)] : "—"}`);
        p.append(el("p", { class: "siren-zone", "data-zone": zone,
                           text: `${zone}: ${said.join(", ") || [...states].map(([id, st]) => `${id} ${t("states")[st]}`).join(", ") || "—"}` }));
      }
    }
    // One action reaches every channel the public alert went to (sirens: the all-clear).
    if (a.public && !a.follow_up_of && a.status === "dispatched" && !followed.has(a.id) &&
        state.me && state.me.scopes.includes("operate")) {
      const buttons = el("p", { class: "actions" });
      buttons.append(el("button", { type: "button", class: "cancel-alert", text: t("cancel_alert"),
                                    onclick: () => cancelAlert(a.id) }));
      if (a.kind !== "siren")
        buttons.append(el("button", { type: "button", class: "correct-alert", text: t("correct_alert"),
                                      onclick: () => openCorrect(a.id, i.headline || i.type,
                                                                 (a.channels || []).join(", ")) }));
      p.append(buttons);
    }
    li.append(p);
  }
  const actions = el("p", { class: "actions" });
  if (!i.acknowledged_at && state.me && state.me.scopes.includes("operate"))
    actions.append(el("button", { type: "button", class: "ack", text: t("ack"),
                                  onclick: () => act(i.id, "ack") }));
  if (state.me && state.me.scopes.includes("operate")) {
    actions.append(el("button", { type: "button", class: "resolve", text: t("resolve"),
                                  onclick: () => act(i.id, "resolve") }));
    if (state.options)
      actions.append(el("button", { type: "button", class: "compose", text: t("compose"),
                                    onclick: () => openCompose(i) }));
  }
  li.append(actions);
  return li;
}

function render() {
  const list = [...state.incidents.values()].filter((i) => i.state === "active");
  list.sort((a, b) => (order[b.severity] || 0) - (order[a.severity] || 0) ||
                      String(b.created_at).localeCompare(String(a.created_at)));
  $("incidents").replaceChildren(...list.map(incidentItem));
  $("sirens-title").hidden = state.sirens.length === 0;
  $("sirens").replaceChildren(...state.sirens.map((z) => el("li", { "data-zone": z.zone },
    el("strong", { text: `${z.zone}: ` }),
    el("span", { text: z.controllers.map((c) => `${c.id} ${sirenWords(c)}`).join(" · ") }))));
  $("empty").hidden = list.length > 0;
  // While a live approval's word is being typed, the list stays as it is (focus, what is typed).
  const shown = state.approvals.map((a) => a.id).join(",");
  if (state.confirming && shown === state.shownApprovals) return;
  state.shownApprovals = shown;
  $("approvals").replaceChildren(...state.approvals.map((a) => {
    const reach = (a.preview || []).map((r) => Object.entries(r.recipients)
      .map(([c, n]) => `${c} ${n}`).join(", ") + ((r.problems || []).length ? ` ⚠ ${r.problems.join("; ")}` : ""))
      .join(" | ");
    const mine = state.me && state.me.scopes.includes("approve");
    const exercise = a.incident_status && a.incident_status !== "actual";
    const about = state.incidents.get(a.incident_id);
    return el("li", { "data-id": a.id },
      el("span", { class: `badge ${exercise ? "exercise" : "live"}`,
                   text: exercise ? `${t("exercise")} (${a.incident_status})` : t("live") }),
      el("span", { text: ` ${about ? (about.headline || about.type) + " · " : ""}${a.playbook} · ` +
                         `${t("step")} ${a.step} · ${a.role} · ${t("by_initiator")} ${a.initiator} · ${t("reach")}: ${reach} ` }),
      mine && el("button", { type: "button", class: "approve", text: t("approve"),
                             onclick: () => (live(a) ? askWord(a.id) : vote(a.id, "approve")) }),
      mine && el("button", { type: "button", class: "reject", text: t("reject"), onclick: () => vote(a.id, "reject") }),
      state.confirming === a.id && confirmApproval(a));
  }));
}

// Approving a LIVE public alert is deliberate: the approver types the word first.
const live = (a) => a.incident_status === "actual" && (a.preview || []).length > 0;
function askWord(id) {
  state.confirming = id;
  state.shownApprovals = null;
  render();
  const input = document.querySelector(`#approvals li[data-id="${id}"] input.confirm-approve`);
  if (input) input.focus();
}
function confirmApproval(a) {
  const word = state.language === "fr" ? "RÉEL" : "LIVE";
  const input = el("input", { class: "confirm-approve", autocomplete: "off", spellcheck: "false",
                              "aria-label": t("type_confirm")(word) });
  const go = el("button", { type: "button", class: "confirm-approve", text: t("confirm_approve"), disabled: "" });
  input.addEventListener("input", () => {
    go.disabled = !["LIVE", "RÉEL", "REEL"].includes(input.value.trim().toUpperCase());
  });
  go.addEventListener("click", () => {
    state.confirming = null;
    vote(a.id, "approve", input.value.trim().toUpperCase());  // the server checks the word too
  });
  const cancel = el("button", { type: "button", text: t("close"),
                                onclick: () => { state.confirming = null; state.shownApprovals = null; render(); } });
  return el("p", { class: "confirm-row" }, el("label", {}, `${t("type_confirm")(word)} `, input), " ", go, " ", cancel);
}

// A controller in words (and a symbol), never colour alone.
function sirenWords(c) {
  if (!c.polled) return `? ${t("not_polled")}`;
  if (!c.reachable) return `✗ ${t("unreachable")}${c.error ? ` (${c.error})` : ""}`;
  const parts = [c.sounding && c.sounding !== "silent" ? `🔊 ${t("sounding")} ${c.sounding}` : `✓ ${t("silent")}`];
  if (c.fault_code) parts.push(`✗ ${t("fault")} ${c.fault_code}`);
  if (!c.ac_power) parts.push(`⚠ ${t("on_battery")}${c.battery_percent >= 0 ? ` ${c.battery_percent} %` : ""}`);
  return parts.join(", ");
}

async function refreshSirens() {
  try { state.sirens = (await api("GET", "/api/v1/sirens")).zones; render(); }
  catch (e) { /* shown at the next poll */ }
}

function say(text) { $("message").textContent = text || ""; }

async function act(id, verb) {
  try { await api("POST", `/api/v1/incidents/${id}/${verb}`, {}); say(""); }
  catch (e) { say(refusal(e)); }
}

// Cancelling is one action. Correcting asks for the new words in French and in English (each
// reader gets their own language), in a form outside the board, which redraws on every change.
async function cancelAlert(id) {
  try { await api("POST", `/api/v1/alerts/${id}/cancel`, {}); say(""); }
  catch (e) { say(refusal(e)); }
}

function openCorrect(id, what, channels) {
  state.correcting = id;
  $("correct-about").textContent = t("correct_about")(what, channels);
  $("correct").hidden = false;
  $("correct-form").querySelector('textarea[name="fr"]').focus();
}
function closeCorrect() {
  state.correcting = null;
  $("correct-form").reset();
  $("correct").hidden = true;
}
$("correct-close").addEventListener("click", closeCorrect);
$("correct-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await api("POST", `/api/v1/alerts/${state.correcting}/correct`,
              { notes: { fr: f.get("fr").trim(), en: f.get("en").trim() } });
    closeCorrect();
    say(t("corrected"));
  } catch (err) { say(refusal(err)); }
});

async function vote(id, verb, confirm) {
  state.confirming = null;
  state.shownApprovals = null;
  try {
    await api("POST", `/api/v1/approvals/${id}/${verb}`, confirm ? { confirm } : {});
    say("");
    await refreshApprovals();
  }
  catch (e) { say(refusal(e)); }
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
    // A server that answers but refuses the socket has ended the session (api() then signs out);
    // one that does not answer is restarting: try again, less often each time.
    api("GET", "/api/v1/session").catch(() => {});
    setTimeout(() => { if (state.me) connect(); }, state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  };
}


// ---- Composing a manual alert -------------------------------------------------------------
// A template, an audience, channels and zones picked on a map drawn from the zones' outlines;
// previewed in both languages side by side (SMS segments counted) on every change. A live
// public alert needs a typed word; a public one, another person's approval.

const svgNS = "http://www.w3.org/2000/svg";
const zoneName = (z) => (state.language === "fr" ? z.name_fr : z.name_en) || z.id;

function ringArea(ring) {
  let a = 0;
  for (let i = 0; i < ring.length; ++i) {
    const [x1, y1] = ring[i], [x2, y2] = ring[(i + 1) % ring.length];
    a += x1 * y2 - x2 * y1;
  }
  return Math.abs(a / 2);
}

function drawMap() {
  const svg = $("map");
  const zones = state.options.zones;
  const pts = zones.flatMap((z) => z.polygons.flat());
  const minLon = Math.min(...pts.map((p) => p[0])), maxLon = Math.max(...pts.map((p) => p[0]));
  const minLat = Math.min(...pts.map((p) => p[1])), maxLat = Math.max(...pts.map((p) => p[1]));
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);  // degrees of longitude shrink
  const width = 600, scale = width / ((maxLon - minLon) * k || 1);
  const height = Math.round((maxLat - minLat) * scale) || 400;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const xy = ([lon, lat]) => [((lon - minLon) * k * scale).toFixed(1), ((maxLat - lat) * scale).toFixed(1)];
  const title = svg.querySelector("title");
  svg.replaceChildren(title);
  // The largest first, so that a smaller zone lies on top and can be picked.
  const ordered = [...zones].sort((a, b) => b.polygons.reduce((s, r) => s + ringArea(r), 0) -
                                            a.polygons.reduce((s, r) => s + ringArea(r), 0));
  for (const z of ordered) {
    const d = z.polygons.map((ring) => "M" + ring.map((p) => xy(p).join(" ")).join(" L") + " Z").join(" ");
    const path = document.createElementNS(svgNS, "path");
    path.setAttribute("d", d);
    path.setAttribute("data-zone", z.id);
    path.setAttribute("role", "checkbox");
    path.setAttribute("tabindex", "0");
    path.setAttribute("aria-label", zoneName(z));
    path.setAttribute("aria-checked", String(state.picked.has(z.id)));
    const tip = document.createElementNS(svgNS, "title");
    tip.textContent = zoneName(z);
    path.append(tip);
    const toggle = () => {
      if (state.picked.has(z.id)) state.picked.delete(z.id); else state.picked.add(z.id);
      path.setAttribute("aria-checked", String(state.picked.has(z.id)));
      pickedLine();
      previewSoon();
    };
    path.addEventListener("click", toggle);
    path.addEventListener("keydown", (e) => {
      if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); }
    });
    svg.append(path);
    const xs = z.polygons.flat().map((p) => Number(xy(p)[0])), ys = z.polygons.flat().map((p) => Number(xy(p)[1]));
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", String((Math.min(...xs) + 4).toFixed(1)));
    label.setAttribute("y", String((Math.min(...ys) + 13).toFixed(1)));
    label.textContent = z.id;
    svg.append(label);
  }
  pickedLine();
}

function pickedLine() {
  const names = state.options.zones.filter((z) => state.picked.has(z.id)).map(zoneName);
  $("map-picked").textContent = `${t("picked")} : ${names.length ? names.join(", ") : t("nothing_picked")}`;
}

function fillComposeForm() {
  const f = $("compose-form");
  f.template.replaceChildren(...state.options.templates.map((tp) => el("option", { value: tp.name, text: tp.name })));
  f.pattern.replaceChildren(...state.options.siren_patterns.map((p) => el("option", { value: p, text: p })));
  f.pattern.value = "wail";
  const groups = $("compose-groups");
  groups.replaceChildren(...state.options.groups.map((g) =>
    el("label", {}, el("input", { type: "checkbox", name: "group", value: g }), ` ${g}`)));
  channelBoxes();
}

function channelBoxes() {
  const f = $("compose-form");
  const tp = state.options.templates.find((x) => x.name === f.template.value);
  const was = new Set([...document.querySelectorAll("#compose-channels input:checked")].map((i) => i.value));
  const legend = $("compose-channels").querySelector("legend");
  $("compose-channels").replaceChildren(legend, ...(tp ? tp.channels : []).map((c) =>
    el("label", {}, Object.assign(el("input", { type: "checkbox", name: "channel", value: c }),
                                  { checked: was.has(c) }), ` ${c}`)));
}

function composeRequest() {
  const f = $("compose-form");
  const body = {
    template: f.template.value,
    channels: [...document.querySelectorAll("#compose-channels input:checked")].map((i) => i.value),
    audience: { residents: f.residents.checked,
                groups: [...document.querySelectorAll("#compose-groups input:checked")].map((i) => i.value) },
    zones: [...state.picked],
  };
  if (f.residents.checked) body.expires = f.expires.value;
  if (f.siren.checked) body.siren = { pattern: f.pattern.value, duration: f.duration.value };
  return body;
}

function openCompose(incident) {
  state.composing = incident;
  state.picked = new Set(incident.location && incident.location.zone ? [incident.location.zone] : []);
  state.preview = null;
  $("compose-incident").textContent = incident.headline || incident.type;
  const exercise = incident.status && incident.status !== "actual";
  const mode = $("compose-mode");
  mode.className = `mode ${exercise ? "exercise" : "live"}`;
  mode.textContent = exercise ? t("mode_exercise")(incident.status) : t("mode_live");
  $("confirm").value = "";
  $("compose").hidden = false;
  drawMap();
  showPreview();
  $("compose-form").template.focus();
  previewSoon();
}

let previewTimer = null;
function previewSoon() {
  state.preview = null;
  showPreview();
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, 250);
}

async function runPreview() {
  if (!state.composing) return;
  const body = composeRequest();
  try {
    state.preview = await api("POST", `/api/v1/incidents/${state.composing.id}/compose/preview`, body);
    state.previewError = "";
  } catch (e) {
    state.preview = null;
    state.previewError = refusal(e);
  }
  showPreview();
}

function showPreview() {
  const p = state.preview;
  const box = $("compose-preview"), problems = $("compose-problems");
  problems.replaceChildren();
  if (!p) {
    box.replaceChildren();
    if (state.previewError) problems.append(el("li", { text: state.previewError }));
    $("confirm-row").hidden = true;
    updateSend();
    return;
  }
  const rows = Object.entries(p.messages).map(([channel, langs]) => el("tr", { "data-channel": channel },
    el("th", { scope: "row", text: channel }),
    ...["fr", "en"].map((lang) => {
      const m = langs[lang];
      if (!m) return el("td", { lang, text: "—" });
      return el("td", { lang, "data-lang": lang }, m.subject ? `${m.subject}\n\n${m.text}` : m.text,
        m.segments !== undefined && el("span", { class: "segments", text: t("segments")(m.segments, m.encoding, m.units) }));
    })));
  const reach = Object.entries(p.reach.recipients).map(([c, n]) => `${c} ${n}`).join(", ") || "0";
  box.replaceChildren(
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: t("channel") }),
                                             el("th", { text: t("french") }), el("th", { text: t("english") }))),
       el("tbody", {}, ...rows)),
    el("p", { class: "reach", text: `${t("reach_line")} : ${reach} · ${t("zones").split(" (")[0]} : ${p.reach.zones.join(", ") || "—"}` +
              (p.reach.sirens.length ? ` · ${t("sirens_line")} : ${p.reach.sirens.length}` : "") }),
    ...[p.needs_approval && el("p", { text: t("needs_approval") }),
        p.held_back && el("p", { class: "held-back", text: t("held_back") })].filter(Boolean));
  for (const problem of p.problems) problems.append(el("li", { text: problem }));
  const words = p.confirmation || [];
  $("confirm-row").hidden = words.length === 0;
  $("confirm-label").textContent = t("type_confirm")(state.language === "fr" ? "RÉEL" : "LIVE");
  updateSend();
}

function updateSend() {
  const p = state.preview;
  const words = p ? p.confirmation || [] : [];
  const typed = $("confirm").value.trim().toUpperCase();
  $("compose-send").disabled = !p || p.problems.length > 0 ||
                               (words.length > 0 && !words.includes(typed));
}

async function sendComposed() {
  const body = composeRequest();
  const words = state.preview ? state.preview.confirmation || [] : [];
  if (words.length) body.confirm = $("confirm").value.trim().toUpperCase();
  try {
    const r = await api("POST", `/api/v1/incidents/${state.composing.id}/compose`, body);
    const id = state.composing.id;
    closeCompose();
    say(t("composed")(t("run_status")[r.status] || r.status));
    soon(id);
  } catch (e) { say(refusal(e)); }
}

function closeCompose() {
  state.composing = null;
  $("compose").hidden = true;
}

$("compose-form").addEventListener("change", (e) => {
  if (e.target.name === "template") channelBoxes();
  previewSoon();
});
$("compose-form").addEventListener("submit", (e) => e.preventDefault());
$("confirm").addEventListener("input", updateSend);
$("compose-send").addEventListener("click", sendComposed);
$("compose-close").addEventListener("click", closeCompose);

// ---- The audit trail (admins): newest first, a page at a time -------------------------------
let auditNext = null;
async function loadAudit(path) {
  try {
    const r = await api("GET", path);
    $("audit-rows").append(...r.entries.map((e) => el("tr", { "data-seq": String(e.seq) },
      el("td", { text: String(e.seq) }), el("td", { text: time(e.at) }), el("td", { text: e.actor }),
      el("td", { text: e.action }), el("td", { text: e.subject }),
      el("td", { class: "detail", text: JSON.stringify(e.detail) }))));
    auditNext = r.next || null;
    $("audit-older").hidden = !auditNext;
  } catch (e) { say(refusal(e)); }
}
$("show-audit").addEventListener("click", () => {
  $("audit-rows").replaceChildren();
  $("audit").hidden = false;
  loadAudit("/api/v1/audit?before=9007199254740991&limit=50");
  $("audit-close").focus();
});
$("audit-older").addEventListener("click", () => auditNext && loadAudit(auditNext));
$("audit-close").addEventListener("click", () => { $("audit").hidden = true; });

async function loadOptions() {
  try {
    state.options = await api("GET", "/api/v1/compose");
    fillComposeForm();
    labelReportForm();
    render();
  } catch (e) { /* no playbook set: no compose button */ }
}

async function start() {
  try {
    const me = await api("GET", "/api/v1/session");
    signedIn(me, me.csrf_token);
  } catch (e) {
    $("login").hidden = false;
    if (sessionStorage.getItem("tocsin.expired")) $("login-error").textContent = t("expired");
    sessionStorage.removeItem("tocsin.expired");
    $("login").querySelector("input").focus();
  }
}

// The server no longer knows this session: start again from the sign-in page, which says why.
function expired() {
  state.me = null;
  if (state.socket) state.socket.close();
  sessionStorage.setItem("tocsin.expired", "1");
  location.reload();
}

function signedIn(me, csrf) {
  state.me = me; state.csrf = csrf;
  if (!localStorage.getItem("tocsin.language") && me.language) state.language = me.language;
  $("login").hidden = true;
  $("board").hidden = false;
  $("report").hidden = !me.scopes.includes("ingest");
  $("who").hidden = false;
  $("logout").hidden = false;
  $("show-audit").hidden = !me.scopes.includes("admin");
  translate();
  connect();
  if (me.scopes.includes("operate")) loadOptions();
  refreshSirens();
  setInterval(() => { if (state.me) refreshSirens(); }, 10000);  // the poller's own pace
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
  } catch (err) { say(refusal(err)); }
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
