// Types for processes.mjs.
import type { ChildProcess } from 'node:child_process';
export declare function onCleanup(fn: () => Promise<void> | void): () => Promise<void>;
export declare function trackProcessGroup(pid: number): void;
export declare function untrackProcessGroup(pid: number): void;
export declare function stopProcessGroup(child: ChildProcess, graceMs?: number): Promise<void>;
export declare function stopAll(): Promise<void>;
