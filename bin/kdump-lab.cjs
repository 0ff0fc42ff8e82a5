#!/usr/bin/env node
// The kdump-lab command as npm installs it (`npm install -g --install-links <checkout>`, see
// the README): runs the CLI with the Deno of the `deno` npm package, so the machine needs no
// Deno of its own. Arguments, stdio and the exit code pass through.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const root = path.join(__dirname, "..");
const args = [
  require.resolve("deno/bin.cjs"),
  "run",
  "--allow-all",
  "--config",
  path.join(root, "deno.json"),
  path.join(root, "runtime", "cli", "main.ts"),
  ...process.argv.slice(2),
];
const child = spawnSync(process.execPath, args, { stdio: "inherit" });
if (child.error) {
  console.error(`kdump-lab: cannot start Deno: ${child.error.message}`);
  process.exit(1);
}
process.exit(child.status ?? 1);
