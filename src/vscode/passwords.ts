/**
 * Passwords (of servers, and of the proxies they are reached through) live only in SecretStorage (when the user chose to remember them) or in memory for the
 * session. A prompt is shared by everything that needs the same password at once, and a cancelled
 * prompt is not repeated until the user acts (opens the folder again, runs a command): VS Code
 * stats files in bursts and must not open a dialog each.
 */
import * as vscode from 'vscode';
import { secretKey, type Account } from '../remote/serverConfig';

export interface Candidate {
  password: string;
  /** Store in SecretStorage once the login succeeds. */
  remember: boolean;
}

export class Passwords {
  private readonly session = new Map<string, string>();
  private readonly prompts = new Map<string, { result: Promise<Candidate | undefined>; answer: (c: Candidate) => void }>();
  /** Servers whose prompt the user cancelled: not asked again until allowAsking(). */
  private readonly cancelled = new Set<string>();
  /**
   * Prompts for different servers take turns: VS Code shows one input box at a time and closes
   * the open one when another opens, which would read as a cancel (e.g. a workspace with two
   * servers asks for both passwords at start-up).
   */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Passwords known this session, so the log can mask them if a server echoes one. */
  known(): string[] {
    return [...this.session.values()].filter((p) => p.length >= 3);
  }

  /** The stored password, else ask. Undefined when the user cancels. */
  async get(server: Account): Promise<Candidate | undefined> {
    const key = secretKey(server);
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
  ask(server: Account, reason?: string): Promise<Candidate | undefined> {
    const key = secretKey(server);
    const pending = this.prompts.get(key);
    if (pending) return pending.result;
    if (!reason && this.cancelled.has(key)) return Promise.resolve(undefined);
    // The prompt closes when the password arrives another way (provide()) while it is open.
    const closer = new vscode.CancellationTokenSource();
    let answer!: (c: Candidate) => void;
    const provided = new Promise<Candidate>((resolve) => (answer = resolve));
    let settled = false;
    const asked = this.turn.then(() => (settled ? undefined : this.prompt(server, reason, closer.token)));
    this.turn = asked.catch(() => undefined);
    const result = Promise.race([asked, provided])
      .then((candidate) => {
        // Connections that reach the server while the first login with this answer is under way
        // use it too, instead of opening a second prompt; a refusal forgets it (forget()).
        if (candidate) this.session.set(key, candidate.password);
        return candidate;
      })
      .finally(() => {
        settled = true;
        this.prompts.delete(key);
        closer.cancel();
        closer.dispose();
      });
    this.prompts.set(key, { result, answer });
    return result;
  }

  /** A password given through the extension's API: used from now on, and answers an open prompt. */
  async provide(server: Account, password: string, remember: boolean): Promise<void> {
    const key = secretKey(server);
    this.session.set(key, password);
    this.cancelled.delete(key);
    if (remember) await this.secrets.store(key, password);
    this.prompts.get(key)?.answer({ password, remember: false });
  }

  /** Call after a successful login with the candidate that worked. */
  async accepted(server: Account, candidate: Candidate): Promise<void> {
    const key = secretKey(server);
    this.session.set(key, candidate.password);
    this.cancelled.delete(key);
    if (candidate.remember) await this.secrets.store(key, candidate.password);
  }

  /** The user acted (a command, the folder opened again): a cancelled prompt may be shown again. */
  allowAsking(server: Account): void {
    this.cancelled.delete(secretKey(server));
  }

  /** Forget a password that was refused or that the user wants gone. */
  async forget(server: Account): Promise<void> {
    const key = secretKey(server);
    this.session.delete(key);
    await this.secrets.delete(key);
  }

  private async prompt(server: Account, reason: string | undefined, closed: vscode.CancellationToken): Promise<Candidate | undefined> {
    const key = secretKey(server);
    const who = server.proxy ? `the proxy ${server.proxy}` : `${server.user}@${server.host}:${server.port}`;
    const password = await vscode.window.showInputBox({
      title: `FTP: ${server.label ?? who}`,
      prompt: reason ? `${reason} — enter the password for ${who}` : `Password for ${who}`,
      password: true,
      ignoreFocusOut: true,
    }, closed);
    if (password === undefined) {
      if (!closed.isCancellationRequested) this.cancelled.add(key);
      return undefined;
    }
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Remember', description: "in VS Code's secret storage", remember: true },
        { label: 'Only for this session', description: 'ask again after a restart', remember: false },
      ],
      { title: `Remember the password for ${server.proxy ? `the proxy ${server.proxy}` : `${server.user}@${server.host}`}?`, ignoreFocusOut: true },
      closed,
    );
    this.cancelled.delete(key);
    return { password, remember: choice?.remember ?? false };
  }
}
