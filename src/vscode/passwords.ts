/**
 * Passwords live only in SecretStorage (when the user chose to remember them) or in memory for the
 * session. A prompt is shared by everything that needs the same password at once, and a cancelled
 * prompt is not repeated for a while: VS Code stats files in bursts and must not open a dialog each.
 */
import * as vscode from 'vscode';
import { passwordKey, type ResolvedServer } from './serverConfig';

export interface Candidate {
  password: string;
  /** Store in SecretStorage once the login succeeds. */
  remember: boolean;
}

const CANCEL_QUIET_MS = 30_000;

export class Passwords {
  private readonly session = new Map<string, string>();
  private readonly prompts = new Map<string, Promise<Candidate | undefined>>();
  private readonly cancelledAt = new Map<string, number>();

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Passwords known this session, so the log can mask them if a server echoes one. */
  known(): string[] {
    return [...this.session.values()].filter((p) => p.length >= 3);
  }

  /** The stored password, else ask. Undefined when the user cancels. */
  async get(server: ResolvedServer): Promise<Candidate | undefined> {
    const key = passwordKey(server);
    const inMemory = this.session.get(key);
    if (inMemory !== undefined) return { password: inMemory, remember: false };
    const stored = await this.secrets.get(key);
    if (stored !== undefined) {
      this.session.set(key, stored);
      return { password: stored, remember: false };
    }
    return this.ask(server);
  }

  /** Asks (again), e.g. after a failed login. Concurrent callers share one prompt. */
  ask(server: ResolvedServer, reason?: string): Promise<Candidate | undefined> {
    const key = passwordKey(server);
    const pending = this.prompts.get(key);
    if (pending) return pending;
    const cancelled = this.cancelledAt.get(key);
    if (!reason && cancelled !== undefined && Date.now() - cancelled < CANCEL_QUIET_MS) return Promise.resolve(undefined);
    const prompt = this.prompt(server, reason).finally(() => this.prompts.delete(key));
    this.prompts.set(key, prompt);
    return prompt;
  }

  /** Call after a successful login with the candidate that worked. */
  async accepted(server: ResolvedServer, candidate: Candidate): Promise<void> {
    const key = passwordKey(server);
    this.session.set(key, candidate.password);
    this.cancelledAt.delete(key);
    if (candidate.remember) await this.secrets.store(key, candidate.password);
  }

  /** Forget a password that was refused or that the user wants gone. */
  async forget(server: ResolvedServer): Promise<void> {
    const key = passwordKey(server);
    this.session.delete(key);
    await this.secrets.delete(key);
  }

  private async prompt(server: ResolvedServer, reason?: string): Promise<Candidate | undefined> {
    const key = passwordKey(server);
    const password = await vscode.window.showInputBox({
      title: `FTP: ${server.label}`,
      prompt: reason ? `${reason} — enter the password for ${server.user}@${server.host}` : `Password for ${server.user}@${server.host}:${server.port}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (password === undefined) {
      this.cancelledAt.set(key, Date.now());
      return undefined;
    }
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Remember', description: "in VS Code's secret storage", remember: true },
        { label: 'Only for this session', description: 'ask again after a restart', remember: false },
      ],
      { title: `Remember the password for ${server.user}@${server.host}?`, ignoreFocusOut: true },
    );
    this.cancelledAt.delete(key);
    return { password, remember: choice?.remember ?? false };
  }
}
