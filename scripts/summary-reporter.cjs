// Ends every jest run with one plain line, "jest: N passed, N failed[, N skipped]", that CI logs
// and other tools can read without parsing jest's own summary. Written at exit, so it comes last.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`;
    process.once("exit", () => process.stderr.write(`${line}\n`));
  }
}
module.exports = SummaryReporter;
