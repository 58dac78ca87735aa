import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bestChecksumMethod, checksumOfBytes, checksumOfFile, parseChecksumReply } from '../../src/ftp/checksum';

const feat = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('checksums', () => {
  it("picks HASH's strongest algorithm, else the strongest X-command; ranges only from X-commands", () => {
    const proftpd = feat({ HASH: 'CRC32;MD5;SHA-1*;SHA-256;SHA-512;', XCRC: '', XMD5: '', XSHA1: '', XSHA256: '', XSHA512: '' });
    assert.deepEqual(bestChecksumMethod(proftpd), { algorithm: 'SHA-256', command: 'HASH', ranges: false });
    assert.deepEqual(bestChecksumMethod(proftpd, { ranged: true }), { algorithm: 'SHA-256', command: 'XSHA256', ranges: true });
    assert.deepEqual(bestChecksumMethod(feat({ HASH: 'MD5*;CRC32' })), { algorithm: 'MD5', command: 'HASH', ranges: false });
    assert.deepEqual(bestChecksumMethod(feat({ XCRC: '', XMD5: '' })), { algorithm: 'MD5', command: 'XMD5', ranges: true });
    assert.deepEqual(bestChecksumMethod(feat({ HASH: 'TIGER;WHIRLPOOL' })), undefined);
    assert.equal(bestChecksumMethod(feat({ MDTM: '', SIZE: '' })), undefined);
    assert.equal(bestChecksumMethod(feat({ HASH: 'SHA-256' }), { ranged: true }), undefined);
  });

  it('reads the digest from HASH and X-command replies, multi-line or not', () => {
    const hex = 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447';
    assert.equal(parseChecksumReply('SHA-256', `213-Computing SHA-256 digest\n213 SHA-256 0-12 ${hex} /a.txt`), hex);
    assert.equal(parseChecksumReply('SHA-256', `250-Computing SHA256 digest\n250 ${hex.toUpperCase()}`), hex);
    assert.equal(parseChecksumReply('MD5', '250 6F5902AC237024BDD0C176CB93063DC4 /a.txt'), '6f5902ac237024bdd0c176cb93063dc4');
    assert.equal(parseChecksumReply('CRC32', '250 AF083B2D'), 'af083b2d');
    // A digest of the wrong length is no digest of this algorithm (a name with hex in it neither).
    assert.equal(parseChecksumReply('SHA-256', '250 6F5902AC237024BDD0C176CB93063DC4'), undefined);
    assert.equal(parseChecksumReply('MD5', '213 Computing'), undefined);
  });

  it('computes the same digests here, CRC32 included, for bytes and for a file range', async () => {
    const data = Buffer.from('hello world\n');
    assert.equal(checksumOfBytes('SHA-256', data), 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447');
    assert.equal(checksumOfBytes('SHA-1', data), '22596363b3de40b06f981fb85d82312e8c0ed511');
    assert.equal(checksumOfBytes('MD5', data), '6f5902ac237024bdd0c176cb93063dc4');
    assert.equal(checksumOfBytes('CRC32', data), 'af083b2d');
    assert.equal(checksumOfBytes('CRC32', Buffer.from('hello')), '3610a686');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sum-')), 'f');
    fs.writeFileSync(file, data);
    assert.equal(await checksumOfFile('SHA-512', file), createHash('sha512').update(data).digest('hex'));
    assert.equal(await checksumOfFile('SHA-256', file, { start: 0, end: 5 }), createHash('sha256').update('hello').digest('hex'));
    assert.equal(await checksumOfFile('MD5', file, { start: 0, end: 0 }), createHash('md5').digest('hex'));
  });
});
