/** The examples run with `deno run` and print what they claim. */
import assert from "node:assert/strict";

async function runExample(file: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/${file}`, ...args],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("examples/custom-driver-plugin.ts: the soft reset at probe runs in the kdump kernel and the dump is clean", async () => {
  const out = await runExample("custom-driver-plugin.ts");
  assert.match(out, /series: .*disable-only-if-off, bnx2-soft-reset$/m);
  assert.match(out, /^verdict:\s+dump-ok$/m);
  assert.match(out, /^faults:\s+0 IO_PAGE_FAULT logged, 0 printed$/m);
  assert.match(out, /bnx2 0000:01:00\.0: soft reset at probe \(kdump\)/);
});

Deno.test("examples/replace-patch.ts: the user's copy_device_table copies the table the series refuses", async () => {
  const out = await runExample("replace-patch.ts");
  assert.match(out, /^the series: dump-corrupt/m);
  assert.match(out, /The address of old device table is above 4G, not trustworthy!/);
  assert.match(out, /^with my copy_device_table: dump-ok, 0 stray writes$/m);
  assert.match(out, /^ {2}Copied DEV table from previous kernel\.$/m);
});

Deno.test("examples/with-without.ts: leaving out amd-use-attach-deferred shows the faults", async () => {
  const out = await runExample("with-without.ts", "amd-use-attach-deferred", "no-dma-api-driver");
  assert.match(out, /without amd-use-attach-deferred: dump-ok/);
  assert.match(out, /IO_PAGE_FAULTs logged 0 → \d+/);
});
