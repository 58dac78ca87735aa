import * as assert from 'node:assert/strict';
import { JsoncError, parseJsonc, withoutStringProperty } from '../../src/migrate/jsonc';

describe('JSON with comments', () => {
  it('reads comments and trailing commas, and leaves strings that look like them alone', () => {
    const text = '\uFEFF{\n  // a comment\n  "url": "ftp://host/a//b", /* block, */ "glob": "/*.js",\n  "q": "say \\"hi\\" // not a comment",\n  "list": [1, 2, /* x */ ],\n  "o": { "a": 1, // last\n  },\n}\n';
    assert.deepEqual(parseJsonc(text), { url: 'ftp://host/a//b', glob: '/*.js', q: 'say "hi" // not a comment', list: [1, 2], o: { a: 1 } });
  });

  it('says at which line and column the text is broken', () => {
    assert.throws(
      () => parseJsonc('{\n  // fine\n  "a": 1\n  "b": 2\n}'),
      (e: unknown) => e instanceof JsoncError && /line 4, column 3/.test(e.message),
    );
    assert.throws(() => parseJsonc('{ "a": '), JsoncError);
  });

  it('removes a string property with its comma and line, first, middle, last and inline, and keeps values and comments', () => {
    const text = '{\n  "password": "a", // remembered\n  "name": "password",\n  "p": { "user": "u", "password": "b\\"c" },\n  "password": "d"\n}\n';
    const out = withoutStringProperty(text, 'password');
    assert.equal(out, '{\n  "name": "password",\n  "p": { "user": "u" }\n}\n');
    assert.deepEqual(parseJsonc(out), { name: 'password', p: { user: 'u' } });
  });
});
