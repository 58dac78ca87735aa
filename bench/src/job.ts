/** What the harness asks a client child process to do, and what it answers. */

export type Scenario = 'connect' | 'list' | 'stat' | 'read' | 'save' | 'read-idle' | 'save-idle' | 'tree' | 'sync' | 'download' | 'upload'
  | 'goto-file' | 'find-in-files' | 'index-memory' | 'tls-resume' | 'editor-open' | 'editor-open-window' | 'editor-save' | 'editor-save-later' | 'cli-get' | 'cli-ls';

/**
 * Issue #21's one-shot commands, cold: a whole process each, `ftp-workspace get` of the small file
 * and `ftp-workspace ls` of the 1,000-entry folder against curl doing the same, wall time from spawn
 * to exit (both through the same `ip netns exec nice`).
 */
export const CLI_SCENARIOS: readonly Scenario[] = ['cli-get', 'cli-ls'];

/**
 * Issue #21's scenarios: VS Code's recorded requests (editorPattern.ts) through RemoteFs, ours only.
 * editor-open: a cold pool, from the start to the root listing; editor-open-window: the same as a new
 * window makes it, with nothing of this process's TLS memory (sessions, groups), only what the
 * extension keeps across windows (the servers' features, in globalState); editor-save: Ctrl+S on a warm one,
 * 0.5 s after the last save (VS Code's stat before it is answered by what that save found);
 * editor-save-later: the same past the listing cache's lifetime (that stat goes to the server).
 */
export const EDITOR_SCENARIOS: readonly Scenario[] = ['editor-open', 'editor-open-window', 'editor-save', 'editor-save-later'];

/** Issue #16's scenarios: Go to File and Find in Files over the tree, and the index's memory. */
export const SEARCH_SCENARIOS: readonly Scenario[] = ['goto-file', 'find-in-files', 'index-memory'];

/**
 * The untimed pause before each run of `read-idle` and `save-idle`: what a session sees in an
 * editor, where a person opens or saves a file now and then, not in a tight loop. Far more than
 * the few round trips a session needs to settle after a transfer, far less than the pool's idle close.
 */
export const EDITOR_PAUSE_MS = 500;

/** The timed operation of a scenario: `read-idle` times a read, `save-idle` a save. */
export function operationOf(scenario: Scenario): Scenario {
  return scenario === 'read-idle' ? 'read' : scenario === 'save-idle' ? 'save' : scenario;
}
/** `ours@SHORT`: our client as of another commit of this repository (`--baseline REF`), run by that commit's runner. */
export type Tool = 'ours' | 'curl' | 'lftp' | 'basic-ftp' | `ours@${string}`;
export type Security = 'plain' | 'tls';
export type Mode = 'passive' | 'active';

export interface ServerRef {
  host: string;
  port: number;
  user: string;
  password: string;
  tls: boolean;
  fingerprint?: string;
}

/** Remote paths of the fixtures (see fixtures.ts). */
export interface RemotePaths {
  small: string;
  listDir: string;
  tree: string;
  upDir: string;
  /** Holds the empty folders the `sync` scenario uploads into. */
  syncDir: string;
  big: string;
}

export interface Job {
  tool: 'ours' | 'basic-ftp';
  scenario: Scenario;
  server: ServerRef;
  mode: Mode;
  runs: number;
  paths: RemotePaths;
  /** Connections used by the tree walk. */
  parallel: number;
  /** Local file uploaded by the `upload` scenario. */
  localSource?: string;
  /** Local file the `download` scenario writes. */
  localTarget?: string;
  /** Record the protocol events of the last run. */
  trace: boolean;
  /** Unmeasured runs before the measured ones (default 1). */
  warmUps?: number;
  /** Sync: the local tree, and one empty server folder per run to upload it into. */
  sync?: SyncJob;
  /** The search scenarios: what to look for, where to keep indexes and caches, the memory index's size. */
  search?: SearchJob;
  /** tls-resume: the TLS version, whether the added connection may resume, the server to take CPU of. */
  tlsResume?: TlsResumeJob;
}

/**
 * One more control connection beside an open one, as a pool grows: with the first one's TLS
 * session offered (resumption), or with every remembered session forgotten (a full handshake).
 */
export interface TlsResumeJob {
  version: 'TLSv1.2' | 'TLSv1.3';
  resumption: boolean;
  /** The FTP server's listening process: its descendants are the sessions whose CPU is counted. */
  serverPid: number;
}

export interface SearchJob {
  /** Literal text Find in Files looks for (case-sensitive, as `grep -rn -F`). */
  needle: string;
  /** Local folder for the on-disk index and the content cache (emptied per run: every run starts cold). */
  dir: string;
  /** Files of the in-memory index `index-memory` builds. */
  indexEntries: number;
}

export interface SyncJob {
  localRoot: string;
  remoteRoots: string[];
  /** Folder for the sync records the runs write. */
  stateDir: string;
}

export interface TraceLine {
  /** ms since the start of the measured operation */
  t: number;
  line: string;
}

export interface JobResult {
  /** ms per measured run */
  times: number[];
  /** Peak resident set size of the whole child process, KiB. */
  maxRssKb: number;
  bytes?: number;
  /** Tree walk: folders and files seen; sync: folders and files on the server's disk afterwards. */
  counts?: { dirs: number; files: number };
  trace?: TraceLine[];
  /**
   * Further times per run, by name: goto-file `first` (first folder's files handed over) and `disk`
   * (index loaded from disk, first query answered); find-in-files `first` (first match) and `again`
   * (the same search with the content cache); lftp find-in-files `mirror` and `grep`; ours' big
   * download and upload `setup` (from the call to the data's start — the server's 150, or our
   * first bytes if earlier — left out of `times`, as curl's pre-transfer time is).
   */
  phases?: Record<string, number[]>;
  /** index-memory: heap growth per run, bytes (after a full GC, index held). */
  heapBytes?: number[];
  /** find-in-files: matching lines found (ours: the search core; lftp: `grep -rn` on the mirror). */
  matches?: number;
  /** Connect: per run, ms from sending PASS to the 230 reply (mostly the server checking the password). */
  loginMs?: number[];
  /** tls-resume: runs whose control connection resumed a session (the `tls` event's `resumed`). */
  resumedRuns?: number;
  /** tls-resume: a cold pool's connections opened at once (`parallel`), and how many of them resumed. */
  openedTogether?: { opened: number; resumed: number };
  error?: string;
}
