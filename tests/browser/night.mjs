// The console for a long night, in Debian's chromium (headless) against a running tocsin whose
// city is in Montréal while the browser is in Tokyo: times in the city's zone, the title's count,
// the chime and the desktop notification of a new incident or approval, the board's filters and
// order kept in the address; then the layouts of a phone, a tablet and the EOC's wall screen, each
// without sideways scrolling and with axe-core's WCAG 2.1 AA rules.
// Usage: node night.mjs --base URL --tocsin BIN --zmq ENDPOINT --out DIR

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { accessible, signIn, arg, check } from "./common.mjs";

const base = arg("base"), tocsin = arg("tocsin"), zmq = arg("zmq"), out = arg("out");
mkdirSync(out, { recursive: true });

function send(type, severity, zone, headline, extra = []) {
  const reply = execFileSync(tocsin, ["send", "--endpoint", zmq, "--source", "gauge-rdp-17",
    "--type", type, "--severity", severity, "--zone", zone, "--headline", headline,
    "--dedup-key", headline, ...extra]).toString();
  const m = reply.match(/^ok (\S+) created/);
  if (!m) throw new Error(`unexpected reply: ${reply}`);
  return m[1];
}

// The page's own Notification, observed: what it shows is recorded before the browser shows it.
function observeNotifications() {
  const Real = window.Notification;
  window.__notified = [];
  function Observed(title, options = {}) {
    window.__notified.push({ title, body: options.body, tag: options.tag });
    try { return new Real(title, options); } catch (e) { return { close() {} }; }
  }
  Object.defineProperty(Observed, "permission", { get: () => Real.permission });
  Observed.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Observed;
}
async function consoleOf(browser, user, options = {}) {
  const context = { locale: "fr-CA", timezoneId: "Asia/Tokyo", ...options };
  const page = await signIn(browser, base, user, context);
  await page.context().grantPermissions(["notifications"], { origin: base });
  await page.context().addInitScript(observeNotifications);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.seq !== undefined);
  return page;
}
async function titleIs(page, title) {
  try { await page.waitForFunction((t) => document.title === t, title, { timeout: 10000 }); }
  catch (e) { throw new Error(`the title is "${await page.title()}", not "${title}"`); }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  // An operator at her desk: nothing waits yet.
  const page = await consoleOf(browser, "mgagnon");
  await titleIs(page, "Tocsin");
  await page.check("#sound");  // a click: the page may play sound, and chimes once to say so
  await page.waitForFunction(() => document.body.dataset.chimes === "1");
  await page.click("#notify");
  await page.waitForSelector('#notify[aria-pressed="true"]');

  // A flood report: counted in the title, chimed, notified, said to screen readers.
  const flood = send("flood.water_level", "severe", "riverside", "Crue au pont Pie-IX", ["--attr", "level_m=4.4"]);
  const floodRow = `li.incident[data-id="${flood}"]`;
  await page.waitForSelector(floodRow);
  await titleIs(page, "(1) Tocsin · 1 à traiter");
  await page.waitForFunction(() => document.body.dataset.chimes === "2");
  await page.waitForFunction((id) => window.__notified.some((n) => n.tag === id), flood);
  const shown = await page.evaluate((id) => window.__notified.find((n) => n.tag === id), flood);
  check(shown.title === "Nouvel incident : GRAVE — Crue au pont Pie-IX", `notification: ${shown.title}`);
  check(shown.body === "flood.water_level · riverside", `notification body: ${shown.body}`);
  check((await page.textContent("#news")).includes("Nouvel incident : GRAVE — Crue au pont Pie-IX"),
        "the news is not said to screen readers");

  // Times are the city's, not the browser's: the same instant as Montréal writes it.
  const times = await page.evaluate(async ({ sel, id }) => {
    const at = new Date((await (await fetch(`/api/v1/incidents/${id}`)).json()).created_at);
    const as = (timeZone) => new Intl.DateTimeFormat("fr-CA", { dateStyle: "short", timeStyle: "long", timeZone }).format(at);
    return { meta: document.querySelector(`${sel} .meta`).textContent, montreal: as("America/Montreal"),
             tokyo: as("Asia/Tokyo"), browser: Intl.DateTimeFormat().resolvedOptions().timeZone };
  }, { sel: floodRow, id: flood });
  check(times.browser === "Asia/Tokyo", `the browser is in ${times.browser}`);
  check(times.meta.includes(times.montreal), `"${times.meta}" does not give the time as Montréal does (${times.montreal})`);
  check(!times.meta.includes(times.tokyo), `"${times.meta}" gives the browser's time`);
  check(/\d/.test(await page.textContent("#clock")), "no city clock");
  console.log(`night: times in the city's zone: ${times.montreal} (the browser would say ${times.tokyo})`);

  // A second incident elsewhere, less severe; then the filters and the order.
  const fire = send("fire.alarm", "moderate", "downtown", "Alarme incendie, hôtel de ville");
  await page.waitForSelector(`li.incident[data-id="${fire}"]`);
  await titleIs(page, "(2) Tocsin · 2 à traiter");
  const order = () => page.$$eval("#incidents > li", (l) => l.map((e) => e.dataset.id));
  check((await order())[0] === flood, "the most severe is not first");
  await page.selectOption('#filters select[name="sort"]', "newest");
  await page.waitForFunction((id) => document.querySelector("#incidents > li")?.dataset.id === id, fire);
  await page.selectOption('#filters select[name="zone"]', "riverside");
  await page.waitForFunction(() => document.querySelectorAll("#incidents > li").length === 1);
  check((await order())[0] === flood, "the zone filter shows another zone's incident");
  check((await page.textContent("#shown")) === "1 incident(s) affiché(s) sur 2", await page.textContent("#shown"));
  check(page.url().endsWith("/console?zone=riverside&sort=newest"), `the address is ${page.url()}`);
  await shot(page, "filtered-by-zone");
  // The view survives a reload (a wall screen's bookmark); what was there is not news again.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.seq !== undefined);
  await page.waitForFunction(() => document.querySelectorAll("#incidents > li").length === 1);
  check(await page.inputValue('#filters select[name="zone"]') === "riverside", "the zone filter was lost");
  await titleIs(page, "(2) Tocsin · 2 à traiter");
  check((await page.evaluate(() => window.__notified.length)) === 0, "old incidents notified again");
  // Severity at least severe, every zone: the fire is hidden; acknowledged ones only: none.
  await page.selectOption('#filters select[name="zone"]', "");
  await page.selectOption('#filters select[name="severity"]', "severe");
  await page.waitForFunction(() => document.querySelectorAll("#incidents > li").length === 1);
  check((await order())[0] === flood, "the severity filter shows a moderate incident");
  await page.selectOption('#filters select[name="severity"]', "");
  await page.selectOption('#filters select[name="state"]', "unacked");
  await page.waitForFunction(() => document.querySelectorAll("#incidents > li").length === 2);
  await page.click(`${floodRow} button.ack`);
  await page.waitForFunction((sel) => !document.querySelector(sel), floodRow);  // acknowledged: not shown
  await titleIs(page, "(1) Tocsin · 1 à traiter");  // the operator does not vote on approvals
  await page.selectOption('#filters select[name="state"]', "acked");
  await page.waitForSelector(floodRow);
  await page.selectOption('#filters select[name="state"]', "all");
  await page.selectOption('#filters select[name="sort"]', "severity");
  await accessible(page, "the board with its filters");

  // An approver: the approval the flood's run asked for counts, and a new one is notified.
  const approver = await consoleOf(browser, "swilliams");
  await approver.waitForSelector("#approvals li");
  await titleIs(approver, "(2) Tocsin · 2 à traiter");  // the fire, and the flood's approval
  await approver.click("#notify");
  await approver.waitForSelector('#notify[aria-pressed="true"]');
  send("water.boil_advisory", "moderate", "east-end", "Avis d'ébullition, secteur est");
  await approver.waitForFunction(() => document.querySelectorAll("#approvals li").length === 2);
  await approver.waitForFunction(() => window.__notified.some((n) => n.title.startsWith("Approbation demandée : boil-water")));
  check(!(await page.evaluate(() => window.__notified.some((n) => n.title.startsWith("Approbation")))),
        "the operator was notified of an approval she cannot give");
  await shot(approver, "approver-notified");
  console.log("night: title counts, chime, desktop notifications and filters held");

  // Three screens. Each: nothing wider than the screen, controls large enough to touch, axe-core.
  for (const [name, width, height, touch] of [["phone", 375, 740, 44], ["tablet", 820, 1180, 40],
                                              ["wall", 1920, 1080, 24]]) {
    const p = await consoleOf(browser, "swilliams", { viewport: { width, height }, isMobile: name === "phone",
                                                      hasTouch: name !== "wall" });
    await p.waitForSelector("#approvals li");
    await p.waitForSelector("#incidents > li:nth-child(3)");
    const layout = await p.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
      small: [...document.querySelectorAll("header button, header select, main button, main select, main input:not([type=checkbox])")]
        .filter((e) => e.offsetParent !== null && !e.closest("[hidden]"))
        .map((e) => ({ what: e.outerHTML.slice(0, 80), h: e.getBoundingClientRect().height }))
        .filter((e) => e.h > 0),
      tops: [...document.querySelectorAll("#incidents > li")].map((e) => e.getBoundingClientRect().top),
    }));
    check(layout.scroll <= layout.inner, `${name}: the page is ${layout.scroll} px wide on a ${layout.inner} px screen`);
    const tooSmall = layout.small.filter((e) => e.h < touch - 0.5);
    check(tooSmall.length === 0, `${name}: controls under ${touch} px: ${tooSmall.map((e) => `${e.what} (${e.h})`).join(", ")}`);
    if (name === "wall") check(layout.tops[0] === layout.tops[1], "wall: the incidents are not side by side");
    else check(layout.tops[1] > layout.tops[0], `${name}: the incidents are not one under the other`);
    await shot(p, `layout-${name}`);
    await accessible(p, `the board on a ${name} (${width} px)`);
    if (name === "phone") {  // the compose form too: the longest page
      await p.click(`li.incident[data-id="${fire}"] button.compose`);
      await p.waitForSelector('#compose:not([hidden]) #map path[data-zone="downtown"]');
      await p.selectOption('#compose-form select[name="template"]', "flood-public");
      await p.check('#compose-channels input[value="sms"]');
      await p.check('#compose-form input[name="residents"]');
      await p.waitForSelector('#compose-preview tr[data-channel="sms"] td[data-lang="fr"] .segments');
      const wide = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(wide <= 0, `phone: the compose form is ${wide} px too wide`);
      await shot(p, "layout-phone-compose");
      await accessible(p, "the compose form on a phone");
    }
    await p.context().close();
  }
  console.log("night: every step held");
} finally {
  await browser.close();
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}
