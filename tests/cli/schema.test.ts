/**
 * `kdump-lab schema report|scenario`: the JSON Schemas of the Report and of scenario files,
 * printed as JSON (`--json` accepted, same bytes); a bad name is one line, exit 2.
 */
import assert from "node:assert/strict";
import { reportJsonSchema } from "../../runtime/lab/report.ts";
import { scenarioJsonSchema } from "../../runtime/lab/schemas.ts";
import { lab, usage } from "./lab-kit.ts";

Deno.test("schema report: the Report's JSON Schema; --json gives the same bytes", async () => {
  const [plain, json] = await Promise.all([
    lab(["schema", "report"]),
    lab(["schema", "report", "--json"]),
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, JSON.stringify(reportJsonSchema(), null, 2) + "\n");
  assert.equal(json.stdout, plain.stdout);
  const schema = JSON.parse(plain.stdout);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  for (const key of ["verdict", "timeline", "dmesg", "timing", "strayWrites"]) {
    assert.ok(key in schema.properties, key);
  }
});

Deno.test("schema scenario: the scenario file format, in its input form", async () => {
  const r = await lab(["schema", "scenario", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, JSON.stringify(scenarioJsonSchema(), null, 2) + "\n");
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.type, "object");
  assert.ok("name" in schema.properties && "machine" in schema.properties);
  assert.ok(!(schema.required ?? []).includes("seed"), "a defaulted field is optional to write");
});

Deno.test("schema with an unknown name: one line, exit 2", async () => {
  const r = await lab(["schema", "bogus"]);
  usage(r, /^kdump-lab: schema: /);
});
