/**
 * `run --html` and `demo --html` end to end: the CLI writes the page, headless Chromium
 * loads it from disk (`--dump-dom`), and the DOM it built is checked: the timeline's SVG,
 * the stage bands of both kernels and the panic, the NIC's lane with its stray writes,
 * `<title>`s carrying dmesg lines, the header's verdict.
 *
 * Chromium: `$CHROMIUM`, else `chromium` (Debian's package) on PATH. Without it these tests
 * FAIL under CI (CI=true; `.ci/run` installs it) and are skipped elsewhere, saying why.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { renderReportHtml } from "../../runtime/html/mod.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { lab, usage, which } from "./lab-kit.ts";

const CHROMIUM = Deno.env.get("CHROMIUM") ??
  which("chromium", "chromium-browser", "google-chrome", "google-chrome-stable");
const IN_CI = /^(true|1)$/i.test(Deno.env.get("CI") ?? "");
const NO_CHROMIUM = "no chromium binary found (set $CHROMIUM or put chromium on PATH; " +
  "Debian: apt-get install -y chromium)";
const SKIP_BROWSER = CHROMIUM === undefined && !IN_CI;
if (SKIP_BROWSER) console.log(`skipping the headless-Chromium tests: ${NO_CHROMIUM}`);

/** Loads `file` in headless Chromium and returns the DOM it built, serialized. */
async function dumpDom(file: string): Promise<string> {
  if (CHROMIUM === undefined) throw new Error(`${NO_CHROMIUM}; CI must have it (see .ci/run)`);
  const profile = await Deno.makeTempDir({ prefix: "kdump-lab-chromium-" });
  try {
    const out = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--dump-dom",
        pathToFileURL(file).href,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    const dom = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `chromium failed: ${new TextDecoder().decode(out.stderr)}`);
    assert.match(dom, /<\/html>/, "chromium printed a DOM");
    return dom;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** A temporary `.html` path (the file does not exist yet); its folder is removed by `done`. */
async function tempHtml(): Promise<{ file: string; done: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-html-" });
  return { file: `${dir}/page.html`, done: () => Deno.remove(dir, { recursive: true }) };
}

/** The part of `dom` from the lane of `device` to the next lane. */
function lane(dom: string, device: string): string {
  const at = dom.search(new RegExp(`<g class="lane device"[^>]*data-device="${device}"`));
  assert.ok(at >= 0, `a lane for device ${device}`);
  const next = dom.indexOf('<g class="lane', at + 1);
  return dom.slice(at, next < 0 ? undefined : next);
}

/** Texts of every `<title>` in `dom`. */
function titles(dom: string): string[] {
  return [...dom.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
}

Deno.test({
  name: "run --html: the page Chromium builds has the timeline, bands, lanes, titles, verdict",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      const r = await lab(["run", "--html", file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /dump-corrupt/, "the summary is still printed");
      const dom = await dumpDom(file);

      assert.match(dom, /<svg id="timeline" class="timeline"/);
      // the first kernel's stages, the panic, the kexec gap, the kdump kernel's stages
      const stage = (kernel: string) =>
        [...dom.matchAll(
          new RegExp(`<rect class="band stage ${kernel}" data-stage="([^"]+)"`, "g"),
        )]
          .map((m) => m[1]);
      assert.deepEqual(stage("kernel1"), [
        "start_kernel",
        "early",
        "iommu-prepare",
        "iommu-enable",
        "pci",
        "iommu-init",
        "drivers",
        "running",
        "panic",
      ]);
      assert.deepEqual(stage("kernel2"), [
        "start_kernel",
        "early",
        "iommu-prepare",
        "iommu-enable",
        "pci",
        "iommu-init",
        "drivers",
        "kdump-save-vmcore",
        "kdump-complete",
      ]);
      assert.match(dom, /<rect class="band kernel between" data-kernel="between"/);

      // 01:00.1 (the busy NIC port) wrote into the crashed kernel's slab: stray marks
      const nic = lane(dom, "01:00.1");
      assert.match(nic, /<rect class="mark stray"/);
      assert.match(nic, /write 0xbf28b000 → 0xbf28b000 \(iommu-off\) hit kernel1:slab/);
      assert.match(lane(dom, "01:00.0"), /<rect class="mark fault suppressed"/);
      assert.match(dom, /<rect class="mark mmio"/);

      // dmesg lines, with their console timestamps, in titles
      const all = titles(dom).join("\n");
      assert.match(all, /\[ {4}0\.431069\] AMD-Vi: Found IOMMU at 0000:00:00\.2 cap 0x40/);
      assert.match(all, /Kernel panic - not syncing: Fatal exception/);
      assert.match(all, /kdump: saving vmcore complete/);

      // the header
      assert.match(
        dom,
        /<span id="verdict" class="verdict verdict-dump-corrupt"[^>]*>dump-corrupt<\/span>/,
      );
      assert.match(
        dom,
        /<div data-counter="strayWrites"><dt>stray DMA writes<\/dt><dd>18<\/dd><\/div>/,
      );

      // the page is exactly what renderReportHtml gives for the same run
      assert.equal(await Deno.readTextFile(file), renderReportHtml(run(SCENARIOS.default)));
    } finally {
      await done();
    }
  },
});

Deno.test({
  name: "demo --html: both reports stacked, baseline corrupt with strays, series clean",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      const r = await lab(["demo", "--json", "--html", file]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).series.verdict, "dump-ok", "--json output unchanged");
      const dom = await dumpDom(file);
      assert.match(dom, /<svg id="timeline-baseline" class="timeline"/);
      assert.match(dom, /<svg id="timeline-series" class="timeline"/);
      assert.match(dom, /id="verdict-baseline" class="verdict verdict-dump-corrupt"/);
      assert.match(dom, /id="verdict-series" class="verdict verdict-dump-ok"/);
      const [base, series] = dom.split('<section class="report" data-key="series"');
      assert.ok(series, "a section for the series");
      assert.match(base, /class="mark stray"/);
      assert.doesNotMatch(series, /class="mark stray"/);
      assert.match(series, /data-stage="panic"/);
    } finally {
      await done();
    }
  },
});

Deno.test("run --html to a path that cannot be written: one line, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-html-" });
  try {
    for (
      const [target, why] of [[`${dir}/missing/page.html`, "no such directory"], [
        dir,
        "is a directory",
      ]]
    ) {
      const r = await lab(["run", "--html", target]);
      usage(r, new RegExp(`^kdump-lab: run: --html ${dir}.*: cannot write it: `), target);
      assert.ok(r.stderr.endsWith(`: cannot write it: ${why}\n`), r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run --json --html: stdout is the same JSON; the page is written", async () => {
  const { file, done } = await tempHtml();
  try {
    const r = await lab(["run", "--json", "--series", "all,bnx2-reset", "--html", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, "dump-ok");
    const html = await Deno.readTextFile(file);
    assert.match(html, /id="verdict" class="verdict verdict-dump-ok"/);
  } finally {
    await done();
  }
});
