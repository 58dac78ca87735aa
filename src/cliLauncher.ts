/**
 * dist/cli.js, what `ftp-workspace` runs: a small launcher that starts the command line proper
 * (src/cli.ts, bundled as dist/cli-main.js) from V8's code cache — see codeCache.ts — after starting
 * the connection to the server (cliEarlyConnection.ts). It loads nothing else, so that it costs
 * next to nothing itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startEarlyConnection } from './cliEarlyConnection';
import { runWithCodeCache } from './codeCache';

// The real folder: through npm's bin link under --preserve-symlinks-main, __dirname is the link's.
const run = () => runWithCodeCache(path.join(path.dirname(fs.realpathSync(__filename)), 'cli-main.js'), module);

// First of all, so that the server's greeting is on its way while the bundle loads. Node makes
// the connect() call in a later tick (after the name's lookup, or next tick for an address):
// the bundle, ~20 ms of synchronous work, must wait for that, not the other way round.
if (startEarlyConnection(process.argv.slice(2), process.env)) setImmediate(run);
else run();
