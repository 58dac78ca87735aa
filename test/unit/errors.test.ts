import * as assert from 'node:assert/strict';
import { FtpError, errorFromReply, isFtpError, type CommandContext, type FtpErrorKind } from '../../src/ftp/errors';

function reply(code: number, message: string): { code: number; message: string; text: string } {
  return { code, message, text: `${code} ${message}` };
}

/** [code, message as the server words it, command, context, the kind it must give] */
type Case = [number, string, string, CommandContext, FtpErrorKind];

function check(cases: Case[]): void {
  for (const [code, message, command, context, kind] of cases) {
    it(`${code} "${message}" to ${command.split(' ')[0]} (${context}) → ${kind}`, () => {
      assert.equal(errorFromReply(reply(code, message), command, context).kind, kind);
    });
  }
}

describe('errorFromReply', () => {
  describe('421: the server is closing', () => {
    check([
      [421, 'There are too many connections from your internet address.', '(greeting)', 'login', 'busy'], // vsftpd max_per_ip
      [421, 'There are too many connected users, please try later.', '(greeting)', 'login', 'busy'], // vsftpd max_clients
      [421, 'Timeout.', '(greeting)', 'login', 'busy'], // at login any 421 is a refusal to serve now
      [421, 'Too many connections (2) from this IP', 'LIST /', 'path-read', 'busy'], // pure-ftpd
      [421, 'Timeout.', 'RETR /a.txt', 'path-read', 'connection-lost'],
      [421, 'Service not available, closing control connection.', 'STOR /a.txt', 'path-write', 'connection-lost'],
      [421, 'No transfer timeout: closing control connection', 'NOOP', 'other', 'connection-lost'],
      [421, 'Idle timeout', 'AUTH TLS', 'tls', 'connection-lost'], // closing wins over a TLS refusal
    ]);
  });

  describe('530 and 332: login, or limits worded as a login failure', () => {
    check([
      [530, 'Login incorrect.', 'PASS ****', 'login', 'login'],
      [530, 'Sorry, the maximum number of clients (2) from your host are already connected.', 'PASS ****', 'login', 'busy'], // proftpd
      [530, 'Sorry, max 5 users allowed', 'USER deploy', 'login', 'busy'],
      [530, 'This account is already logged in', 'PASS ****', 'login', 'busy'],
      [332, 'Need account for login.', 'PASS ****', 'login', 'login'],
      [530, 'Please login with USER and PASS.', 'RETR /a.txt', 'path-read', 'permission'],
      [530, 'Not logged in.', 'MKD /new', 'path-write', 'permission'],
    ]);
  });

  describe('TLS', () => {
    check([
      [534, 'Request denied for policy reasons.', 'AUTH TLS', 'tls', 'tls'],
      [431, 'Need some unavailable resource', 'AUTH TLS', 'tls', 'tls'],
      [536, 'PROT P not supported', 'PROT P', 'tls', 'tls'],
      [500, 'AUTH not understood', 'AUTH TLS', 'tls', 'tls'],
    ]);
  });

  describe('data connection', () => {
    check([
      [425, 'Failed to establish connection.', 'RETR /a.txt', 'path-read', 'data-channel'],
      [425, "Can't open data connection.", 'LIST /', 'data', 'data-channel'],
      [426, 'Failure reading network stream.', 'STOR /a.txt', 'path-write', 'connection-lost'],
      [426, 'Connection closed; transfer aborted.', 'RETR /a.txt', 'data', 'connection-lost'],
    ]);
  });

  describe('commands the server does not have', () => {
    check([
      [500, "Unknown command.", 'MLST /', 'path-read', 'unsupported'],
      [502, 'Command not implemented.', 'SITE CHMOD 644 /a', 'path-write', 'unsupported'],
      [504, 'Command not implemented for that parameter.', 'OPTS UTF8 ON', 'other', 'unsupported'],
      // During login a 500 is not "use another command": the login failed.
      [500, 'OOPS: cannot change directory:/home/ftp', 'PASS ****', 'login', 'server'],
    ]);
  });

  describe('550 and friends: what the path context decides', () => {
    check([
      // The wording says it: the context does not matter.
      [550, 'No such file or directory', 'SIZE /a.txt', 'path-read', 'not-found'],
      [550, 'No such file or directory', 'STOR /no/dir/a.txt', 'path-write', 'not-found'],
      [550, 'Failed to open file.', 'RETR /a.txt', 'path-read', 'not-found'], // vsftpd
      [550, "Can't check for file existence", 'MDTM /a.txt', 'path-read', 'not-found'], // pure-ftpd
      [550, 'The system cannot find the file specified.', 'SIZE /a.txt', 'path-read', 'not-found'], // IIS
      [550, 'Permission denied.', 'RETR /secret', 'path-read', 'permission'],
      [550, 'Permission denied.', 'DELE /secret', 'path-write', 'permission'],
      [550, 'Access is denied.', 'STOR /a.txt', 'path-write', 'permission'], // IIS
      [550, '/a: File exists', 'MKD /a', 'path-write', 'exists'], // proftpd
      [550, "Can't create directory: File exists", 'MKD /a', 'path-write', 'exists'], // pure-ftpd
      // No clue in the wording: a read of a path that gives 550 did not find it; a write was refused.
      [550, 'Requested action not taken.', 'SIZE /a.txt', 'path-read', 'not-found'],
      [550, 'Create directory operation failed.', 'MKD /a', 'path-write', 'server'], // vsftpd, also for an existing folder
      [550, 'Rename failed.', 'RNTO /b', 'path-write', 'server'],
      [550, 'Requested action not taken.', 'NOOP', 'other', 'server'],
      // 451/551 count as not found only when they say so.
      [451, 'No such file or directory', 'RETR /a.txt', 'path-read', 'not-found'],
      [451, 'Local error in processing.', 'RETR /a.txt', 'path-read', 'server'],
      [551, 'Page type unknown.', 'RETR /a.txt', 'path-read', 'server'],
      // 553: file name not allowed.
      [553, 'Could not create file.', 'STOR /a.txt', 'path-write', 'server'], // vsftpd
      [553, 'Permission denied on server. (Overwrite)', 'STOR /a.txt', 'path-write', 'permission'],
      [532, 'Need account for storing files.', 'STOR /a.txt', 'path-write', 'permission'],
    ]);
  });

  describe('450: a transient refusal ("file busy"), not a missing file', () => {
    check([
      [450, 'No such file or directory', 'LIST /gone', 'path-read', 'not-found'], // proftpd's wording for a missing folder
      [450, 'Requested file action not taken. File unavailable (e.g., file busy).', 'RETR /a.txt', 'path-read', 'server'],
      [450, 'File is locked by another process.', 'LIST /dir', 'path-read', 'server'],
      [450, 'Permission denied', 'DELE /a.txt', 'path-write', 'permission'],
    ]);
  });

  describe('a file name in the reply does not decide the kind', () => {
    // proftpd and pure-ftpd echo the path; its words must not read as the server's reason.
    check([
      [550, '/logs/access.log: No such file or directory', 'SIZE /logs/access.log', 'path-read', 'not-found'],
      [550, '/denied-requests.txt: No such file or directory', 'MDTM /denied-requests.txt', 'path-read', 'not-found'],
      [550, 'Could not open /readonly-notes.md: No such file or directory', 'RETR /readonly-notes.md', 'path-read', 'not-found'],
      [550, '/not found yet: Permission denied', 'DELE /not found yet', 'path-write', 'permission'],
      [550, 'limits.conf: Permission denied', 'STOR /etc/limits.conf', 'path-write', 'permission'],
      [550, "Can't open access.log: No such file or directory", 'RETR /logs/access.log', 'path-read', 'not-found'], // only the name echoed
      [550, 'Cannot delete (denied): No such file or directory', 'DELE /x/(denied)', 'path-write', 'not-found'], // a name with regex characters
      // The name is removed only where it stands alone: here "s" is not cut out of "Permissions:".
      [550, 'Permissions: denied', 'DELE /s', 'path-write', 'permission'],
    ]);
  });

  describe('everything else', () => {
    check([
      [554, 'Requested action not taken: invalid REST parameter.', 'REST 100', 'other', 'server'],
      [452, 'Insufficient storage space.', 'STOR /big.bin', 'path-write', 'server'],
      [552, 'Exceeded storage allocation.', 'STOR /big.bin', 'path-write', 'server'],
      [554, 'Service unavailable', '(greeting)', 'login', 'server'],
    ]);
  });

  describe('the error it makes', () => {
    it('names the command, the kind and the reply, and carries code, text and command', () => {
      const r = { code: 550, message: 'Failed to open file.', text: '550 Failed to open file.' };
      const e = errorFromReply(r, 'RETR /a.txt', 'path-read');
      assert.ok(e instanceof FtpError);
      assert.equal(e.name, 'FtpError');
      assert.equal(e.message, 'RETR: not found (550 Failed to open file.)');
      assert.equal(e.code, 550);
      assert.equal(e.replyText, '550 Failed to open file.');
      assert.equal(e.command, 'RETR /a.txt');
    });

    it('keeps a multi-line reply whole in replyText', () => {
      const text = '530-Login incorrect.\n530 Goodbye.';
      const e = errorFromReply({ code: 530, message: 'Login incorrect.\nGoodbye.', text }, 'PASS ****', 'login');
      assert.equal(e.replyText, text);
      assert.equal(e.kind, 'login');
    });

    it('defaults to the "other" context', () => {
      assert.equal(errorFromReply(reply(550, 'Requested action not taken.'), 'SITE X').kind, 'server');
    });

    it('shows the command as given: the caller masks the password', () => {
      const e = errorFromReply(reply(530, 'Login incorrect.'), 'PASS ****', 'login');
      assert.match(e.message, /^PASS: login failed \(530 Login incorrect\.\)$/);
      assert.equal(e.command, 'PASS ****');
    });
  });
});

describe('FtpError and isFtpError', () => {
  it('keeps the details and the cause', () => {
    const cause = new Error('ECONNRESET');
    const e = new FtpError('connection-lost', 'lost', { code: 421, replyText: '421 bye', command: 'LIST /', mode: 'active', cause });
    assert.equal(e.kind, 'connection-lost');
    assert.equal(e.mode, 'active');
    assert.equal(e.cause, cause);
    assert.ok(e instanceof Error);
  });

  it('tells FtpErrors of a kind from other errors', () => {
    const e = new FtpError('timeout', 't');
    assert.equal(isFtpError(e), true);
    assert.equal(isFtpError(e, 'timeout'), true);
    assert.equal(isFtpError(e, 'busy'), false);
    assert.equal(isFtpError(new Error('x')), false);
    assert.equal(isFtpError({ kind: 'timeout' }), false);
    assert.equal(isFtpError(undefined), false);
  });
});
