// The audit trail (admins): newest first, a page at a time.

import { api } from "./api.js";
import { $, el, say } from "./state.js";
import { refusal, time } from "./words.js";

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
