/**
 * The bench report's comparison of big-file throughput: runs made in turn are compared pair by
 * pair, so a machine that slows down for a while slows both sides of the pairs it touches.
 */
import * as assert from 'node:assert/strict';
import { operationOf } from '../../bench/src/job';
import { throughputRatio, type Row } from '../../bench/src/report';

function row(tool: Row['tool'], times: number[], error?: string): Row {
  return { group: 'loopback', scenario: 'download', security: 'plain', mode: 'passive', tool, times, maxRssKb: 1, error };
}

describe('bench report: throughput against curl', () => {
  it('takes the median of the run-by-run ratios, not the ratio of the medians', () => {
    // The machine was twice as slow for the last three pairs; ours took 10 % longer than curl in each pair.
    const ours = row('ours', [110, 110, 220, 220, 220]);
    const curl = row('curl', [100, 100, 200, 200, 200]);
    const r = throughputRatio(ours, curl);
    assert.ok(r);
    assert.ok(Math.abs(r.median - 100 / 110) < 1e-9);
    assert.ok(Math.abs(r.min - 100 / 110) < 1e-9 && Math.abs(r.max - 100 / 110) < 1e-9);
  });

  it('shows the spread of the pairs, and pairs only the runs both have', () => {
    const r = throughputRatio(row('ours', [100, 50, 200]), row('curl', [90, 100]));
    assert.deepEqual(r, { median: (0.9 + 2) / 2, min: 0.9, max: 2 });
  });

  it('has no ratio when either side failed or has no runs', () => {
    assert.equal(throughputRatio(row('ours', [100]), row('curl', [], 'curl hung')), undefined);
    assert.equal(throughputRatio(row('ours', []), row('curl', [100])), undefined);
    assert.equal(throughputRatio(undefined, row('curl', [100])), undefined);
  });
});

describe('bench scenarios in an editor\'s rhythm', () => {
  it('time the same operation as their back-to-back twins', () => {
    assert.equal(operationOf('read-idle'), 'read');
    assert.equal(operationOf('save-idle'), 'save');
    assert.equal(operationOf('list'), 'list');
  });
});
