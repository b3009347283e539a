// What the browser scripts share: signing a person in on a page of their own, and axe-core's
// audit of a page as it stands.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// A new context (its own cookies) signed in as `user` (password "correct horse battery"), once
// the board's first snapshot is in. `context` options: locale, viewport, timezoneId…
export async function signIn(browser, base, user, context = { locale: "fr-CA" }) {
  const page = await (await browser.newContext(context)).newPage();
  await page.goto(`${base}/console`);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', "correct horse battery");
  await page.press('input[name="password"]', "Enter");
  await page.waitForSelector("#board:not([hidden])");
  await page.waitForFunction(() => document.body.dataset.seq !== undefined);  // the snapshot
  return page;
}

// axe-core's WCAG 2.1 A and AA rules on the page as it stands: any violation fails the test,
// named with the elements at fault. Evaluated through the DevTools protocol (the page's
// Content-Security-Policy forbids an injected script, rightly).
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export async function accessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
  if (found.length) throw new Error(`${what} is not accessible: ${found.join("; ")}`);
  console.log(`${what}: no WCAG 2.1 AA violation found by axe-core (${result.passes.length} rules passed)`);
}

// A command-line argument: --name VALUE (required).
export function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
}

// A step that must hold, or the script stops saying what did not.
export function check(ok, what) {
  if (!ok) throw new Error(what);
}
