// Who is on call (every signed-in person), and covers (operators): someone takes a shift instead
// of another, or with them, on the city's clock; each cover can be cancelled. The server checks
// and audits each one (POST /api/v1/schedules/{id}/overrides).

import { api } from "./api.js";
import { $, el, say, state } from "./state.js";
import { refusal, t } from "./words.js";

let schedules = [];
const names = (list) => list.map((p) => p.name).join(", ") || t("nobody");
const nameOf = (id) => {
  for (const s of schedules) for (const p of s.people || []) if (p.id === id) return p.name;
  return id;
};

async function loadOncall() {
  try {
    schedules = (await api("GET", "/api/v1/schedules")).schedules;
    const operate = state.me.scopes.includes("operate");
    const items = [];
    for (const s of schedules) {
      const covers = (await api("GET", `/api/v1/schedules/${encodeURIComponent(s.id)}/overrides`)).overrides;
      items.push(el("li", { "data-schedule": s.id },
        el("strong", { text: s.name }), " : ",
        el("span", { class: "on-call", text: names(s.on_call) }),
        s.until_local ? ` (${t("until")} ${s.until_local})` : "",
        covers.length ? el("ul", {}, ...covers.map((c) => el("li", { "data-override": c.id },
          t("covers")(nameOf(c.person), c.instead_of ? nameOf(c.instead_of) : "", c.from_local, c.to_local),
          c.reason ? ` : ${c.reason}` : "",
          operate ? el("button", { type: "button", text: t("cancel_override"),
                                   onclick: () => cancel(s.id, c.id) }) : null))) : null));
    }
    $("oncall-list").replaceChildren(...items);
    $("override").hidden = !operate || !schedules.length;
    if (operate) fillForm();
  } catch (e) { say(refusal(e)); }
}

function fillForm() {
  const form = $("override");
  const chosen = form.elements.schedule.value || (schedules[0] && schedules[0].id);
  form.elements.schedule.replaceChildren(...schedules.map((s) => el("option", { value: s.id, text: s.name })));
  form.elements.schedule.value = chosen;
  const s = schedules.find((x) => x.id === chosen) || { people: [] };
  const options = (s.people || []).map((p) => el("option", { value: p.id, text: p.name }));
  form.elements.person.replaceChildren(...options);
  form.elements.instead_of.replaceChildren(el("option", { value: "", text: t("nobody_else") }),
    ...(s.people || []).map((p) => el("option", { value: p.id, text: p.name })));
}

async function cancel(schedule, id) {
  try {
    await api("POST", `/api/v1/schedules/${encodeURIComponent(schedule)}/overrides/${encodeURIComponent(id)}/cancel`, {});
    say(t("override_cancelled"));
    await loadOncall();
  } catch (e) { say(refusal(e)); }
}

$("override").addEventListener("change", (e) => { if (e.target.name === "schedule") fillForm(); });
$("override").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const body = { person: f.get("person"), to: f.get("to") };
  if (f.get("instead_of")) body.instead_of = f.get("instead_of");
  if (f.get("from")) body.from = f.get("from");
  if (f.get("reason")) body.reason = f.get("reason");
  try {
    await api("POST", `/api/v1/schedules/${encodeURIComponent(f.get("schedule"))}/overrides`, body);
    say(t("override_saved"));
    e.target.elements.reason.value = "";
    await loadOncall();
  } catch (err) { say(refusal(err)); }
});
$("show-oncall").addEventListener("click", () => {
  $("oncall").hidden = false;
  loadOncall();
  $("oncall-close").focus();
});
$("oncall-close").addEventListener("click", () => { $("oncall").hidden = true; });
