// The live feed over /ws/console: a snapshot on connect, then deltas (incidents, deliveries);
// it reconnects by itself, less often each time, and starts again from a fresh snapshot.

import { api } from "./api.js";
import { render, soon } from "./board.js";
import { $, state } from "./state.js";
import { t } from "./words.js";

export function connect() {
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
