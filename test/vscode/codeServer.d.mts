// Types for codeServer.mjs, so TypeScript tests can load it (Node 20.19+ can require() an ES module).
import type { Browser, BrowserContext, Page } from 'playwright-core';

export interface VsCodeInstall {
  version: string;
  vscodeVersion: string;
  nodeBin: string;
  codeServerEntry: string;
  codeServerBin: string;
  chromiumBin: string;
  rgBin: string;
}

export interface CodeServerOptions {
  vscode?: VsCodeInstall;
  /** Default: a free port. */
  port?: number;
  /** User settings merged over BASE_SETTINGS (and over an existing settings.json in userDataDir). */
  settings?: Record<string, unknown>;
  /** Default: a fresh temporary folder. */
  userDataDir?: string;
  extensionsDir?: string;
  env?: Record<string, string>;
  extraArgs?: string[];
  cwd?: string;
  keepTemp?: boolean;
  log?: (line: string) => void;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  extensionsDir: string;
  vscode: VsCodeInstall;
  output(): string;
  stop(): Promise<void>;
}

export interface WorkbenchTarget {
  /** A local path (opened on code-server's disk) or a URI such as `ftp://demo/`. */
  folder?: string;
  /** A `.code-workspace` path or URI. */
  workspace?: string;
}

export interface OpenWorkbenchOptions extends WorkbenchTarget {
  server: CodeServer;
  browser: Browser;
  extensionDevelopmentPath?: string[];
  extensionTestsPath?: string;
  viewport?: { width: number; height: number };
  onLog?: (type: string, text: string) => void;
  onPageError?: (error: Error) => void;
  waitForReady?: boolean;
  readyTimeoutMs?: number;
}

export interface Workbench {
  page: Page;
  context: BrowserContext;
  url: string;
  /** Settles with the extension tests' exit code (only when extensionTestsPath was given). */
  result: Promise<number>;
  close(): Promise<void>;
}

export interface StartWorkbenchOptions extends CodeServerOptions, Omit<OpenWorkbenchOptions, 'server' | 'browser'> {}

export interface RunningWorkbench extends Workbench {
  server: CodeServer;
  browser: Browser;
  stop(): Promise<void>;
}

export declare const REPO_ROOT: string;
export declare const BASE_SETTINGS: Readonly<Record<string, unknown>>;
export declare const CHROMIUM_ARGS: readonly string[];
export declare function installExtensionFolder(extensionsDir: string, from?: string): { id: string; folder: string };
export declare function writeUserSettings(userDataDir: string, settings?: Record<string, unknown>): string;
export declare function startCodeServer(options?: CodeServerOptions): Promise<CodeServer>;
export declare function workbenchUrl(baseUrl: string, target?: WorkbenchTarget): string;
export declare function launchChromium(options?: {
  chromiumBin?: string;
  headless?: boolean;
  args?: string[];
}): Promise<{ browser: Browser; stop(): Promise<void> }>;
export declare function openWorkbench(options: OpenWorkbenchOptions): Promise<Workbench>;
export declare function waitForWorkbench(page: Page, timeoutMs?: number): Promise<void>;
export declare function startWorkbench(options?: StartWorkbenchOptions): Promise<RunningWorkbench>;
