// Mocha's spec reporter, plus the final counts written to $FTPW_COUNTS so `npm test` can add up
// every suite into one "N passed, N failed" line.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class CountingReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.FTPW_COUNTS;
      if (file) fs.writeFileSync(file, JSON.stringify({ passed: this.stats.passes, failed: this.stats.failures, pending: this.stats.pending }));
    });
  }
}
module.exports = CountingReporter;
