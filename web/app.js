// The coordinator's console: sign in, then a live board of active incidents (board.js) over
// /ws/console (live.js), with the compose form (compose.js, map.js) and the audit trail
// (audit.js), who is on call (oncall.js); every word in French and English (words.js). No build step: ES modules the broker
// serves as they are.

import { api, session } from "./api.js";
import "./audit.js";
import "./oncall.js";
import { labelAttention, setUpAttention } from "./attention.js";
import { labelFilters, labelReportForm, refreshSirens, render } from "./board.js";
import { loadOptions, redrawCompose } from "./compose.js";
import { connect } from "./live.js";
import { $, say, state } from "./state.js";
import { clockTime, refusal, t } from "./words.js";

function translate() {
  document.documentElement.lang = state.language;
  $("language").value = state.language;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  labelReportForm();
  labelFilters();
  labelAttention();
  tick();
  if (state.me) $("who").textContent = t("signed_in")(state.me.id, state.me.role);
  if (state.socket) $("link").textContent = t($("link").classList.contains("down") ? "reconnecting" : "connected");
  render();
  redrawCompose();
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
session.expired = expired;
function expired() {
  state.me = null;
  if (state.socket) state.socket.close();
  sessionStorage.setItem("tocsin.expired", "1");
  location.reload();
}

// The city's clock in the header: the time every time on the board is given in.
function tick() {
  if (!state.me) return;
  $("clock").textContent = clockTime(new Date());
  $("clock").title = t("clock")(state.timeZone);
}

function signedIn(me, csrf) {
  state.me = me; state.csrf = csrf;
  state.timeZone = me.time_zone || "UTC";
  if (!localStorage.getItem("tocsin.language") && me.language) state.language = me.language;
  $("login").hidden = true;
  $("board").hidden = false;
  $("report").hidden = !me.scopes.includes("ingest");
  $("who").hidden = false;
  $("logout").hidden = false;
  $("show-audit").hidden = !me.scopes.includes("admin");
  $("show-oncall").hidden = false;
  $("clock").hidden = false;
  setUpAttention();
  translate();
  setInterval(tick, 15000);
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
