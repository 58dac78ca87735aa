/** Which key-exchange group data connections offer first (see preferGroup in tlsTrust.ts). */
import * as assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { preferGroup } from '../../src/ftp/tlsTrust';

describe('preferGroup', () => {
  it('puts the group the server chose first, keeping the others, each once', () => {
    assert.deepEqual(preferGroup('P-256'), { ecdhCurve: 'P-256:X25519:P-384:P-521' });
    assert.deepEqual(preferGroup('P-384'), { ecdhCurve: 'P-384:X25519:P-256:P-521' });
  });

  it('changes nothing for the default first group, an unknown one, or none', () => {
    assert.deepEqual(preferGroup('X25519'), {});
    assert.deepEqual(preferGroup('ffdhe2048'), {});
    assert.deepEqual(preferGroup(undefined), {});
  });

  it('gives a list this TLS library accepts', () => {
    for (const g of ['P-256', 'P-384', 'P-521']) {
      const { ecdhCurve } = preferGroup(g);
      assert.doesNotThrow(() => tls.createSecureContext({ ecdhCurve }));
    }
  });
});
