import * as assert from 'node:assert/strict';
import { formatEvent } from '../../src/ftp/eventText';
import type { FtpEvent } from '../../src/ftp/types';

describe('event text', () => {
  it('writes commands and replies at trace, marked > and <', () => {
    assert.deepEqual(formatEvent({ type: 'command', id: 'c1', text: 'RETR /a b.txt' }), { level: 'trace', text: '> RETR /a b.txt' });
    assert.deepEqual(formatEvent({ type: 'reply', id: 'c1', code: 226, text: '226 Transfer complete.' }), { level: 'trace', text: '< 226 Transfer complete.' });
  });

  it('marks every line of a multi-line reply', () => {
    const e: FtpEvent = { type: 'reply', id: 'c1', code: 211, text: '211-Features:\n EPSV\n MLST size*;modify*;\n211 End' };
    assert.equal(formatEvent(e).text, '< 211-Features:\n<  EPSV\n<  MLST size*;modify*;\n< 211 End');
  });

  it('keeps a password the core masked masked', () => {
    const line = formatEvent({ type: 'command', id: 'c1', text: 'PASS ****' });
    assert.equal(line.text, '> PASS ****');
    assert.equal(formatEvent({ type: 'command', id: 'c1', text: 'ACCT ****' }).text, '> ACCT ****');
  });

  it('leaves the connection id to the sink', () => {
    const events: FtpEvent[] = [
      { type: 'connect', id: 'c1', host: 'h', port: 21, address: '127.0.0.1', tls: false },
      { type: 'close', id: 'c1', reason: '530 Login incorrect.' },
      { type: 'warning', id: 'c1', message: 'odd' },
    ];
    for (const e of events) assert.ok(!formatEvent(e).text.includes('c1'), e.type);
  });

  it('writes connects, transfers and closes at info', () => {
    assert.deepEqual(formatEvent({ type: 'connect', id: 'c1', host: 'ftp.example.com', port: 990, address: '192.0.2.1', tls: true }), {
      level: 'info',
      text: 'connected to ftp.example.com:990 (192.0.2.1) with TLS',
    });
    assert.equal(formatEvent({ type: 'connect', id: 'c1', host: 'h', port: 21, tls: false }).text, 'connected to h:21');
    assert.deepEqual(formatEvent({ type: 'transfer', id: 'c1', direction: 'download', path: '/x.bin', bytes: 2048, ms: 1000, mode: 'passive', streamChunks: 3, finalOwed: false }), {
      level: 'info',
      text: 'download /x.bin: 2048 bytes in 1000 ms (2.0 KB/s, passive)',
    });
    assert.equal(formatEvent({ type: 'transfer', id: 'c1', direction: 'download', path: '/x.bin', bytes: 2048, ms: 1000, mode: 'passive', streamChunks: 0, finalOwed: true }).text,
      'download /x.bin: 2048 bytes in 1000 ms (2.0 KB/s, passive, straight into place)');
    assert.equal(formatEvent({ type: 'in-advance', id: 'c1', state: 'closed', via: 'EPSV', target: '192.0.2.1:40000', reason: 'the server closed it' }).text,
      'data connection in advance (EPSV) to 192.0.2.1:40000: closed (the server closed it)');
    assert.deepEqual(formatEvent({ type: 'learned', id: 'c1', what: 'no-epsv', detail: 'EPSV refused (500 ?); using PASV from now on' }), { level: 'info', text: 'EPSV refused (500 ?); using PASV from now on' });
    assert.deepEqual(formatEvent({ type: 'learned', id: 'c1', what: 'encoding', detail: 'File names on h:21 are not UTF-8: using gbk' }), { level: 'info', text: 'File names on h:21 are not UTF-8: using gbk' });
    assert.deepEqual(formatEvent({ type: 'close', id: 'c1' }), { level: 'info', text: 'closed' });
    assert.equal(formatEvent({ type: 'close', id: 'c1', reason: 'Connection closed by client.' }).text, 'closed: Connection closed by client.');
  });

  it('writes TLS and data channels at debug', () => {
    assert.deepEqual(formatEvent({ type: 'tls', id: 'c1', channel: 'data', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', resumed: true, authorized: false }), {
      level: 'debug',
      text: 'TLS on data: TLSv1.3 TLS_AES_256_GCM_SHA384, session resumed, certificate not verified (trusted by fingerprint)',
    });
    assert.equal(formatEvent({ type: 'tls', id: 'c1', channel: 'control', protocol: 'TLSv1.2', cipher: 'X', resumed: false, authorized: true }).text, 'TLS on control: TLSv1.2 X');
    assert.deepEqual(formatEvent({ type: 'data-open', id: 'c1', mode: 'active', command: 'LIST', local: '127.0.0.1:50000', remote: '127.0.0.1:20', tls: true, resumed: true }), {
      level: 'debug',
      text: 'data channel active for LIST: local 127.0.0.1:50000 ↔ remote 127.0.0.1:20, TLS (resumed)',
    });
  });

  it('writes fallbacks and warnings at warn', () => {
    assert.deepEqual(formatEvent({ type: 'data-fallback', id: 'c1', from: 'passive', to: 'active', reason: 'timed out' }), {
      level: 'warn',
      text: 'passive data connection failed (timed out); trying active',
    });
    assert.deepEqual(formatEvent({ type: 'warning', id: 'c1', message: 'PASV address ignored' }), { level: 'warn', text: 'PASV address ignored' });
  });
});
