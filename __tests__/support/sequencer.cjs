// The order jest starts test files in: the longest first, so the two workers finish together. Jest
// knows each file's time from the last run on this machine; a fresh clone has none and would start by
// file size, leaving the offline plan (minutes, one small file) for last. Projects known to be long go
// first whatever jest knows; within each, jest's own order.
const Sequencer = require("@jest/test-sequencer").default;

const FIRST = ["terraform", "integration", "app"];
const rank = (test) => {
  const name = test.context.config.displayName?.name;
  const at = FIRST.indexOf(name);
  return at === -1 ? FIRST.length : at;
};
// Within the integration project: every stack's lifecycle first, beside the short tests (the release,
// the harness, the game day's broken run), and dev's lifecycle on cdktn last, so that the lifecycle of
// every stack, which has a 6-minute goal, shares the machine with the short tests for most of its run
// rather than with another whole lifecycle.
const INTEGRATION_ORDER = [/\/lifecycle\.emulator\.test\.ts$/, null, /\/engine-lifecycle\.emulator\.test\.ts$/];
const within = (test) => {
  if (test.context.config.displayName?.name !== "integration") return 0;
  const at = INTEGRATION_ORDER.findIndex((pattern) => pattern?.test(test.path));
  return at === -1 ? INTEGRATION_ORDER.indexOf(null) : at;
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return sorted
      .map((test, i) => ({ test, i }))
      .sort((a, b) => rank(a.test) - rank(b.test) || within(a.test) - within(b.test) || a.i - b.i)
      .map(({ test }) => test);
  }
}

module.exports = LongestFirst;
