// The served OpenAPI document, checked with the tools its readers use: it validates against
// OpenAPI 3.1's own schema (@seriousme/openapi-schema-validator), and its IncidentReport schema
// (ajv, JSON Schema 2020-12) agrees with the server's parser: every report example of the docs
// passes the schema and is accepted by the server, and each bad report below fails both.
// Usage: node openapi.mjs --base http://127.0.0.1:PORT --token TOKEN --docs DIR

import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { arg } from "./common.mjs";

const base = arg("base"), token = arg("token"), docs = arg("docs");

const answer = await fetch(`${base}/api/v1/openapi.json`);  // public: no token
if (answer.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${answer.status}`);
const document = await answer.json();

const validator = new Validator();
const checked = await validator.validate(structuredClone(document));
if (!checked.valid) {
  throw new Error(`the document is not valid OpenAPI ${document.openapi}: ` +
                  JSON.stringify(checked.errors, null, 1).slice(0, 4000));
}
console.log(`openapi: valid OpenAPI ${validator.version}, ` +
            `${Object.keys(document.paths).length} paths`);

// The report schema, its $refs resolved within the document.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, "openapi.json");
const valid = ajv.getSchema("openapi.json#/components/schemas/IncidentReport");
if (!valid) throw new Error("components.schemas.IncidentReport is missing");

async function report(body) {
  const r = await fetch(`${base}/api/v1/incidents`, {
    method: "POST",
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

// The docs' examples: docs/examples/incidents/*.json, the report in docs/protocol.md, and the
// document's own.
const examples = [];
for (const f of readdirSync(join(docs, "examples", "incidents")).filter((f) => f.endsWith(".json")))
  examples.push([`docs/examples/incidents/${f}`, JSON.parse(readFileSync(join(docs, "examples", "incidents", f), "utf8"))]);
const protocol = readFileSync(join(docs, "protocol.md"), "utf8");
for (const block of protocol.matchAll(/```json\n([\s\S]*?)```/g)) {
  const v = JSON.parse(block[1]);
  if (v.source && v.type) examples.push(["docs/protocol.md", v]);
}
examples.push(["openapi GaugeReport", document.components.examples.GaugeReport.value]);
if (examples.length < 4) throw new Error(`only ${examples.length} examples found`);
for (const [where, body] of examples) {
  if (!valid(body)) throw new Error(`${where} fails the schema: ${ajv.errorsText(valid.errors)}`);
  const r = await report(body);
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`${where} passes the schema but the server answered ${r.status}: ${JSON.stringify(r.body)}`);
}
console.log(`openapi: ${examples.length} report examples of the docs pass the schema and are accepted`);

// Reports the schema and the server both refuse, each for the field the server names.
const good = { source: "gauge-9", type: "flood.water_level", severity: "minor" };
const bad = [
  ["no type", { source: "gauge-9", severity: "minor" }, "type"],
  ["no severity", { source: "gauge-9", type: "flood.x" }, "severity"],
  ["a misspelt field", { ...good, severty: "minor" }, "severty"],
  ["an unknown severity", { ...good, severity: "apocalyptic" }, "severity"],
  ["an upper-case type", { ...good, type: "Flood.Level" }, "type"],
  ["a type with an empty word", { ...good, type: "flood..level" }, "type"],
  ["a source with a space", { ...good, source: "gauge 9" }, "source"],
  ["a latitude off the globe", { ...good, location: { lat: 91, lon: 0 } }, "location.lat"],
  ["a latitude without longitude", { ...good, location: { lat: 45 } }, "location.lon"],
  ["an empty location", { ...good, location: {} }, "location"],
  ["a polygon of three points", { ...good, location: { polygon: [{ lat: 1, lon: 1 }, { lat: 2, lon: 1 }, { lat: 1, lon: 1 }] } }, "location.polygon"],
  ["a nested attribute", { ...good, attributes: { a: { b: 1 } } }, "attributes.a"],
  ["a headline with a new line", { ...good, headline: "one\ntwo" }, "headline"],
  ["a headline over 256", { ...good, headline: "x".repeat(257) }, "headline"],
  ["a time that is not RFC 3339", { ...good, occurred_at: "yesterday" }, "occurred_at"],
  ["an unknown status", { ...good, status: "rehearsal" }, "status"],
];
for (const [what, body, field] of bad) {
  if (valid(body)) throw new Error(`the schema accepts ${what}`);
  const r = await report(body);
  if (r.status !== 400) throw new Error(`the server answered ${r.status} to ${what}`);
  if (r.body.error.field !== field)
    throw new Error(`the server named ${r.body.error.field} for ${what}, not ${field}`);
}
console.log(`openapi: ${bad.length} bad reports refused by the schema and the server alike`);
console.log("openapi: every check held");
