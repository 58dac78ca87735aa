/**
 * What makes Find in Files fast, counted in the commands the real servers get: the files of the
 * folders listed first are asked for before the walk lists more folders (the first matches come
 * early), and a search right after a whole walk lists no folder again — unless told to, and then it
 * finds what another client added meanwhile. The summary says how old the listings it used are.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import type { FtpEvent } from '../../src/ftp/types';
import { RemoteFs } from '../../src/remote/remoteFs';
import { ContentCache } from '../../src/search/contentCache';
import { RemoteIndex } from '../../src/search/remoteIndex';
import { searchText } from '../../src/search/textSearch';
import { optionsFor } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

/** The listing and download commands a pool's connections sent, in order ("LIST /t/d1", "RETR /t/a.txt"). */
function transfersOf(events: FtpEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'command' && /^(LIST|MLSD|NLST|RETR) /.test(e.text) ? [e.text.replace(/^(LIST|MLSD|NLST) (-a )?/, 'LIST ')] : []));
}

for (const kind of ['vsftpd', 'proftpd', 'pure-ftpd'] as ServerKind[]) {
  describe(`search speed on ${kind}`, function () {
    this.timeout(120_000);
    let server: RunningServer;
    let tmp: string;
    const events: FtpEvent[] = [];
    let pool: ConnectionPool<FtpClient>;

    before(async () => {
      server = await startServer(kind);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-search-speed-'));
      const files: Record<string, string> = {
        't/a.txt': 'needle a\n', 't/b.txt': 'b\n', 't/c.txt': 'needle c\n',
        't/d1/x.txt': 'needle x\n', 't/d2/y.txt': 'y\n', 't/d2/e/z.txt': 'needle z\n',
      };
      for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(server.root, rel)), { recursive: true });
        fs.writeFileSync(path.join(server.root, rel), text);
      }
      server.giveToUser();
    });
    beforeEach(() => {
      events.length = 0;
      // One connection: the order the pool serves requests in is the order they were made.
      pool = new ConnectionPool<FtpClient>((mode, onEvent) => FtpClient.connect(optionsFor(server, { mode, onEvent })), { maxConnections: 1, backgroundReserve: 0 });
      pool.on('event', (e: FtpEvent) => events.push(e));
    });
    afterEach(() => pool.close());
    after(async () => {
      await stopAllServers();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('asks for the files of the folders listed so far before it lists more folders', async () => {
      const index = new RemoteIndex(new RemoteFs(pool), '/t', { concurrency: 16 });
      try {
        const summary = await searchText(index, new RemoteFs(pool), { query: { pattern: 'needle' }, concurrency: 2 });
        assert.equal(summary.incomplete, undefined);
        assert.equal(summary.filesMatched, 4);
        assert.equal(summary.listingsAgeMs, undefined, 'every folder was listed for this search');
        const order = transfersOf(events);
        const at = (command: string) => order.indexOf(command);
        assert.equal(order[0], 'LIST /t', order.join(', '));
        for (const f of ['a', 'b', 'c']) assert.ok(at(`RETR /t/${f}.txt`) < at('LIST /t/d1') && at(`RETR /t/${f}.txt`) < at('LIST /t/d2'), `the root's files before its folders: ${order.join(', ')}`);
        assert.ok(at('RETR /t/d2/y.txt') < at('LIST /t/d2/e'), `d2's files before its folder e: ${order.join(', ')}`);
        assert.equal(order.length, 10, order.join(', '));
      } finally {
        index.dispose();
      }
    });

    it('ends at once when cancelled while folders wait behind files, with the results so far', async () => {
      const index = new RemoteIndex(new RemoteFs(pool), '/t');
      const abort = new AbortController();
      const found: string[] = [];
      try {
        // One reader: after the first match the root's other files still wait, and d1, d2 behind them.
        const summary = await searchText(index, new RemoteFs(pool), { query: { pattern: 'needle' }, concurrency: 1, signal: abort.signal, onFile: (r) => { found.push(r.path); abort.abort(); } });
        assert.equal(summary.incomplete, 'cancelled');
        // The root's files come in the server's listing order: the first with the text ends it.
        assert.equal(found.length, 1);
        assert.ok(['a.txt', 'c.txt'].includes(found[0]), found[0]);
        assert.ok(!transfersOf(events).includes('LIST /t/d2/e'), transfersOf(events).join(', '));
      } finally {
        index.dispose();
      }
    });

    it('lists no folder again right after a whole walk, says how old the listings are, and lists them all when told to', async () => {
      const remote = new RemoteFs(pool);
      const index = new RemoteIndex(remote, '/t');
      const cache = new ContentCache(path.join(tmp, `cache-${kind}`), 1 << 20);
      try {
        const first = await searchText(index, remote, { query: { pattern: 'needle' }, cache });
        assert.equal(first.downloaded, 6);
        assert.equal(transfersOf(events).filter((c) => c.startsWith('LIST')).length, 4);
        assert.notEqual(index.walkedAt, undefined);

        events.length = 0;
        const again = await searchText(index, remote, { query: { pattern: 'needle' }, cache });
        assert.deepEqual(transfersOf(events), [], 'neither a listing nor a download');
        assert.equal(again.filesMatched, 4);
        assert.equal(again.fromCache, 6);
        assert.ok(again.listingsAgeMs !== undefined && again.listingsAgeMs >= 0 && again.listingsAgeMs < 60_000, `listings dated: ${again.listingsAgeMs}`);

        const inFolder = await searchText(index, remote, { query: { pattern: 'needle' }, cache, under: 'd2' });
        assert.deepEqual(transfersOf(events), []);
        assert.equal(inFolder.filesMatched, 1, 'Find in Folder keeps to its folder');

        // A folder another client made since the walk is listed when searched in (Find in Folder).
        fs.mkdirSync(path.join(server.root, 't/later'));
        fs.writeFileSync(path.join(server.root, 't/later/w.txt'), 'needle w\n');
        server.giveToUser('t');
        const inNew = await searchText(index, remote, { query: { pattern: 'needle' }, cache, under: 'later' });
        assert.equal(inNew.filesMatched, 1);
        assert.equal(inNew.listingsAgeMs, undefined);
        assert.deepEqual(transfersOf(events), ['LIST /t/later', 'RETR /t/later/w.txt']);
        events.length = 0;

        // Another client adds a file: trusted listings do not show it; fresh ones (max age 0) do.
        fs.writeFileSync(path.join(server.root, 't/d1/new.txt'), 'needle new\n');
        server.giveToUser('t');
        const fresh = await searchText(index, remote, { query: { pattern: 'needle' }, cache, listingsMaxAgeMs: 0 });
        assert.equal(fresh.listingsAgeMs, undefined);
        assert.equal(fresh.filesMatched, 6);
        assert.deepEqual(transfersOf(events).filter((c) => c.startsWith('RETR')), ['RETR /t/d1/new.txt'], 'only the new file downloaded');
        assert.equal(transfersOf(events).filter((c) => c.startsWith('LIST')).length, 5);
      } finally {
        index.dispose();
      }
    });
  });
}
