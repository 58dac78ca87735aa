import * as assert from 'node:assert/strict';
import { formatMode, modeProblem, octalMode, parseMode, symbolicMode } from '../../src/ftp/permissions';
import { resolveServer, ServerConfigError } from '../../src/remote/serverConfig';

describe('permission modes', () => {
  it('reads octal with 3 or 4 digits and an optional leading 0', () => {
    assert.equal(parseMode('644'), 0o644);
    assert.equal(parseMode(' 0755 '), 0o755);
    assert.equal(parseMode('2775'), 0o2775);
    assert.equal(parseMode('04755'), 0o4755);
    assert.equal(parseMode('000'), 0);
  });

  it('reads the nine letters of ls -l, special bits included', () => {
    assert.equal(parseMode('rw-r--r--'), 0o644);
    assert.equal(parseMode('rwxr-x---'), 0o750);
    assert.equal(parseMode('rwsr-sr-t'), 0o7755);
    assert.equal(parseMode('rwSr--r-T'), 0o5644);
  });

  it('refuses what is not a mode, rather than guessing', () => {
    for (const bad of ['', '64', '648', '77777', '0x1ff', 'rwx', 'drwxr-xr-x', 'rwxrwxrwz', '+x', 'u=rw', '-1']) {
      assert.equal(parseMode(bad), undefined, bad);
      assert.ok(modeProblem(bad), bad);
    }
    assert.equal(modeProblem('644'), undefined);
  });

  it('writes octal as SITE CHMOD takes it and letters as ls shows them', () => {
    assert.equal(octalMode(0o644), '644');
    assert.equal(octalMode(0o7), '007');
    assert.equal(octalMode(0o2775), '2775');
    assert.equal(symbolicMode(0o755), 'rwxr-xr-x');
    assert.equal(symbolicMode(0o4755), 'rwsr-xr-x');
    assert.equal(symbolicMode(0o1644), 'rw-r--r-T');
    assert.equal(formatMode(0o640), 'rw-r----- (640)');
  });

  it('round-trips every mode through both spellings', () => {
    for (let mode = 0; mode <= 0o7777; mode++) {
      assert.equal(parseMode(octalMode(mode)), mode);
      assert.equal(parseMode(symbolicMode(mode)), mode);
    }
  });

  describe("a profile's fileMode and dirMode", () => {
    const resolve = (extra: object) => resolveServer('ftp', 'web', [{ name: 'web', host: 'h', ...extra }]);

    it('are octal text, letters, or a JSON number read by its digits', () => {
      const s = resolve({ fileMode: '640', dirMode: 'rwxr-x---' });
      assert.equal(s.fileMode, 0o640);
      assert.equal(s.dirMode, 0o750);
      assert.equal(resolve({ fileMode: 644 }).fileMode, 0o644);
    });

    it('are unset when the profile says nothing', () => {
      const s = resolve({});
      assert.equal(s.fileMode, undefined);
      assert.equal(s.dirMode, undefined);
    });

    it('refuse a value that is not a mode, naming the profile and the setting', () => {
      assert.throws(() => resolve({ fileMode: 648 }), (e: unknown) => e instanceof ServerConfigError && /"web": fileMode "648"/.test(e.message));
      assert.throws(() => resolve({ dirMode: 'rwx' }), (e: unknown) => e instanceof ServerConfigError && /dirMode/.test(e.message));
    });
  });
});
