import * as assert from 'node:assert/strict';
import { greetingTraits } from '../../src/ftp/greeting';
import { ReplyParser } from '../../src/ftp/reply';

function greeting(raw: string) {
  return new ReplyParser().push(Buffer.from(raw))[0];
}

describe('greetingTraits', () => {
  it("knows vsftpd by its own greeting: commands wait for a transfer's end there", () => {
    assert.equal(greetingTraits(greeting('220 (vsFTPd 3.0.3)\r\n')).commandsWaitForTransfer, true);
    assert.equal(greetingTraits(greeting('220 (vsFTPd 3.0.5)\r\n')).commandsWaitForTransfer, true);
  });

  it('assumes nothing of other servers, of a banner that only mentions vsftpd, or of a refusal', () => {
    for (const raw of [
      '220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n',
      '220---------- Welcome to Pure-FTPd [privsep] ----------\r\n220 You will be disconnected after 15 minutes of inactivity.\r\n',
      '220 Welcome to my vsFTPd server\r\n',
      '220 fault server\r\n',
      '421 (vsFTPd 3.0.3)\r\n',
    ]) {
      assert.equal(greetingTraits(greeting(raw)).commandsWaitForTransfer, false, raw);
    }
  });
});
