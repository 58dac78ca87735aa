import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importSftpJson, SftpJsonError, withoutPasswords } from '../../src/migrate/sftpJson';
import { isValidProfileName } from '../../src/remote/serverConfig';
import { parseLinkSetting } from '../../src/sync/linkConfig';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'sftp-json');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

describe('import from vscode-sftp sftp.json', () => {
  it('maps one FTP configuration with comments and a trailing comma to a profile, its password apart, and a linked folder', () => {
    const r = importSftpJson(fixture('single.jsonc'));
    assert.deepEqual(r.servers, [
      {
        profile: { name: 'My-Site', host: 'ftp.example.com', port: 2121, user: 'deploy', security: 'explicit', mode: 'passive' },
        password: 's3cret',
        source: 'My Site',
      },
    ]);
    assert.deepEqual(r.links, [{ local: 'public', remote: 'ftps://My-Site/var/www/html', uploadOnSave: true, ignore: ['.vscode', '.git', '*.log'] }]);
    assert.equal(r.hasPasswords, true);
    assert.deepEqual(r.skipped, []);
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0], /rejectUnauthorized.*fingerprint/);
    // What we write is what our own settings accept.
    assert.ok(isValidProfileName(r.servers[0].profile.name));
    const link = parseLinkSetting(r.links[0], '/home/me/project');
    assert.ok(link.ok);
    assert.equal(link.link.localRoot, '/home/me/project/public');
    assert.equal(JSON.stringify(r.servers[0].profile).includes('s3cret'), false, 'no password in the profile');
    assert.equal(JSON.stringify(r.links).includes('s3cret'), false, 'no password in the link');
  });

  it('reads an array: SFTP entries (also by default protocol) skipped with the reason, implicit FTPS mapped, an entry without host skipped', () => {
    const r = importSftpJson(fixture('array.json'));
    assert.deepEqual(r.servers.map((s) => s.profile), [{ name: 'shop', host: 'shop.example.com', user: 'shop', security: 'implicit' }]);
    assert.deepEqual(r.links, [{ local: '.', remote: 'ftps://shop/', uploadOnSave: false }]);
    assert.deepEqual(
      r.skipped.map((s) => s.source),
      ['ssh box', 'default protocol', 'no host'],
    );
    assert.match(r.skipped[0].reason, /"protocol": "sftp": SFTP is file transfer over SSH/);
    assert.match(r.skipped[1].reason, /no "protocol" \(vscode-sftp then uses SFTP\)/);
    assert.match(r.skipped[2].reason, /no "host"/);
    assert.equal(r.hasPasswords, false, 'the SFTP entry\'s password is not taken');
  });

  it('imports every profile as a server, links the default profile, and merges each over the base configuration', () => {
    const r = importSftpJson(fixture('profiles.json'), ['site-staging']);
    assert.deepEqual(
      r.servers.map((s) => [s.profile.name, s.profile.host, s.profile.user, s.profile.security, s.password]),
      [
        ['site-staging-2', 'staging.example.com', 'web', 'none', 'stage-pw'],
        ['site-prod', 'www.example.com', 'web', 'explicit', undefined],
      ],
    );
    assert.deepEqual(r.links, [{ local: '.', remote: 'ftps://site-prod/live', uploadOnSave: false }]);
    assert.match(r.notes.join('\n'), /"secure": "control".*explicit FTPS/);
  });

  it('says where the JSON is broken, and refuses what is not a configuration', () => {
    assert.throws(() => importSftpJson(fixture('broken.json')), (e: unknown) => e instanceof SftpJsonError && /line 4, column 3/.test(e.message));
    assert.throws(() => importSftpJson('[]'), SftpJsonError);
    assert.throws(() => importSftpJson('"ftp"'), SftpJsonError);
  });

  it('removes every password (profiles too) and keeps comments and the rest', () => {
    const single = withoutPasswords(fixture('single.jsonc'));
    assert.doesNotMatch(single, /s3cret|"password"/);
    assert.match(single, /\/\/ One site, as vscode-sftp/);
    assert.deepEqual(importSftpJson(single).servers[0].profile, importSftpJson(fixture('single.jsonc')).servers[0].profile);
    assert.equal(importSftpJson(single).hasPasswords, false);
    const profiles = withoutPasswords(fixture('profiles.json'));
    assert.doesNotMatch(profiles, /stage-pw/);
    assert.equal(importSftpJson(profiles).servers.length, 2);
    const array = withoutPasswords(fixture('array.json'));
    assert.doesNotMatch(array, /pw1/);
  });
});
