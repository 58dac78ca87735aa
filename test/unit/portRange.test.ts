import * as assert from 'node:assert/strict';
import { isPort, parsePortRange } from '../../src/ftp/portRange';

describe('port range', () => {
  it('reads LOW-HIGH, with spaces around the dash or the whole', () => {
    assert.deepEqual(parsePortRange('50000-50100'), [50000, 50100]);
    assert.deepEqual(parsePortRange(' 50000 - 50100 '), [50000, 50100]);
    assert.deepEqual(parsePortRange('1-65535'), [1, 65535]);
  });

  it('reads a single port as a range of one', () => {
    assert.deepEqual(parsePortRange('50000'), [50000, 50000]);
    assert.deepEqual(parsePortRange('7-7'), [7, 7]);
  });

  it('gives undefined (any port) for nothing', () => {
    assert.equal(parsePortRange(undefined), undefined);
    assert.equal(parsePortRange(''), undefined);
    assert.equal(parsePortRange('   '), undefined);
  });

  it('refuses a reversed range', () => {
    assert.throws(() => parsePortRange('50100-50000'), { name: 'RangeError', message: /low ≤ high/ });
  });

  it('refuses ports out of range, port 0 included', () => {
    for (const bad of ['0-100', '0', '50000-65536', '65536', '99999', '100000-100001']) {
      assert.throws(() => parsePortRange(bad), RangeError, bad);
    }
  });

  it('refuses garbage', () => {
    for (const bad of ['a-b', '50000-', '-50100', '50000:50100', '50000-50100-50200', '5e4-6e4', '+1-2', '1 2', '50000,50100', '１-２']) {
      assert.throws(() => parsePortRange(bad), { name: 'RangeError', message: /LOW-HIGH/ }, bad);
    }
  });

  it('tells ports from other numbers', () => {
    assert.ok(isPort(1) && isPort(21) && isPort(65535));
    assert.ok(!isPort(0) && !isPort(65536) && !isPort(-1) && !isPort(21.5) && !isPort(NaN));
  });
});
