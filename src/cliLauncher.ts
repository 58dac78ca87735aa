/**
 * dist/cli.js, what `ftp-workspace` runs: a small launcher that starts the command line proper
 * (src/cli.ts, bundled as dist/cli-main.js) from V8's code cache — see codeCache.ts. It loads
 * nothing else, so that it costs next to nothing itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runWithCodeCache } from './codeCache';

// The real folder: through npm's bin link under --preserve-symlinks-main, __dirname is the link's.
runWithCodeCache(path.join(path.dirname(fs.realpathSync(__filename)), 'cli-main.js'), module);
