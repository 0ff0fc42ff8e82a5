/**
 * The `--html` pages end to end: the CLI writes the page, headless Chromium loads it from
 * disk (`--dump-dom`), and the DOM it built is checked: the timeline's SVG, the stage bands
 * of both kernels and the panic, the NIC's lane with its stray writes, `<title>`s carrying
 * dmesg lines, the header's verdict; the demo's two runs on one time axis.
 *
 * Legibility: each page (run report, demo, ablation, matrix) is laid out by Chromium in an
 * 800 px and a 1400 px window with a probe script added at its end, which measures every
 * text it renders: none smaller than 11 px, no two SVG labels overlapping, none outside its
 * SVG or the window, and the page no wider than the window.
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

/** Loads `file` in headless Chromium (a `width` px window) and returns the DOM it built. */
async function dumpDom(file: string, width = 1280): Promise<string> {
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
        `--window-size=${width},1000`,
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

/** The part of `dom` from the lane of `device` (of run `key`) to the next lane. */
function lane(dom: string, device: string, key?: string): string {
  const run = key === undefined ? "" : ` data-run="${key}"`;
  const at = dom.search(new RegExp(`<g class="lane device"[^>]*data-device="${device}"${run}`));
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
        "io-apic",
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
        "io-apic",
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
      assert.match(all, /\[ {4}0\.441078\] AMD-Vi: Found IOMMU at 0000:00:00\.2 cap 0x40/);
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
  name: "demo --html: headers side by side, both runs on one time axis, lane by lane",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      const r = await lab(["demo", "--json", "--html", file]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).series.verdict, "dump-ok", "--json output unchanged");
      const dom = await dumpDom(file);
      assert.equal((dom.match(/<svg id="timeline" class="timeline"/g) ?? []).length, 1);
      assert.match(dom, /id="verdict-baseline" class="verdict verdict-dump-corrupt"/);
      assert.match(dom, /id="verdict-series" class="verdict verdict-dump-ok"/);
      assert.match(dom, /<div class="runs"><section class="run" data-key="baseline"/);
      // the NIC's lane: a row for each run, the baseline's with strays, the series' without
      const base = lane(dom, "01:00.1", "baseline"), series = lane(dom, "01:00.1", "series");
      assert.match(base, /class="mark stray"/);
      assert.doesNotMatch(series, /class="mark stray"/);
      // both panics on the shared axis, at (nearly) the same x
      const panics = [...dom.matchAll(/data-stage="panic"[^>]* x="([\d.]+)%"/g)];
      assert.equal(panics.length, 2);
      assert.ok(Math.abs(Number(panics[0][1]) - Number(panics[1][1])) < 0.2);
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
    const r = await lab(["run", "--json", "--series", "all", "--html", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, "dump-ok");
    const html = await Deno.readTextFile(file);
    assert.match(html, /id="verdict" class="verdict verdict-dump-ok"/);
  } finally {
    await done();
  }
});

/**
 * Measures the page as laid out: added at the end of `<body>`, it writes JSON into
 * `<pre id="legibility-probe">` — the window and page widths, the smallest rendered text,
 * texts under 11 px, overlapping SVG labels, labels outside their SVG or the window, and
 * how many of some labels are shown.
 */
const PROBE = `<pre id="legibility-probe"></pre><script>
(() => {
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden";
  };
  const name = (e) => (e.getAttribute("class") || e.tagName) + ": " +
    (e.textContent || "").trim().slice(0, 40);
  const W = window.innerWidth;
  const out = { width: W, pageWidth: document.documentElement.scrollWidth, texts: 0,
    minFont: 1e9, small: [], overlaps: [], clipped: [], counts: {} };
  // every element that holds text of its own, as rendered
  for (const e of document.body.querySelectorAll("*")) {
    if (e.closest("script, style, title, #legibility-probe")) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !shown(e)) continue;
    const scale = e instanceof SVGElement && e.getScreenCTM ? e.getScreenCTM().a : 1;
    const px = parseFloat(getComputedStyle(e).fontSize) * scale;
    out.texts++;
    out.minFont = Math.min(out.minFont, px);
    if (px < 11 - 1e-6) out.small.push(name(e) + " @" + px.toFixed(1) + "px");
    const r = e.getBoundingClientRect();
    if (r.left < -0.5 || r.right > W + 0.5) out.clipped.push(name(e) + " outside the window");
  }
  // SVG labels: inside their SVG, apart from each other
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    const labels = [...svg.querySelectorAll("text")].filter(shown);
    const rects = labels.map((t) => t.getBoundingClientRect());
    labels.forEach((t, i) => {
      const r = rects[i];
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
        r.bottom > box.bottom + 1) out.clipped.push(name(t) + " outside its svg");
      for (let j = 0; j < i; j++) {
        const q = rects[j];
        const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
        const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
        if (w > 0.5 && h > 0.5) out.overlaps.push(name(labels[j]) + " | " + name(t));
      }
    });
  }
  for (const sel of [".milestone-label", ".stage-name", ".band-label", ".run-tag",
    ".patch-name", ".share", "rect.cell.set", "td.cell"]) {
    out.counts[sel] = [...document.querySelectorAll(sel)].filter(shown).length;
  }
  document.getElementById("legibility-probe").textContent = JSON.stringify(out);
})();
</script>`;

/** What {@link PROBE} measured. */
interface Legibility {
  width: number;
  pageWidth: number;
  texts: number;
  minFont: number;
  small: string[];
  overlaps: string[];
  clipped: string[];
  counts: Record<string, number>;
}

/** Lays `file` out in a `width` px window with {@link PROBE} added; returns what it measured. */
async function measure(file: string, width: number): Promise<Legibility> {
  const probed = file.replace(/\.html$/, `-probe-${width}.html`);
  const html = await Deno.readTextFile(file);
  assert.ok(html.includes("</body>"));
  await Deno.writeTextFile(probed, html.replace("</body>", `${PROBE}\n</body>`));
  const dom = await dumpDom(probed, width);
  const m = /<pre id="legibility-probe">([^<]*)<\/pre>/.exec(dom);
  assert.ok(m && m[1], "the probe ran");
  const unescaped = m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return JSON.parse(unescaped);
}

/** Asserts the page is legible at 800 px and 1400 px; returns the measurements. */
async function assertLegible(file: string, minTexts: number): Promise<Legibility[]> {
  const all: Legibility[] = [];
  for (const width of [800, 1400]) {
    const m = await measure(file, width);
    const at = `${width} px`;
    assert.equal(m.width, width, "the window has the width asked for");
    assert.ok(m.texts >= minTexts, `${at}: ${m.texts} texts measured (at least ${minTexts})`);
    assert.deepEqual(m.small, [], `${at}: no text under 11 px (smallest ${m.minFont} px)`);
    assert.deepEqual(m.overlaps, [], `${at}: no two SVG labels overlap`);
    assert.deepEqual(m.clipped, [], `${at}: no label outside its SVG or the window`);
    assert.ok(m.pageWidth <= width, `${at}: the page is ${m.pageWidth} px wide`);
    all.push(m);
  }
  return all;
}

Deno.test({
  name:
    "legibility: the run report at 800 and 1400 px — every milestone labelled, nothing overlaps",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      assert.equal((await lab(["run", "--html", file])).code, 0);
      const [narrow, wide] = await assertLegible(file, 60);
      const milestones = Object.keys(run(SCENARIOS.default).timing).length;
      for (const m of [narrow, wide]) assert.equal(m.counts[".milestone-label"], milestones);
      assert.ok(narrow.counts[".stage-name"] >= 8, `${narrow.counts[".stage-name"]} stage names`);
      assert.ok(wide.counts[".band-label"] > narrow.counts[".band-label"], "more fit when wide");
    } finally {
      await done();
    }
  },
});

Deno.test({
  name: "legibility: the demo (two runs, one axis) at 800 and 1400 px",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      assert.equal((await lab(["demo", "--html", file])).code, 0);
      for (const m of await assertLegible(file, 80)) {
        assert.ok(m.counts[".run-tag"] >= 16, "every lane's rows carry their run's tag");
        assert.ok(m.counts[".milestone-label"] >= 9);
      }
    } finally {
      await done();
    }
  },
});

Deno.test({
  name: "legibility: the ablation table at 800 and 1400 px",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      assert.equal((await lab(["ablate", "--html", file])).code, 0);
      for (const m of await assertLegible(file, 40)) {
        const cells = m.counts["td.cell"];
        assert.ok(cells >= 13 * 4 && cells % 13 === 0, `13 rows × (verdict + counters): ${cells}`);
      }
    } finally {
      await done();
    }
  },
});

Deno.test({
  name:
    "legibility: the matrix page at 800 and 1400 px; its heading counts what ran and what was skipped",
  ignore: SKIP_BROWSER,
  sanitizeResources: false,
  fn: async () => {
    const { file, done } = await tempHtml();
    try {
      const r = await lab(["matrix", "--quiet", "--json", "--html", file]);
      assert.equal(r.code, 0, r.stderr);
      const verdicts: Record<string, number> = JSON.parse(r.stdout).summary.verdicts;
      const skipped = verdicts.skipped ?? 0, total = 4096, ran = total - skipped;
      assert.ok(skipped > 0 && ran > 0, JSON.stringify(verdicts));
      const html = await Deno.readTextFile(file);
      assert.match(
        html,
        new RegExp(
          `<h2>Matrix on default: ${total} patch sets, ${ran} ran, ${skipped} skipped</h2>`,
        ),
      );
      for (const m of await assertLegible(file, 100)) {
        assert.equal(m.counts["rect.cell.set"], ran, "every set that ran is drawn, no other");
      }
    } finally {
      await done();
    }
  },
});
