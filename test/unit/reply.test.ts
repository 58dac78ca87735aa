import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { FtpError, isFtpError } from '../../src/ftp/errors';
import { MAX_LINE_BYTES, MAX_REPLY_BYTES, MAX_REPLY_LINES, ReplyParser, isPositive, isPreliminary, parseFeatures, type Reply } from '../../src/ftp/reply';

/** Everything one parser makes of the given chunks, in order. */
function parse(...chunks: (string | Buffer)[]): Reply[] {
  const parser = new ReplyParser();
  return chunks.flatMap((c) => parser.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
}

/** The parser's protocol error for the given chunks; fails the test if none is thrown. */
function refusal(...chunks: (string | Buffer)[]): FtpError {
  try {
    parse(...chunks);
  } catch (e) {
    assert.ok(isFtpError(e, 'protocol'), `expected a protocol FtpError, got ${String(e)}`);
    return e;
  }
  assert.fail('the input was accepted');
}

describe('ReplyParser', () => {
  describe('single-line replies', () => {
    it('gives the code, the text and the message without the code', () => {
      assert.deepEqual(parse('220 Welcome to the server\r\n'), [{ code: 220, text: '220 Welcome to the server', message: 'Welcome to the server' }]);
    });

    it('accepts a code with nothing after it', () => {
      assert.deepEqual(parse('200\r\n'), [{ code: 200, text: '200', message: '' }]);
    });

    it('gives several replies from one chunk in the order they came', () => {
      assert.deepEqual(parse('331 Password required\r\n230 Logged in\r\n200 Type set to I\r\n').map((r) => r.code), [331, 230, 200]);
    });

    it('accepts bare LF line endings, also mixed with CRLF', () => {
      assert.deepEqual(parse('220 one\n230 two\r\n200 three\n').map((r) => r.text), ['220 one', '230 two', '200 three']);
    });

    it('keeps a CR that is not at the end of the line', () => {
      assert.equal(parse('200 a\rb\r\n')[0].text, '200 a\rb');
    });

    it('returns nothing until the line is complete', () => {
      const parser = new ReplyParser();
      assert.deepEqual(parser.push(Buffer.from('220 Hel')), []);
      assert.deepEqual(parser.push(Buffer.from('lo\r')), []);
      assert.deepEqual(parser.push(Buffer.from('\n')).map((r) => r.text), ['220 Hello']);
    });

    it('decodes UTF-8, also when a character is split between chunks', () => {
      const bytes = Buffer.from('257 "/ünïcödé/файл" created\r\n', 'utf8');
      const cut = bytes.indexOf(Buffer.from('ф')) + 1; // inside the two bytes of ф
      assert.equal(parse(bytes.subarray(0, cut), bytes.subarray(cut))[0].message, '"/ünïcödé/файл" created');
    });

    it('skips empty and blank lines between replies', () => {
      assert.deepEqual(parse('\r\n   \r\n220 hi\r\n\n200 ok\r\n').map((r) => r.code), [220, 200]);
    });
  });

  describe('multi-line replies (RFC 959 §4.2)', () => {
    it('collects lines from "123-" to "123 " into one reply', () => {
      const [r, ...rest] = parse('211-Features:\r\n EPSV\r\n MDTM\r\n211 End\r\n');
      assert.deepEqual(rest, []);
      assert.equal(r.code, 211);
      assert.equal(r.text, '211-Features:\n EPSV\n MDTM\n211 End');
      assert.equal(r.message, 'Features:\n EPSV\n MDTM\nEnd');
    });

    it('does not end on a line that starts with another code, indented or not (the RFC\'s example)', () => {
      const replies = parse('123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n234 Not the end either\r\n123 The last line\r\n');
      assert.equal(replies.length, 1);
      assert.equal(replies[0].code, 123);
      assert.equal(replies[0].text.split('\n').length, 5);
    });

    it('does not end on the same code followed by a hyphen, or by more digits', () => {
      const replies = parse('230-Welcome\r\n230-Second\r\n2301 not the end\r\n230Xnot the end\r\n230 Logged in\r\n');
      assert.equal(replies.length, 1);
      assert.equal(replies[0].text.split('\n').length, 5);
    });

    it('ends on the bare code', () => {
      assert.deepEqual(parse('250-Details\r\n more\r\n250\r\n200 next\r\n').map((r) => r.text), ['250-Details\n more\n250', '200 next']);
    });

    it('keeps empty lines inside a reply', () => {
      assert.equal(parse('220-Banner\r\n\r\n220 Ready\r\n')[0].text, '220-Banner\n\n220 Ready');
    });

    it('is not fooled by a line that looks like a whole reply of another code (a 421 inside a banner)', () => {
      const replies = parse('220-Banner\r\n421 Service not available\r\n220 Ready\r\n');
      assert.deepEqual(replies.map((r) => r.code), [220]);
    });

    describe('a later command\'s reply written into the middle of FEAT\'s (ftp-srv answering at once)', () => {
      const stream = '211-Extensions supported\r\n AUTH TLS\r\n213 46\r\n MDTM\r\n213 20261207213455\r\n SIZE\r\n UTF8\r\n211 End\r\n250 CWD ok\r\n';

      it('hands each reply out whole, FEAT\'s first and the others after it in the order they came', () => {
        const replies = parse(stream);
        assert.deepEqual(replies.map((r) => [r.code, r.message]), [
          [211, 'Extensions supported\n AUTH TLS\n MDTM\n SIZE\n UTF8\nEnd'],
          [213, '46'],
          [213, '20261207213455'],
          [250, 'CWD ok'],
        ]);
        assert.deepEqual([...parseFeatures(replies[0]).keys()], ['AUTH', 'MDTM', 'SIZE', 'UTF8']);
      });

      it('gives the same replies when the stream is cut at every byte position', () => {
        const whole = parse(stream);
        for (let i = 1; i < stream.length; i++) assert.deepEqual(parse(stream.slice(0, i), stream.slice(i)), whole, `cut at ${i}`);
      });

      it('still counts those replies against the size limits', () => {
        const err = refusal(`211-Features:\r\n${'213 1\r\n'.repeat(MAX_REPLY_LINES)}`);
        assert.match(err.message, /longer than/);
      });
    });
  });

  describe('chunking', () => {
    const stream = '220-Welcome, ünïcödé\r\n  220 still the banner\r\n220 Ready\n331 Password required for ü\r\n211-Features:\r\n EPSV\r\n REST STREAM\r\n211 End\r\n421 Bye\r\n';
    const bytes = Buffer.from(stream, 'utf8');
    const whole = parse(bytes);

    it('gives the expected replies from the stream in one chunk', () => {
      assert.deepEqual(whole.map((r) => r.code), [220, 331, 211, 421]);
      assert.equal(whole[0].text, '220-Welcome, ünïcödé\n  220 still the banner\n220 Ready');
    });

    it('gives the same replies when the stream is cut in two at every byte position', () => {
      for (let i = 0; i <= bytes.length; i++) {
        assert.deepEqual(parse(bytes.subarray(0, i), bytes.subarray(i)), whole, `cut at byte ${i}`);
      }
    });

    it('gives the same replies when the stream arrives one byte at a time', () => {
      const chunks = [...bytes].map((b) => Buffer.from([b]));
      assert.deepEqual(parse(...chunks), whole);
    });
  });

  describe('size limits (a hostile server must not exhaust memory)', () => {
    it(`accepts a line of exactly MAX_LINE_BYTES (${MAX_LINE_BYTES}) bytes`, () => {
      const line = '200 ' + 'x'.repeat(MAX_LINE_BYTES - 4);
      assert.equal(parse(line + '\n')[0].text.length, MAX_LINE_BYTES);
      assert.equal(parse(line, '\n')[0].text.length, MAX_LINE_BYTES);
    });

    it('refuses a line one byte longer', () => {
      const line = '200 ' + 'x'.repeat(MAX_LINE_BYTES - 3);
      assert.match(refusal(line + '\n').message, /line longer than/);
      assert.match(refusal(line, '\n').message, /line longer than/);
    });

    it('refuses an endless line as soon as it passes the limit, without waiting for a line end', () => {
      const parser = new ReplyParser();
      parser.push(Buffer.from('200 '));
      const chunk = Buffer.alloc(1024, 'x');
      let pushed = 4;
      assert.throws(() => {
        for (;;) {
          parser.push(chunk);
          pushed += chunk.length;
          assert.ok(pushed <= MAX_LINE_BYTES, 'still accepting past the limit');
        }
      }, (e: unknown) => isFtpError(e, 'protocol'));
    });

    it(`accepts a reply of MAX_REPLY_LINES (${MAX_REPLY_LINES}) lines and refuses one more`, () => {
      const reply = (lines: number) => '211-start\r\n' + ' x\r\n'.repeat(lines - 2) + '211 end\r\n';
      assert.equal(parse(reply(MAX_REPLY_LINES))[0].text.split('\n').length, MAX_REPLY_LINES);
      assert.match(refusal(reply(MAX_REPLY_LINES + 1)).message, /reply longer than/);
    });

    it(`refuses a reply of more than MAX_REPLY_BYTES (${MAX_REPLY_BYTES}) bytes made of lines within the line limit`, () => {
      const line = ' ' + 'x'.repeat(1000) + '\r\n';
      const lines = Math.ceil(MAX_REPLY_BYTES / line.length) + 1;
      assert.ok(lines < MAX_REPLY_LINES);
      assert.match(refusal('211-start\r\n', line.repeat(lines), '211 end\r\n').message, /reply longer than/);
    });

    it('counts the reply limit in bytes, also for multi-byte characters', () => {
      // 200 lines of 1,000 three-byte characters: 600 KB on the wire, but only 200,000 characters.
      const line = ' ' + '語'.repeat(1000) + '\r\n';
      assert.ok(line.length * 200 < MAX_REPLY_BYTES && Buffer.byteLength(line) * 200 > MAX_REPLY_BYTES);
      assert.match(refusal('211-start\r\n', line.repeat(200), '211 end\r\n').message, /reply longer than/);
    });

    it('does not count blank lines between replies toward any reply', () => {
      const blanks = '\r\n'.repeat(MAX_REPLY_LINES + 10);
      assert.deepEqual(parse(blanks, '200 ok\r\n').map((r) => r.code), [200]);
    });

    it('starts counting afresh for each reply', () => {
      const reply = '211-start\r\n' + ' x\r\n'.repeat(MAX_REPLY_LINES - 2) + '211 end\r\n';
      assert.equal(parse(reply, reply, reply).length, 3);
    });
  });

  describe('a line that is not a reply', () => {
    for (const line of ['hello', 'SSH-2.0-OpenSSH_9.2', '22 short code', '2200 four digits', '220x no separator', 'abc-def']) {
      it(`refuses ${JSON.stringify(line)} as a protocol error`, () => {
        const e = refusal(line + '\r\n');
        assert.match(e.message, /not an FTP reply/);
      });
    }

    it('quotes the line with control characters escaped and cut short', () => {
      const e = refusal('\x1b]0;owned\x07' + 'y'.repeat(500) + '\r\n');
      assert.ok(![...e.message].some((c) => c.charCodeAt(0) < 0x20), 'no raw control characters in the message');
      assert.match(e.message, /\\u001b/);
      assert.ok(e.message.length < 200, `message of ${e.message.length} characters`);
      assert.ok((e.replyText ?? '').length <= 200);
    });
  });

  describe('property: any chunking of any reply stream', () => {
    /** A line of text with no line break (the wire cannot carry one). */
    const text = fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ' '));
    const code = fc.integer({ min: 100, max: 599 });
    const model = fc.oneof(
      fc.record({ code, first: text, middle: fc.constant<string[]>([]) }),
      fc.record({ code, first: text, middle: fc.array(text, { maxLength: 5 }) }).map((r) => ({
        ...r,
        // Continuation lines are free text, except that they must not look like the reply's last
        // line, nor inside FEAT's 211 like a whole reply (taken for a later command's).
        middle: r.middle.map((l) => (l.startsWith(String(r.code)) || (r.code === 211 && /^\d{3}( |$)/.test(l)) ? ' ' + l : l)),
      })),
    );
    type Model = { code: number; first: string; middle: string[] };
    const wireLines = (m: Model): string[] => (m.middle.length === 0 ? [`${m.code} ${m.first}`] : [`${m.code}-${m.first}`, ...m.middle, `${m.code} end`]);

    it('parses each reply to its code and lines, whatever the chunk boundaries and line endings', () => {
      fc.assert(fc.property(
        fc.array(model, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 12 }),
        fc.boolean(),
        (replies, cuts, bareLf) => {
          const wire = Buffer.from(replies.flatMap(wireLines).map((l) => l + (bareLf ? '\n' : '\r\n')).join(''), 'utf8');
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((p, i, all) => wire.subarray(p, all[i + 1] ?? wire.length));
          const got = parse(...chunks);
          assert.deepEqual(got.map((r) => r.code), replies.map((r) => r.code));
          assert.deepEqual(got.map((r) => r.text), replies.map((m) => wireLines(m).join('\n')));
        },
      ), { numRuns: 300 });
    });
  });
});

describe('isPreliminary and isPositive', () => {
  const reply = (code: number): Reply => ({ code, text: `${code} x`, message: 'x' });
  it('tells 1xx from the rest', () => {
    assert.deepEqual([150, 199, 200, 99].map((c) => isPreliminary(reply(c))), [true, true, false, false]);
  });
  it('counts 2xx and 3xx as positive, 1xx, 4xx and 5xx not', () => {
    assert.deepEqual([150, 200, 226, 331, 350, 421, 550].map((c) => isPositive(reply(c))), [false, true, true, true, true, false, false]);
  });
});

describe('parseFeatures', () => {
  const feat = (wire: string): Map<string, string> => parseFeatures(parse(wire)[0]);

  it('gives each feature in upper case with its parameters', () => {
    const f = feat('211-Features:\r\n EPSV\r\n mdtm\r\n MLST type*;size*;modify*;\r\n REST STREAM\r\n AUTH TLS\r\n UTF8\r\n211 End\r\n');
    assert.deepEqual([...f], [['EPSV', ''], ['MDTM', ''], ['MLST', 'type*;size*;modify*;'], ['REST', 'STREAM'], ['AUTH', 'TLS'], ['UTF8', '']]);
  });

  it('ignores blank lines and surrounding spaces', () => {
    assert.deepEqual([...feat('211-Extensions supported:\r\n\r\n   SIZE   \r\n  PBSZ\r\n211 END\r\n')], [['SIZE', ''], ['PBSZ', '']]);
  });

  it('takes neither the first nor the last line for a feature', () => {
    assert.equal(feat('211-EPSV\r\n SIZE\r\n211 MDTM\r\n').size, 1);
  });

  it('gives nothing for a single-line 211 or for a refusal', () => {
    assert.equal(feat('211 No features\r\n').size, 0);
    assert.equal(feat('500 FEAT not understood\r\n').size, 0);
    assert.equal(feat('502-Not\r\n EPSV\r\n502 implemented\r\n').size, 0);
  });
});
