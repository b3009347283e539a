// Who is on call in the console, in Debian's chromium (headless): an operator sees the schedule and
// who is on call, has Jean cover for Marie for two hours from the form (the city's clock), sees
// the cover and Jean on call, checks the page with axe-core, then cancels the cover.
// Usage: node oncall.mjs --base URL --out DIR

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { accessible, signIn, arg, check } from "./common.mjs";

const base = arg("base"), out = arg("out");
mkdirSync(out, { recursive: true });

// A time two hours from now on Montréal's clock, as a datetime-local field takes it.
function montrealIn(hours) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "America/Montreal", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(Date.now() + hours * 3600e3));
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return `${v.year}-${v.month}-${v.day}T${v.hour}:${v.minute}`;
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  const page = await signIn(browser, base, "mgagnon", { locale: "fr-CA", timezoneId: "Europe/Paris" });
  await page.click("#show-oncall");
  const duty = page.locator('#oncall-list li[data-schedule="duty"]');
  await duty.locator(".on-call", { hasText: "Marie Gagnon" }).waitFor();
  console.log("oncall: the schedule and who is on call shown");

  await page.selectOption('#override select[name="schedule"]', "duty");
  await page.selectOption('#override select[name="person"]', "jtremblay");
  await page.selectOption('#override select[name="instead_of"]', "mgagnon");
  await page.fill('#override input[name="to"]', montrealIn(2));
  await page.fill('#override input[name="reason"]', "Marie à l'hôpital");
  await page.click('#override button[type="submit"]');
  await duty.locator(".on-call", { hasText: "Jean Tremblay" }).waitFor();
  const cover = duty.locator("li[data-override]");
  await cover.waitFor();
  const text = await cover.textContent();
  check(text.includes("Jean Tremblay à la place de Marie Gagnon"), `the cover reads: ${text}`);
  check(text.includes("Marie à l'hôpital"), `the cover has no reason: ${text}`);
  check((await page.textContent("#message")).includes("Remplacement enregistré"), "no word said");
  console.log("oncall: a cover saved from the form, Jean on call");
  await accessible(page, "the on-call panel");
  await page.screenshot({ path: join(out, "oncall-cover.png"), fullPage: true });

  // A refusal names its field: a cover that ends before it starts.
  await page.fill('#override input[name="from"]', montrealIn(3));
  await page.click('#override button[type="submit"]');
  await page.waitForFunction(() => document.getElementById("message").textContent.includes("to"));
  console.log(`oncall: refused: ${await page.textContent("#message")}`);

  await cover.locator("button").click();
  await duty.locator(".on-call", { hasText: "Marie Gagnon" }).waitFor();
  check(await duty.locator("li[data-override]").count() === 0, "the cover is still listed");
  console.log("oncall: the cover cancelled, Marie on call again");
  console.log("oncall: every step held");
} finally {
  await browser.close();
}
