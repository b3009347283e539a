// The live board: active incidents by severity, each with its runs, alerts and deliveries, the
// approvals waiting, the sirens by zone; the actions on each (acknowledge, resolve, cancel or
// correct a public alert, approve or reject), and the report form.

import { api } from "./api.js";
import { attend } from "./attention.js";
import { openCompose } from "./compose.js";
import { $, el, say, state } from "./state.js";
import { refusal, t, time, timelineLine, zoneName } from "./words.js";

const symbols = { extreme: "▲▲▲▲", severe: "▲▲▲", moderate: "▲▲", minor: "▲", unknown: "?" };
const order = { extreme: 4, severe: 3, moderate: 2, minor: 1, unknown: 0 };


// The report form in the reader's language: severities in words, the city's own zones by name
// (from the compose options, which read config/zones.geojson) once they are known.
export function labelReportForm() {
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
    // A correction someone proposed waits for a second person: said on the alert it corrects.
    const waiting = state.approvals.some((ap) => ap.kind === "correction" && ap.correction &&
                                                 ap.correction.alert === a.id);
    const p = el("div", { class: "deliveries", "data-alert": a.id },
      el("span", { text: `${label}${a.public ? " (public)" : ""} ${(a.channels || []).join(", ")}` +
                         (a.status === "blocked" ? ` · ${t("blocked")}` : "") }),
      waiting && el("span", { class: "badge correction-pending", text: t("correction_pending") }));
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
      if (a.kind !== "siren" && !waiting)
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

// The board's filters (severity at least, zone, acknowledged or not) and order, read from the
// address and written back to it, so that a wall screen's bookmark opens on the same view.
const zoneOf = (i) => (i.location && i.location.zone) || "";
const newest = (a, b) => String(b.created_at).localeCompare(String(a.created_at));
const sorts = {
  severity: (a, b) => (order[b.severity] || 0) - (order[a.severity] || 0) || newest(a, b),
  newest,
  updated: (a, b) => String(b.updated_at).localeCompare(String(a.updated_at)),
  zone: (a, b) => zoneOf(a).localeCompare(zoneOf(b)) || sorts.severity(a, b),
};
const stateFilters = ["all", "unacked", "acked"];
{
  const q = new URLSearchParams(location.search), f = state.filters;
  if (order[q.get("severity")] > 0) f.severity = q.get("severity");
  if (/^[A-Za-z0-9_.:\/-]{1,128}$/.test(q.get("zone") || "")) f.zone = q.get("zone");
  if (stateFilters.includes(q.get("state"))) f.state = q.get("state");
  if (sorts[q.get("sort")]) f.sort = q.get("sort");
}
function passes(i) {
  const f = state.filters;
  return (!f.severity || (order[i.severity] || 0) >= order[f.severity]) &&
         (!f.zone || zoneOf(i) === f.zone) &&
         (f.state === "all" || (f.state === "acked") === Boolean(i.acknowledged_at));
}
const filterForm = $("filters");
const choices = (select, values, label) => {
  select.replaceChildren(...values.map((v) => el("option", { value: v, text: label(v) })));
};
let zonesListed = null;
export function labelFilters() {
  const f = state.filters, form = filterForm.elements;
  choices(form.severity, ["", "extreme", "severe", "moderate", "minor"],
          (v) => (v ? (v === "extreme" ? t("severity")[v] : t("at_least")(t("severity")[v])) : t("any")));
  choices(form.state, stateFilters, (v) => t("states_filter")[v]);
  choices(form.sort, Object.keys(sorts), (v) => t("sorts")[v]);
  zonesListed = null;
  listZones();
  form.severity.value = f.severity; form.state.value = f.state; form.sort.value = f.sort;
}
// The city's zones by name (the compose options), else those on the board; rebuilt only when
// they change, so that an open list is not pulled from under the pointer.
function listZones() {
  const named = state.options && state.options.zones;
  const ids = named ? named.map((z) => z.id)
    : [...new Set([...state.incidents.values()].map(zoneOf).filter(Boolean))].sort();
  if (state.filters.zone && !ids.includes(state.filters.zone)) ids.push(state.filters.zone);
  const key = `${state.language}|${ids.join(",")}`;
  if (key === zonesListed) return;
  zonesListed = key;
  const select = filterForm.elements.zone;
  choices(select, ["", ...ids], (v) => {
    if (!v) return t("any");
    const z = named && named.find((n) => n.id === v);
    return z ? zoneName(z) : v;
  });
  select.value = state.filters.zone;
}
filterForm.addEventListener("change", () => {
  const form = filterForm.elements, f = state.filters;
  f.severity = form.severity.value; f.zone = form.zone.value;
  f.state = form.state.value; f.sort = form.sort.value;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f))
    if (v && v !== { state: "all", sort: "severity" }[k]) q.set(k, v);
  history.replaceState(null, "", `${location.pathname}${String(q) ? `?${q}` : ""}`);
  render();
});
filterForm.addEventListener("submit", (e) => e.preventDefault());

// The board is drawn anew on every change. A redraw waits while a button of it is held down (a
// press and its release must land on the same button, or the click is lost), and the button that
// had the keyboard's focus has it again after.
let held = false, redrawWaits = false;
document.addEventListener("pointerdown", (e) => { held = Boolean(e.target.closest("#board button")); }, true);
for (const type of ["pointerup", "pointercancel"])
  document.addEventListener(type, () => {
    if (!held) return;
    setTimeout(() => {  // after the click it ends
      held = false;
      if (redrawWaits) { redrawWaits = false; render(); }
    }, 0);
  }, true);
function focusKey() {
  const e = document.activeElement;
  const item = e && e.tagName === "BUTTON" && e.closest("li.incident");
  if (!item) return null;
  const alert = e.closest("[data-alert]");
  return `li.incident[data-id="${item.dataset.id}"] ${alert ? `[data-alert="${alert.dataset.alert}"] ` : ""}` +
         `button.${e.classList[0]}`;
}

export function render() {
  if (held) { redrawWaits = true; return; }
  const active = [...state.incidents.values()].filter((i) => i.state === "active");
  const list = active.filter(passes).sort(sorts[state.filters.sort] || sorts.severity);
  listZones();
  $("shown").textContent = active.length ? t("shown")(list.length, active.length) : "";
  const refocus = focusKey();
  $("incidents").replaceChildren(...list.map(incidentItem));
  if (refocus) { const again = document.querySelector(refocus); if (again) again.focus(); }
  attend(active, state.approvals);
  $("sirens-title").hidden = state.sirens.length === 0;
  $("sirens").replaceChildren(...state.sirens.map((z) => el("li", { "data-zone": z.zone },
    el("strong", { text: `${z.zone}: ` }),
    el("span", { text: z.controllers.map((c) => `${c.id} ${sirenWords(c)}`).join(" · ") }))));
  $("empty").hidden = active.length > 0;
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
    const approved = (a.votes || []).filter((v) => v.decision === "approve").length;
    return el("li", { "data-id": a.id },
      el("span", { class: `badge ${exercise ? "exercise" : "live"}`,
                   text: exercise ? `${t("exercise")} (${a.incident_status})` : t("live") }),
      a.break_glass && el("span", { class: "badge break-glass", text: t("break_glass") }),
      a.kind === "correction" && el("span", { class: "badge correction-pending", text: t("correction") }),
      el("span", { text: ` ${about ? (about.headline || about.type) + " · " : ""}${a.playbook} · ` +
                         `${t("step")} ${a.step} · ${a.role} · ${t("approvers")(approved, a.required)} · ` +
                         `${t("by_initiator")} ${a.initiator} · ${t("reach")}: ${reach} ` }),
      a.kind === "correction" && a.correction && el("q", { class: "correction-text", lang: state.language,
        text: (a.correction.notes || {})[state.language] || a.correction.note || "" }),
      mine && el("button", { type: "button", class: "approve", text: t("approve"),
                             onclick: () => (live(a) || a.break_glass ? askWord(a.id) : vote(a.id, "approve")) }),
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
// Break glass: one person releases it alone, and writes why (the server asks for 10 characters).
function confirmApproval(a) {
  const word = state.language === "fr" ? "RÉEL" : "LIVE";
  const input = el("input", { class: "confirm-approve", autocomplete: "off", spellcheck: "false",
                              "aria-label": t("type_confirm")(word) });
  const reason = a.break_glass && el("textarea", { class: "break-glass-reason", maxlength: "2000", rows: "2",
                                                   "aria-label": t("break_glass_reason") });
  const go = el("button", { type: "button", class: "confirm-approve", text: t("confirm_approve"), disabled: "" });
  const ready = () => (!live(a) || ["LIVE", "RÉEL", "REEL"].includes(input.value.trim().toUpperCase())) &&
                      (!reason || reason.value.replace(/\s/g, "").length >= 10);
  input.addEventListener("input", () => { go.disabled = !ready(); });
  if (reason) reason.addEventListener("input", () => { go.disabled = !ready(); });
  go.addEventListener("click", () => {
    state.confirming = null;
    // The server checks the word and the reason too.
    vote(a.id, "approve", live(a) ? input.value.trim().toUpperCase() : "", reason ? reason.value.trim() : "");
  });
  const cancel = el("button", { type: "button", text: t("close"),
                                onclick: () => { state.confirming = null; state.shownApprovals = null; render(); } });
  return el("p", { class: "confirm-row" },
    live(a) && el("label", {}, `${t("type_confirm")(word)} `, input), " ",
    reason && el("label", {}, `${t("break_glass_reason")} `, reason), " ", go, " ", cancel);
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

export async function refreshSirens() {
  try { state.sirens = (await api("GET", "/api/v1/sirens")).zones; render(); }
  catch (e) { /* shown at the next poll */ }
}

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
    await refreshApprovals();
  } catch (err) { say(refusal(err)); }
});

async function vote(id, verb, confirm, note) {
  state.confirming = null;
  state.shownApprovals = null;
  const body = {};
  if (confirm) body.confirm = confirm;
  if (note) body.note = note;
  try {
    await api("POST", `/api/v1/approvals/${id}/${verb}`, body);
    say("");
    await refreshApprovals();
  }
  catch (e) { say(refusal(e)); }
}

export async function refreshIncident(id) {
  try {
    const data = await api("GET", `/api/v1/incidents/${id}`);
    state.incidents.set(id, data);
  } catch (e) { if (e.status === 404) state.incidents.delete(id); }
  render();
}

export async function refreshApprovals() {
  try { state.approvals = (await api("GET", "/api/v1/approvals?state=pending")).approvals; }
  catch (e) { /* shown at the next snapshot */ }
  render();
}

let pending = new Set(), timer = null;
export function soon(id) {  // several deltas of one incident in a burst: one fetch
  pending.add(id);
  if (timer) return;
  timer = setTimeout(() => {
    const ids = [...pending]; pending = new Set(); timer = null;
    ids.forEach(refreshIncident);
    refreshApprovals();
  }, 150);
}
