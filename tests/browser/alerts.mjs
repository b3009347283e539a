// The public alerts page in Debian's chromium (headless), on a phone's screen, in French: no alert
// at first; then, with the page left open, a public alert released elsewhere appears in the list
// without the page being reloaded (the public WebSocket), and the status line says so for screen
// readers. axe-core checks the page in both states.
// Usage: node alerts.mjs --base URL --out DIR (prints "watching" once the page follows the feed)

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { accessible, arg, check } from "./common.mjs";

const base = arg("base"), out = arg("out");
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true,
                                             hasTouch: true, locale: "fr-CA" });
  const page = await context.newPage();
  // The page's WebSocket and what it receives, counted from its opening.
  let feedUrl = "", frames = 0;
  page.on("websocket", (ws) => {
    feedUrl = ws.url();
    ws.on("framereceived", () => { frames += 1; });
  });
  await page.goto(`${base}/alerts?lang=fr`);
  check((await page.textContent("#alerts")).includes("Aucune alerte publique"), "not empty at first");
  await accessible(page, "the public alerts page, empty");
  for (const until = Date.now() + 15000; frames < 1; await page.waitForTimeout(50))
    check(Date.now() < until, "no snapshot on the page's feed after 15 s");  // the snapshot
  check(feedUrl.endsWith("/ws/public?lang=fr"), `the page follows ${feedUrl}`);
  await page.evaluate(() => { window.notReloaded = true; });
  console.log("watching");

  await page.waitForSelector("#alerts article", { timeout: 90000 });
  check(await page.evaluate(() => window.notReloaded === true), "the page was reloaded");
  const shown = await page.textContent("#alerts");
  check(shown.includes("EN VIGUEUR"), "the alert is not shown in effect");
  check(shown.includes("Berges de la rivière des Prairies"), "the alert's area is not named");
  check((await page.textContent("#live-status")).includes("mise à jour"), "nothing said of it");
  await accessible(page, "the public alerts page with an alert");
  await page.screenshot({ path: join(out, "alerts.png"), fullPage: true });
  // The figures: totals only, with the alert just sent counted (under 10: not given).
  await page.click("text=Les chiffres");
  await page.waitForSelector("h1:text('Les chiffres des alertes')");
  check((await page.textContent("main")).includes("moins de 10"), "a count under 10 is given");
  await accessible(page, "the public figures");
  console.log("alerts: every step held");
} finally {
  await browser.close();
}
