/** Child processes of the bench: optionally inside the client namespace, with a time limit. */
import { spawn } from 'node:child_process';

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const running = new Set<number>();

/** Ends every child still running (Ctrl+C). Each runs in its own process group. */
export function killAllChildren(): void {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  running.clear();
}

export function runProcess(command: string, args: string[], opts: { ns?: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ProcResult> {
  // Raised priority (for every client alike): other work on the machine adds less noise.
  const niced = ['nice', '-n', '-10', command, ...args];
  const [cmd, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, ...niced]] : [niced[0], niced.slice(1)];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const pid = child.pid as number;
    running.add(pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-200_000); });
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }, opts.timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(pid);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
