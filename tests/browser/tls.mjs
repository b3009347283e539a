// The console over HTTPS in a real browser (Debian's chromium, headless): sign in, and the board's
// live feed arrives over wss://. The server is started by the caller with http.tls on a
// throw-away certificate, which this browser is told to accept (it is not in its trust store).
// Usage: node tls.mjs --base https://127.0.0.1:PORT --user U --password P --out DIR

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { arg } from "./common.mjs";

const base = arg("base"), user = arg("user"), password = arg("password"), out = arg("out");
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ locale: "en-CA", ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(`${base}/console`);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', password);
  await page.press('input[name="password"]', "Enter");
  await page.waitForSelector("#board:not([hidden])");
  await page.waitForFunction(() => document.body.dataset.seq !== undefined);  // the snapshot
  const cookie = (await context.cookies()).find((c) => c.name === "tocsin_session");
  if (!cookie || !cookie.secure || !cookie.httpOnly) throw new Error(`session cookie: ${JSON.stringify(cookie)}`);
  if (!sockets.some((u) => u.startsWith("wss://"))) throw new Error(`live feed not over wss: ${sockets}`);
  await page.screenshot({ path: join(out, "board-over-https.png"), fullPage: true });
  console.log(`console over https: signed in, Secure cookie, live feed ${sockets.join(", ")}`);
} finally {
  await browser.close();
}
