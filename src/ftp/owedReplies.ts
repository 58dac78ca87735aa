/**
 * Replies the server still owes a session that no caller is waiting for: a download's final 226
 * (every announced byte is in; the reply only confirms them), the EPSV sent for the connection
 * opened in advance, OPTS UTF8's answer. The control connection reads replies strictly in order;
 * this list names the ones that belong to nobody's command any more, each with what is done with
 * it, and the session's next command waits until all are settled — so an owed reply is never
 * taken as the answer to something else.
 */
export class OwedReplies {
  private readonly owed = new Map<number, string>();
  private nextId = 0;
  private all: Promise<void> = Promise.resolve();

  /**
   * `work` reads the reply and handles it (logs a late failure, keeps a connection); it never
   * rejects the session: a failure there is the next command's to meet.
   */
  add(what: string, work: Promise<unknown>): void {
    const id = this.nextId++;
    this.owed.set(id, what);
    const done = work.then(() => undefined, () => undefined).finally(() => this.owed.delete(id));
    this.all = Promise.all([this.all, done]).then(() => undefined);
  }

  /** What is still owed, oldest first, e.g. ["226 for RETR /a.txt", "229 for EPSV (in advance)"]. */
  get pending(): string[] {
    return [...this.owed.values()];
  }

  /** Resolves once every reply owed so far has come (or the connection is gone). */
  settle(): Promise<void> {
    return this.all;
  }
}
