// Prints the plain closing line "N passed, N failed, N skipped" that CI reads, after jest's own summary.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
