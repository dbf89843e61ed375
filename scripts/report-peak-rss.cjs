// Preloaded by the benchmark into every node process it starts: at exit, append this process's
// peak resident memory (KiB) to the file named by BENCH_RSS_FILE.
const { appendFileSync } = require("node:fs");
const file = process.env.BENCH_RSS_FILE;
if (file) process.on("exit", () => appendFileSync(file, `${process.resourceUsage().maxRSS}\n`));
