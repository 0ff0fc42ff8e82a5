// An empty script: cli.bench.ts compares a whole `lab run` process with `deno run` of this.
