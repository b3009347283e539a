// The residents' pages in Debian's chromium (headless), on a phone's screen: a resident signs up in
// French (the address found by typing "st-laurent"), reads the code from the text message the fake
// SMS provider received, confirms, changes their choices, switches to English, downloads their
// data and deletes themselves; axe-core checks every page. Then the same sign-up with JavaScript
// off, to show the forms need none.
// Usage: node residents.mjs --base URL --requests FILE.jsonl --out DIR

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { accessible, arg, check } from "./common.mjs";

const base = arg("base"), requests = arg("requests"), out = arg("out");
mkdirSync(out, { recursive: true });

// The 6-digit code of the `n`th text message the provider was asked to send to `to` (waits up to
// 15 s for it).
async function codeTextedTo(to, n = 1) {
  const until = Date.now() + 15000;
  for (;;) {
    const bodies = existsSync(requests)
      ? readFileSync(requests, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
          .filter((r) => r.form && r.form.To === to).map((r) => r.form.Body)
      : [];
    if (bodies.length >= n) {
      const code = bodies[n - 1].match(/\b(\d{6})\b/);
      check(code, `no code in: ${bodies[n - 1]}`);
      return code[1];
    }
    if (Date.now() > until) throw new Error(`no text message to ${to} after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Waits for the page at `url`; if it does not come, says what the page shows instead.
async function arrive(page, url) {
  try {
    await page.waitForURL(url, { timeout: 15000 });
  } catch (e) {
    const said = await page.textContent("main").catch(() => "");
    throw new Error(`not at ${url} but ${page.url()}: ${said}`);
  }
}

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ ...phone, locale: "fr-CA", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${base}/residents`);
  check(await page.getAttribute("html", "lang") === "fr", "the page is not in French");
  check((await page.textContent("h1")).includes("inscrire aux alertes"), "no sign-up title");
  await accessible(page, "the sign-up page");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 390, `the page is wider than the phone: ${wide}px`);

  await page.fill("#phone", "514 555-0401");
  await page.fill("#q", "st-laurent");
  await page.click("text=Chercher l'adresse");
  await page.waitForSelector('input[name="address"]');
  check((await page.inputValue("#phone")) === "514 555-0401", "the number typed was lost");
  const first = page.locator('input[name="address"]').first();
  const label = await page.textContent(`label[for="${await first.getAttribute("id")}"]`);
  check(label.includes("Boulevard Saint-Laurent"), `st-laurent found: ${label}`);
  await first.check();
  await page.fill("#label", "maison");
  await page.uncheck("#category-roads");
  await accessible(page, "the address choices");
  await page.screenshot({ path: join(out, "01-sign-up.png"), fullPage: true });
  await page.click('button:text("M\'inscrire")');
  await arrive(page, /\/residents\/confirm\//);
  await accessible(page, "the confirmation page");

  // A wrong code first: said at the field, with the tries left.
  const code = await codeTextedTo("+15145550401");
  await page.fill("#code", code === "000000" ? "111111" : "000000");
  await page.click('button:text("Confirmer")');
  await page.waitForSelector("#code-error");
  check((await page.textContent("#code-error")).includes("Essais restants : 4"), "no tries left said");
  await accessible(page, "a wrong code");
  await page.fill("#code", code);
  await page.click('button:text("Confirmer")');
  await arrive(page, /\/residents\/me/);
  check((await page.textContent("body")).includes("•••• 0401"), "the number is not shown masked");
  check((await page.textContent("body")).includes("maison"), "the place is not shown");
  await accessible(page, "the subscription");
  await page.screenshot({ path: join(out, "02-subscription.png"), fullPage: true });
  console.log("residents: signed up in French, confirmed by the code texted");

  // A second place, picked on the zone map: a click in the middle of the east end's shape.
  const svg = await (await fetch(`${base}/residents/map.svg?lang=fr`)).text();
  const corners = svg.match(/<g id="zone-east-end"><polygon[^>]*points="([^"]+)"/)[1]
    .trim().split(/\s+/).map((xy) => xy.split(",").map(Number));
  const middle = (i) => corners.reduce((sum, c) => sum + c[i], 0) / corners.length;
  await page.fill("#place-label", "chez ma mère");
  const map = page.locator('input[type="image"]');
  const box = await map.boundingBox();
  check(box && box.width >= 320, "the zone map is not shown at its size");
  await map.click({ position: { x: middle(0) + 2, y: middle(1) + 2 } });  // inside its 2px border
  await arrive(page, /\/residents\/me/);
  const withMother = await page.textContent("body");
  check(withMother.includes("chez ma mère : un point choisi sur la carte — zones : Quartiers de l'Est"),
        "the place picked on the map is not followed in the east end");
  await accessible(page, "the subscription with two places");
  await page.screenshot({ path: join(out, "02b-two-places.png"), fullPage: true });
  console.log("residents: a second place picked on the zone map");

  // Their choices changed, then the page in English.
  await page.check("#category-roads");
  await page.check("#language-en");
  await page.click('button:text("Enregistrer")');
  await arrive(page, /\/residents\/me/);
  await page.click('a[hreflang="en"]');
  await page.waitForFunction(() => document.documentElement.lang === "en");
  check((await page.textContent("h1")) === "My subscription", "not in English");
  check((await page.textContent("body")).includes("Language of alerts: English"), "language kept");
  await accessible(page, "the subscription in English");
  await page.screenshot({ path: join(out, "03-subscription-english.png"), fullPage: true });

  // Everything the city holds on them, downloaded.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("text=Download everything the City keeps on me (JSON)"),
  ]);
  const held = JSON.parse(readFileSync(await download.path(), "utf8"));
  check(held.contacts[0].value === "+15145550401", "the download lacks their number");
  check(held.places[0].label === "maison", "the download lacks their place");
  check(held.language === "en", "the download's language");
  console.log("residents: choices changed, page in English, data downloaded");

  // Unsubscribed and deleted.
  await page.check("#confirm-delete");
  await page.click("text=Unsubscribe and delete my data");
  await page.waitForSelector("h1:text('Unsubscribed')");
  await accessible(page, "the erasure's page");
  await page.screenshot({ path: join(out, "04-deleted.png"), fullPage: true });
  await page.goto(`${base}/residents/me`);
  check((await page.textContent("h1")).length > 0 && !(await page.textContent("body")).includes("0401"),
        "the subscription is still there");
  console.log("residents: unsubscribed and deleted");

  // The forms need no script.
  const plain = await browser.newContext({ ...phone, locale: "en-CA", javaScriptEnabled: false });
  const nojs = await plain.newPage();
  await nojs.goto(`${base}/residents`);
  check(await nojs.getAttribute("html", "lang") === "en", "not in English for an English browser");
  await nojs.fill("#phone", "514 555-0402");
  await nojs.fill("#q", "gouin");
  await nojs.click("text=Find the address");
  await nojs.locator('input[name="address"]').first().check();
  await nojs.click('button:text("Sign up")');
  await arrive(nojs, /\/residents\/confirm\//);
  await nojs.fill("#code", await codeTextedTo("+15145550402"));
  await nojs.click('button:text("Confirm")');
  await arrive(nojs, /\/residents\/me/);
  check((await nojs.textContent("body")).includes("•••• 0402"), "no subscription without script");
  console.log("residents: signed up and confirmed with JavaScript off");
  console.log("residents: every step held");
} finally {
  await browser.close();
}
