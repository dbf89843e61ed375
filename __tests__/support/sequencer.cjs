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

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return sorted
      .map((test, i) => ({ test, i }))
      .sort((a, b) => rank(a.test) - rank(b.test) || a.i - b.i)
      .map(({ test }) => test);
  }
}

module.exports = LongestFirst;
