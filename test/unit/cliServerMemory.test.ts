/** The command line's memory of servers between runs (src/cliServerMemory.ts), in a private folder of a test's own. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliServerMemory } from '../../src/cliServerMemory';
import { zoneMemory } from '../../src/ftp/timeZone';

const DAY = 24 * 3600_000;

describe('the command line\'s memory of servers', () => {
  let dir: string;
  let now: number;
  const load = (env: NodeJS.ProcessEnv = {}) => CliServerMemory.load(env, () => now, () => dir);
  const file = () => path.join(dir, 'servers.json');
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-mem-'));
    now = Date.UTC(2026, 11, 7, 12);
    zoneMemory.clear();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    zoneMemory.clear();
  });

  it('gives the next run what a server offered, for a week', () => {
    const a = load();
    a.features.set('none h:21', { epsv: true, feat: [['MLST', 'type*;size*;'], ['UTF8', '']] });
    a.save();
    assert.equal(fs.statSync(file()).mode & 0o777, 0o600);
    now += 6 * DAY;
    assert.deepEqual(load().features.get('none h:21'), { epsv: true, feat: [['MLST', 'type*;size*;'], ['UTF8', '']] });
    assert.equal(load().features.get('explicit h:21'), undefined, 'FTPS is another key');
    a.features.set('explicit h:21', { epsv: true, feat: [], tlsGroup: 'P-256' });
    a.save();
    assert.equal(load().features.get('explicit h:21')?.tlsGroup, 'P-256', 'and the TLS group the server chose');
    now += 2 * DAY;
    assert.equal(load().features.get('none h:21'), undefined, 'older than a week');
  });

  it('hands a zone found by one run to the next for a day, without making it younger', () => {
    const a = load();
    a.seedZone('h:21');
    assert.equal(zoneMemory.get('h:21'), undefined, 'nothing known yet');
    zoneMemory.set('h:21', 120); // the run's MDTM found it
    a.noteZone('h:21');
    a.save();
    zoneMemory.clear();
    now += 20 * 3600_000;
    const b = load();
    b.seedZone('h:21');
    assert.equal(zoneMemory.get('h:21'), 120);
    b.noteZone('h:21');
    b.save();
    zoneMemory.clear();
    now += 5 * 3600_000;
    load().seedZone('h:21');
    assert.equal(zoneMemory.get('h:21'), undefined, 'a day after it was found, not after it was last used');
  });

  it('keeps "cannot be found" (null) as a zone too', () => {
    const a = load();
    zoneMemory.set('h:21', null);
    a.noteZone('h:21');
    a.save();
    zoneMemory.clear();
    load().seedZone('h:21');
    assert.equal(zoneMemory.get('h:21'), null);
  });

  it('forgets a server the client forgets', () => {
    const a = load();
    a.features.set('none h:21', { epsv: true, feat: [] });
    a.save();
    const b = load();
    b.features.set('none h:21', undefined);
    b.save();
    assert.equal(load().features.get('none h:21'), undefined);
  });

  it('writes nothing with FTP_WORKSPACE_SERVER_MEMORY=0, and nothing when nothing changed', () => {
    const off = load({ FTP_WORKSPACE_SERVER_MEMORY: '0' });
    off.features.set('none h:21', { epsv: true });
    off.save();
    assert.equal(fs.existsSync(file()), false);
    load().save();
    assert.equal(fs.existsSync(file()), false);
  });

  it('starts afresh from a broken or foreign file, and drops records that are not its own', () => {
    fs.writeFileSync(file(), '{"features": nope', { mode: 0o600 });
    assert.equal(load().features.get('none h:21'), undefined);
    fs.writeFileSync(file(), JSON.stringify({
      features: {
        'none a:21': { at: now, value: { epsv: 'yes' } },
        'none b:21': { at: now, value: { epsv: true, feat: [['MLST', '']] } },
        'explicit d:21': { at: now, value: { epsv: true, tlsGroup: 25519 } },
      },
      zones: { 'a:21': { at: now, value: 'UTC' }, 'b:21': { at: now, value: 60 }, 'c:21': { at: now, value: 100000 } },
    }), { mode: 0o600 });
    const m = load();
    assert.equal(m.features.get('none a:21'), undefined);
    assert.deepEqual(m.features.get('none b:21'), { epsv: true, feat: [['MLST', '']] });
    assert.equal(m.features.get('explicit d:21'), undefined);
    for (const k of ['a:21', 'b:21', 'c:21']) m.seedZone(k);
    assert.deepEqual(['a:21', 'b:21', 'c:21'].map((k) => zoneMemory.get(k)), [undefined, 60, undefined]);
  });

  it('does not read a file others could write', function () {
    if (process.platform === 'win32') this.skip();
    const a = load();
    a.features.set('none h:21', { epsv: true, feat: [] });
    a.save();
    fs.chmodSync(file(), 0o666);
    assert.equal(load().features.get('none h:21'), undefined);
  });

  it('keeps the 64 newest servers', () => {
    const a = load();
    for (let i = 0; i < 70; i++) {
      now += 1000;
      a.features.set(`none h${i}:21`, { epsv: true, feat: [] });
    }
    a.save();
    const b = load();
    assert.equal(b.features.get('none h5:21'), undefined);
    assert.ok(b.features.get('none h6:21'));
    assert.ok(b.features.get('none h69:21'));
  });
});
