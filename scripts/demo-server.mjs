#!/usr/bin/env node
// An embedded demo FTP server (the `ftp-srv` package) on 127.0.0.1 for `npm start` and quick tests:
// anonymous login with write access, a seeded root folder, passive (EPSV/PASV) and active (EPRT/PORT).
//
// ftp-srv is a happy-path peer, not a reference server. Known quirks:
//   - no MLSD/MLST (clients must parse `LIST`, in `ls` format); FEAT lists AUTH TLS, MDTM, PBSZ, PROT,
//     SIZE, TYPE and UTF8 but not EPSV or EPRT, which it accepts all the same — and AUTH TLS even
//     when it has no certificate;
//   - in active mode it connects back right after PORT/EPRT, before the transfer command, and only
//     to the control connection's own address ("500 The given address is not yours" otherwise);
//   - a passive data connection from another address is refused with 550 and the session closed;
//   - FTPS does not enforce TLS session reuse on the data channel (vsftpd does);
//   - its constructor installs process-wide SIGINT/SIGTERM/SIGQUIT handlers that call
//     process.exit(0) — removed here, since callers have their own clean-up;
//   - with `pasv_url` unset PASV answers 502; for a loopback client it advertises the client's address;
//   - a file system error becomes the reply text as is: LIST of a missing path answers
//     `451 ENOENT: no such file or directory, stat '/tmp/…'` (a 4xx, "transient", where real servers
//     say 550; CWD/RETR/SIZE do answer 550) and every such reply shows the server's local path.
//
// Usage: node scripts/demo-server.mjs [--port N] [--root DIR] [--pasv LOW-HIGH]   (env FTPW_DEMO_PORT)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import FtpSrv from 'ftp-srv';

export const DEMO_FILES = {
  'README.md': `# FTP Workspace demo

This folder lives on a small FTP server that \`npm start\` runs on your machine
(127.0.0.1, anonymous login, write access). Everything you see in the Explorer was listed over FTP.

Try it:

- open \`index.html\`, change something and save with Ctrl+S — the file is uploaded (STOR);
- create, rename and delete files and folders in the Explorer;
- click the data-channel mode in the status bar ("FTP: Auto") to switch between passive and active mode;
- run "FTP: Show Protocol Log" from the Command Palette (F1) to see every command and reply.

The server keeps its files in a temporary folder; they are gone when \`npm start\` stops.
`,
  'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>FTP Workspace demo</title>
    <link rel="stylesheet" href="css/style.css">
  </head>
  <body>
    <h1>Hello from an FTP server</h1>
    <p>Edit this file in VS Code and save it: it goes straight back to the server.</p>
  </body>
</html>
`,
  'css/style.css': `body {
  font-family: system-ui, sans-serif;
  margin: 2rem auto;
  max-width: 40rem;
  color: #222;
}

h1 {
  color: #0a6ebd;
}
`,
  'notes/todo.txt': `- try passive mode (EPSV, then PASV)
- try active mode (EPRT, then PORT)
- edit index.html and save
- rename this file
`,
};

/** Writes the demo files into `root` (existing files are left alone). */
export function seedDemoRoot(root) {
  for (const [relative, content] of Object.entries(DEMO_FILES)) {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, content);
  }
}

// ftp-srv wants a bunyan-like logger; bunyan's default prints every session to stdout.
function quietLogger(print) {
  const logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (...args) => print?.('warn', args),
    // A missing file is an ordinary reply for a client (VS Code probes .vscode/settings.json and
    // more), not a server error worth printing.
    error: (...args) => {
      if (!args.some((a) => a?.code === 'ENOENT' || /\bENOENT\b/.test(String(a?.message ?? a)))) print?.('error', args);
    },
    child: () => logger,
  };
  return logger;
}

/**
 * Starts the demo server. Port 0 picks a free one.
 * @param {{ port?: number, host?: string, root?: string, pasvRange?: [number, number], seed?: boolean, log?: (line: string) => void }} [options]
 */
export async function startDemoServer(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const ownRoot = !options.root;
  const root = path.resolve(options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-demo-root-')));
  fs.mkdirSync(root, { recursive: true });
  if (options.seed ?? true) seedDemoRoot(root);
  const [pasvMin, pasvMax] = options.pasvRange ?? [30000, 30099];

  const before = new Map(['SIGINT', 'SIGTERM', 'SIGQUIT'].map((s) => [s, new Set(process.listeners(s))]));
  const print = options.log ? (level, args) => options.log(`[ftp-srv ${level}] ${args.map(String).join(' ')}`) : undefined;
  const server = new FtpSrv({
    url: `ftp://${host}:${options.port ?? 2121}`,
    pasv_url: host,
    pasv_min: pasvMin,
    pasv_max: pasvMax,
    anonymous: true,
    greeting: ['FTP Workspace demo server (ftp-srv)'],
    log: quietLogger(print),
  });
  for (const [signal, listeners] of before) {
    for (const listener of process.listeners(signal)) if (!listeners.has(listener)) process.removeListener(signal, listener);
  }
  server.on('login', (_data, resolve) => resolve({ root }));
  server.on('client-error', ({ error }) => print?.('warn', [`client error: ${error?.message ?? error}`]));
  await server.listen();
  const port = server.server.address().port;

  let stopped;
  return {
    host,
    port,
    root,
    user: 'anonymous',
    pasvRange: [pasvMin, pasvMax],
    url: (p = '/') => `ftp://${host}:${port}${p.startsWith('/') ? p : `/${p}`}`,
    stop() {
      stopped ??= server
        .close()
        .catch(() => {})
        .then(() => {
          if (ownRoot) fs.rmSync(root, { recursive: true, force: true });
        });
      return stopped;
    },
  };
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const range = argValue('--pasv')?.split('-').map(Number);
  const server = await startDemoServer({
    port: Number(argValue('--port') ?? process.env.FTPW_DEMO_PORT ?? 2121),
    root: argValue('--root'),
    pasvRange: range?.length === 2 ? range : undefined,
    log: (line) => console.error(line),
  });
  console.log(`demo FTP server on ${server.url()} (anonymous, writable), root ${server.root}, passive ports ${server.pasvRange.join('-')}`);
  const stop = () => server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// No top-level await: TypeScript tests load this module with require() (Node 20.19+ allows that only without it).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
