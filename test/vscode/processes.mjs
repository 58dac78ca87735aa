// One place that knows every process and server this test harness started, so that they all stop
// on a normal exit, on Ctrl+C (SIGINT), on SIGTERM and on an uncaught error — never by name, only
// by what we hold (a PID or a handle).

/** @type {Map<number, () => Promise<void>>} */
const cleanups = new Map();
/** @type {Set<number>} process groups we started, killed synchronously if Node exits abruptly */
const groups = new Set();
let nextId = 1;
let installed = false;

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping what was started…\n`);
      void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/**
 * Registers an async clean-up; returns a function that runs it once and unregisters it.
 * @param {() => Promise<void> | void} fn
 */
export function onCleanup(fn) {
  install();
  const id = nextId++;
  let done;
  const run = () => {
    if (!done) {
      cleanups.delete(id);
      done = Promise.resolve().then(fn);
    }
    return done;
  };
  cleanups.set(id, run);
  return run;
}

/** Tracks a child started with `detached: true` (its own process group, so its children go with it). */
export function trackProcessGroup(pid) {
  install();
  groups.add(pid);
}

export function untrackProcessGroup(pid) {
  groups.delete(pid);
}

/**
 * SIGTERM to the process group, then SIGKILL after `graceMs` if it is still there.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopProcessGroup(child, graceMs = 3000) {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs, 'timeout'));
    if ((await Promise.race([exited, timer])) === 'timeout') {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  }
  // The leader may be gone while helpers it forked (extension host, pty host) linger in the group.
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left
  }
  untrackProcessGroup(pid);
}

/** Runs every registered clean-up, newest first. */
export async function stopAll() {
  const pending = [...cleanups.values()].reverse();
  for (const run of pending) {
    try {
      await run();
    } catch (error) {
      process.stderr.write(`clean-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}
