// Composing a manual alert.
// A template, an audience, channels and zones picked on a map drawn from the zones' outlines;
// previewed in both languages side by side (SMS segments counted) on every change. A live
// public alert needs a typed word; a public one, another person's approval.


import { api } from "./api.js";
import { labelReportForm, render, soon } from "./board.js";
import { drawMap } from "./map.js";
import { $, el, say, state } from "./state.js";
import { refusal, t } from "./words.js";

// The form drawn again in the reader's language (the map's names, the preview's words).
export function redrawCompose() {
  if (!state.composing) return;
  drawMap(previewSoon);
  showPreview();
}

export function fillComposeForm() {
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

export function openCompose(incident) {
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
  drawMap(previewSoon);
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

export function showPreview() {
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


export async function loadOptions() {
  try {
    state.options = await api("GET", "/api/v1/compose");
    fillComposeForm();
    labelReportForm();
    render();
  } catch (e) { /* no playbook set: no compose button */ }
}
