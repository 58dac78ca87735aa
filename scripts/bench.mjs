// `npm run bench`: bundles the bench harness (bench/src) with esbuild and runs it as root.
//   npm run bench -- [--rtt 50] [--runs 5] [--tree-runs 3] [--quick] [--smoke] [--only read,save] [--out DIR]
// See bench/README.md. Results: bench/results.md and bench/results.json.
import * as esbuild from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', 'ftpw-bench');
mkdirSync(outDir, { recursive: true });

await esbuild.build({
  entryPoints: { main: join(root, 'bench/src/main.ts'), runner: join(root, 'bench/src/runner.ts') },
  outdir: outDir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
});

const child = spawn(process.execPath, ['--enable-source-maps', join(outDir, 'main.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, FTPW_BENCH_DIR: join(root, 'bench'), FTPW_BENCH_RUNNER: join(outDir, 'runner.js') },
});
// Ctrl+C reaches the harness too (same process group); it cleans up and exits, then so do we.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
