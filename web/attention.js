// What asks for a coordinator's attention on a long night: the page's title counts the active
// incidents nobody has acknowledged and the approvals waiting (for approvers); a new one is
// said to screen readers, and, as the coordinator chose, chimes and shows a desktop notification
// (with the browser's permission). Choices are kept in this browser (localStorage).

import { $, state } from "./state.js";
import { sev, t } from "./words.js";

let seen = null;  // ids already on the board: only what arrives after is announced
let audio = null;
let chimes = 0;

const soundOn = () => localStorage.getItem("tocsin.sound") === "1";
const notifyOn = () => localStorage.getItem("tocsin.notify") === "1" &&
  typeof Notification !== "undefined" && Notification.permission === "granted";

export function setUpAttention() {
  $("notify").hidden = typeof Notification === "undefined";
  $("sound-toggle").hidden = false;
  $("sound").checked = soundOn();
  $("sound").addEventListener("change", (e) => {
    localStorage.setItem("tocsin.sound", e.target.checked ? "1" : "0");
    if (e.target.checked) chime();  // the click lets the page play sound, and says what it is
  });
  $("notify").addEventListener("click", async () => {
    if (notifyOn()) {
      localStorage.setItem("tocsin.notify", "0");
    } else {
      const answer = await Notification.requestPermission();
      localStorage.setItem("tocsin.notify", answer === "granted" ? "1" : "0");
    }
    labelAttention();
  });
  labelAttention();
}

export function labelAttention() {
  const on = notifyOn();
  $("notify").setAttribute("aria-pressed", String(on));
  $("notify").textContent = on ? t("notifications_on")
    : typeof Notification !== "undefined" && Notification.permission === "denied"
      ? t("notifications_denied") : t("notifications");
}

// Two short tones (Web Audio: no sound file to fetch); counted on the page for the tests.
function chime() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    [880, 660].forEach((f, i) => {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f;
      g.gain.value = 0.2;
      o.connect(g).connect(audio.destination);
      o.start(audio.currentTime + i * 0.2);
      o.stop(audio.currentTime + i * 0.2 + 0.15);
    });
  } catch (e) { /* no audio device: the title and the notification still say it */ }
  document.body.dataset.chimes = String(++chimes);
}

function notify(title, body, tag, focus) {
  if (!notifyOn()) return;
  const n = new Notification(title, { body, tag, lang: state.language });
  n.onclick = () => { window.focus(); focus(); n.close(); };
}

function focusOn(selector) {
  return () => { const e = document.querySelector(selector); if (e) e.focus(); };
}

// After each redraw: the title's count, and what is new since the last one announced. Approvals
// count for those who may vote on them.
export function attend(active, pending) {
  const approvals = state.me && state.me.scopes.includes("approve") ? pending : [];
  const waiting = active.filter((i) => !i.acknowledged_at).length + approvals.length;
  document.title = waiting ? `(${waiting}) Tocsin · ${t("attention")(waiting)}` : "Tocsin";
  if (document.body.dataset.seq === undefined) return;  // the board is not in yet
  const ids = [...active.map((i) => i.id), ...approvals.map((a) => a.id)];
  if (seen === null) {  // the first snapshot: what was there before this page is not news
    seen = new Set(ids);
    return;
  }
  const said = [];
  for (const i of active) {
    if (seen.has(i.id)) continue;
    seen.add(i.id);
    const exercise = i.status && i.status !== "actual" ? ` (${t("exercise")})` : "";
    const title = t("new_incident")(`${sev(i.severity)}${exercise} — ${i.headline || i.type}`);
    const zone = i.location && i.location.zone ? ` · ${i.location.zone}` : "";
    said.push(title);
    notify(title, `${i.type}${zone}`, i.id, focusOn(`li.incident[data-id="${i.id}"]`));
  }
  for (const a of approvals) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const about = state.incidents.get(a.incident_id);
    const title = t("new_approval")(`${a.playbook}${about ? ` — ${about.headline || about.type}` : ""}`);
    said.push(title);
    notify(title, `${a.role} · ${a.incident_status === "actual" ? t("live") : t("exercise")}`, a.id,
           focusOn(`#approvals li[data-id="${a.id}"] button`));
  }
  if (!said.length) return;
  $("news").textContent = said.join(". ");
  if (soundOn()) chime();
}
