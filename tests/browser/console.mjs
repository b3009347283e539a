// The coordinator's console in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real tocsin server that this script starts and restarts.
// Usage: node console.mjs --tocsin BIN --config FILE --port N --zmq ENDPOINT --out DIR
// Exit 0 when every step held; screenshots of each step in DIR.

import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { accessible, signIn as signInAs, arg } from "./common.mjs";

const tocsin = arg("tocsin"), config = arg("config"), port = arg("port"), zmq = arg("zmq");
const out = arg("out");
mkdirSync(out, { recursive: true });
const base = `http://127.0.0.1:${port}`;
const log = openSync(join(out, "tocsin.log"), "a");

let server = null;
async function startServer() {
  server = spawn(tocsin, ["serve", "--config", config], { stdio: ["ignore", log, log] });
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("tocsin did not start");
}
async function stopServer() {
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await exited;
}

function send(headline) {
  const reply = execFileSync(tocsin, ["send", "--endpoint", zmq, "--source", "gauge-rdp-17",
    "--type", "flood.water_level", "--severity", "severe", "--zone", "riverside",
    "--attr", "level_m=4.4", "--headline", headline, "--dedup-key", headline]).toString();
  const m = reply.match(/^ok (\S+) created/);
  if (!m) throw new Error(`unexpected reply: ${reply}`);
  return m[1];
}

let step = 0, last = null;
async function shot(page, name) {
  last = page;
  await page.screenshot({ path: join(out, `${String(++step).padStart(2, "0")}-${name}.png`),
                          fullPage: true });
}

const signIn = (browser, user) => signInAs(browser, base, user);

// Approving a LIVE public alert: the word is typed first (the button stays disabled until then).
async function approveLive(page) {
  await page.click("#approvals li button.approve");
  await page.waitForSelector("#approvals li button.confirm-approve[disabled]");
  await page.fill("#approvals li input.confirm-approve", "RÉEL");
  await page.click("#approvals li button.confirm-approve");
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  await startServer();

  // The sign-in page, then the board, live.
  {
    const login = await (await browser.newContext({ locale: "fr-CA" })).newPage();
    await login.goto(`${base}/console`);
    await login.waitForSelector('input[name="user"]');
    await accessible(login, "the sign-in page");
    await login.context().close();
  }
  const page = await signIn(browser, "mgagnon");
  await shot(page, "signed-in");
  let navigations = 0;
  page.on("framenavigated", () => ++navigations);

  // A report over ZeroMQ appears without a reload.
  const sent = Date.now();
  const id = send("Crue au pont");
  const row = `li.incident[data-id="${id}"]`;
  await page.waitForSelector(row, { timeout: 5000 });
  console.log(`incident on the board ${Date.now() - sent} ms after it was sent`);
  if (navigations) throw new Error("the page reloaded");
  await page.waitForSelector(`${row} .badge.live`);
  await shot(page, "incident-live");

  // Acknowledged: the escalation step is skipped, the run waits for an approval.
  await page.click(`${row} button.ack`);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("reçu par mgagnon"), row);
  // The run's state and history in the reader's language (French here, from the browser)…
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("attend une approbation"), row);
  await page.waitForFunction((sel) => document.querySelector(`${sel} .timeline`)?.textContent
    .includes("notify sautée (condition not_acknowledged)"), row);  // the escalation, not sent
  await page.waitForSelector("#approvals li");
  await shot(page, "acknowledged");
  // …and in English when the coordinator picks it, without a reload.
  await page.selectOption("#language", "en");
  await page.waitForFunction((sel) => document.querySelector(`${sel} .timeline`)?.textContent
    .includes("notify skipped (when: not_acknowledged)") &&
    document.querySelector(sel).textContent.includes("awaiting approval"), row);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("acknowledged by mgagnon") &&
    document.querySelector("#link").textContent === "Live", row);
  await shot(page, "acknowledged-english");
  await page.selectOption("#language", "fr");
  await page.waitForFunction((sel) => document.querySelector(`${sel} .timeline`)?.textContent
    .includes("reçu par mgagnon"), row);

  // The operator may not approve; two approvers do, each from their own browser: one is not
  // enough for a sensor's public alert.
  if (await page.$("#approvals li button.approve")) throw new Error("an operator can approve");
  const approver = await signIn(browser, "swilliams");
  await approveLive(approver);
  await approver.waitForFunction(() => document.querySelector("#approvals li")?.textContent.includes("1/2 approbation"));
  const second = await signIn(browser, "plavoie");
  await approveLive(second);
  await approver.waitForFunction(() => document.querySelectorAll("#approvals li").length === 0);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("(public)"), row);
  // Delivery progress per channel: a bar for each, with its counts in words.
  await page.waitForSelector(`${row} .deliveries .channel[data-channel="websocket"] progress`);
  await page.waitForSelector(`${row} .deliveries .channel[data-channel="sms"] progress`);
  await shot(approver, "approved");
  await accessible(page, "the board (an incident, its runs, deliveries)");

  // A person reports through the console: they initiated it, so their own approval is refused;
  // two other approvers' are not.
  // The types offered are the ones the playbooks match (the earthquake's too), a family by prefix.
  await approver.waitForFunction(() => {
    const offered = [...document.querySelectorAll("#incident-types option")].map((o) => o.value);
    return ["seismic.earthquake", "flood.water_level", "chem."].every((v) => offered.includes(v));
  });
  await approver.fill('#report input[name="type"]', "chem.chlorine_leak");
  await approver.selectOption('#report select[name="severity"]', "extreme");
  await approver.selectOption('#report select[name="zone"]', "industrial-park");
  await approver.fill('#report input[name="headline"]', "Fuite de chlore");
  await approver.click('#report button[type="submit"]');
  await approver.waitForSelector("#approvals li button.approve");
  await approveLive(approver);
  await approver.waitForFunction(() =>  // said in French, not in the server's English
    document.querySelector("#message").textContent.includes("Vous êtes à l'origine de cet incident"));
  await shot(approver, "own-approval-refused");
  await approveLive(second);
  await second.waitForFunction(() => document.querySelector("#approvals li")?.textContent.includes("1/2 approbation"));
  const third = await signIn(browser, "aroy");
  await approveLive(third);
  await second.waitForFunction(() => document.querySelectorAll("#approvals li").length === 0);
  await second.waitForFunction(() => [...document.querySelectorAll("li.incident")].some(
    (li) => li.textContent.includes("Fuite de chlore") && li.textContent.includes("(public)")));
  await shot(second, "second-person-approved");

  // A correction, in each language's own words, to every channel the alert went to.
  await second.click('li.incident:has-text("Fuite de chlore") .deliveries button.correct-alert');
  await second.waitForSelector("#correct:not([hidden])");
  if (!(await second.evaluate(() => document.activeElement?.name === "fr"))) throw new Error("focus is not on the French text");
  await second.fill('#correct-form textarea[name="fr"]', "Fermez aussi les fenêtres du côté est.");
  await second.fill('#correct-form textarea[name="en"]', "Also close the windows on the east side.");
  await shot(second, "correction-form");
  await accessible(second, "the correction form");
  await second.click('#correct-form button[type="submit"]');
  await second.waitForSelector("#correct", { state: "hidden" });
  // Proposed, not sent: the alert says a correction waits; another person releases it from the
  // approvals, reading its text and typing the word.
  await second.waitForSelector('li.incident:has-text("Fuite de chlore") .badge.correction-pending');
  await third.waitForSelector('#approvals li:has-text("Fermez aussi les fenêtres") button.approve');
  await shot(third, "correction-pending");
  await approveLive(third);
  await third.waitForFunction(() => document.querySelectorAll("#approvals li").length === 0);
  await second.waitForFunction(() => [...document.querySelectorAll("li.incident")].some(
    (li) => li.textContent.includes("Fuite de chlore") && li.textContent.includes("correction (public)")));

  // Cancelling the public alert is one action: every channel it went to gets the cancellation.
  await second.click('li.incident:has-text("Fuite de chlore") .deliveries button.cancel-alert');
  await second.waitForFunction(() => [...document.querySelectorAll("li.incident")].some(
    (li) => li.textContent.includes("Fuite de chlore") && li.textContent.includes("annulation (public)")));
  await shot(second, "public-alert-cancelled");

  // The session ends elsewhere (signed out in another tab): the open console does not go on
  // showing the board. The server closes its live feed at its next check (every 10 s), and the
  // page goes back to sign-in and says why, without anyone clicking.
  const other = await second.context().newPage();
  await other.goto(`${base}/console`);
  await other.waitForSelector("#logout:not([hidden])");
  await other.click("#logout");
  await other.waitForSelector('#login:not([hidden])');
  await second.waitForFunction(() => !document.querySelector("#login").hidden &&
    document.querySelector("#login-error").textContent.includes("Session expirée"), null, { timeout: 30000 });
  await shot(second, "session-ended");
  if (await second.evaluate(async () => (await fetch("/api/v1/session")).status) !== 401)
    throw new Error("the ended session still works");

  // Composing a manual alert: a template, channels, residents, a zone added on the map with the
  // keyboard; both languages previewed side by side with the SMS segment count. A live alert
  // cannot be sent until the word is typed, and then waits for a second person.
  await page.click(`${row} button.compose`);
  await page.waitForSelector('#compose:not([hidden]) #map path[data-zone="old-port"]');
  if (!(await page.textContent("#compose-mode")).includes("RÉELLE")) throw new Error("no LIVE marking");
  await page.selectOption('#compose-form select[name="template"]', "flood-public");
  await page.check('#compose-channels input[value="sms"]');
  await page.check('#compose-channels input[value="websocket"]');
  await page.check('#compose-form input[name="residents"]');
  await page.focus('#map path[data-zone="old-port"]');  // riverside, the incident's, is picked
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.querySelector("#map-picked").textContent.includes("Vieux-Port"));
  await page.waitForSelector('#compose-preview tr[data-channel="sms"] td[data-lang="fr"] .segments');
  await page.waitForSelector('#compose-preview tr[data-channel="sms"] td[data-lang="en"] .segments');
  await page.waitForSelector('#compose-preview tr[data-channel="websocket"] td[data-lang="en"]');
  await page.waitForSelector("#confirm-row:not([hidden])");
  if (!(await page.isDisabled("#compose-send"))) throw new Error("a live alert could be sent untyped");
  await shot(page, "compose-preview");
  await accessible(page, "the compose form with its preview");
  await page.fill("#confirm", "RÉEL");
  await page.waitForFunction(() => !document.querySelector("#compose-send").disabled);
  await page.click("#compose-send");
  await page.waitForFunction(() => document.querySelector("#message").textContent.includes("attend une approbation"));
  await page.waitForSelector("#compose", { state: "hidden" });
  await approver.waitForSelector('#approvals li:has-text("composed")');
  await shot(page, "compose-sent");

  // An administrator pages through the audit trail: the people's actions and the machines'.
  const admin = await signIn(browser, "ada");
  await admin.click("#show-audit");
  await admin.waitForSelector('#audit-rows tr:has-text("alert.compose")');
  await admin.waitForSelector('#audit-rows tr:has-text("approval.approve")');
  await admin.waitForSelector('#audit-rows tr:has-text("run.step")');
  if (await page.isVisible("#show-audit")) throw new Error("an operator sees the audit trail");
  await shot(admin, "audit-trail");
  await accessible(admin, "the audit trail");

  // The server restarts: the board says so, reconnects by itself, and resynchronises.
  await stopServer();
  await page.waitForSelector("#link.down");
  await shot(page, "server-down");
  await startServer();
  await page.waitForFunction(() => !document.querySelector("#link").classList.contains("down"),
                             null, { timeout: 20000 });
  const after = send("Crue au quai");
  await page.waitForSelector(`li.incident[data-id="${after}"]`, { timeout: 5000 });
  await page.waitForSelector(row);  // still there, from the new snapshot
  if (navigations) throw new Error("the page reloaded");
  await shot(page, "reconnected");
  console.log("console: every step held");
} catch (e) {
  if (last) {
    await last.screenshot({ path: join(out, "failure.png"), fullPage: true });
    console.log(`failure; the page said: ${await last.textContent("main")}`);
  }
  throw e;
} finally {
  await browser.close();
  if (server && server.exitCode === null) await stopServer();
}
