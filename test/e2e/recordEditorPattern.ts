/**
 * Records the FileSystemProvider calls a real VS Code window makes (code-server, the extension
 * installed as a user has it, every log at Trace from the start) while it opens an ftp:// folder
 * and while a file is opened, edited and saved with Ctrl+S. Prints the provider's trace lines
 * ("fs#N op uri … →" when a call starts, "← outcome ms" when it ends) with the milliseconds since
 * the first, for bench/src/editorPattern.ts. Not a test: run by hand after `npm run build` and
 * `npx tsc -p tsconfig.test.json`:
 *
 *   node out/test/e2e/recordEditorPattern.js > /tmp/pattern.txt
 */
import { editorTab, explorerRow, openFileFromExplorer, saveWithCtrlS, settle, startE2e, typeAtStart } from './workbench';

async function main(): Promise<void> {
  const session = await startE2e({ codeServerArgs: ['--log', 'trace'] });
  try {
    const { page } = session;
    await explorerRow(page, 'index.html').waitFor({ timeout: 60_000 });
    await settle(page, true);
    // What the window asks after the listing is shown (settings, tasks, .vscode…) comes in bursts.
    await page.waitForTimeout(3000);
    const opened = lines(session.protocolLogFiles()).length;
    await openFileFromExplorer(page, 'index.html');
    await editorTab(page, 'index.html').waitFor();
    await page.waitForTimeout(2000);
    const beforeSave = lines(session.protocolLogFiles()).length;
    await typeAtStart(page, '<!-- saved -->');
    await saveWithCtrlS(page, 'index.html');
    await page.waitForTimeout(3000);
    const all = lines(session.protocolLogFiles());
    const t0 = all.length ? all[0].at : 0;
    const show = (title: string, part: typeof all) => {
      console.log(`## ${title}`);
      for (const l of part) console.log(`${String(l.at - t0).padStart(6)} ${l.text}`);
    };
    show('open folder', all.slice(0, opened));
    show('open file', all.slice(opened, beforeSave));
    show('save', all.slice(beforeSave));
  } finally {
    await session.stop();
  }
}

/** The provider's trace lines of the log files, with their time stamps in ms. */
function lines(log: string): { at: number; text: string }[] {
  const out: { at: number; text: string }[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[trace\] (fs#.*)$/.exec(line);
    if (m) out.push({ at: Date.parse(m[1].replace(' ', 'T')), text: m[2] });
  }
  return out.sort((a, b) => a.at - b.at);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
