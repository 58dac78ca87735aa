/**
 * package.json's contributions hold together: every command a menu, the welcome view or the
 * walkthrough names is declared and registered by the code, every declared command is in the
 * README, and the walkthrough's media exist and are packaged.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Pkg {
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    views: Record<string, { id: string }[]>;
    walkthroughs: { steps: { description: string; media: { markdown?: string; image?: string }; completionEvents: string[] }[] }[];
  };
}

function sources(dir: string): string {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(path.join(dir, f)))
    .join('\n');
}

describe('package.json contributions', () => {
  const pkg = JSON.parse(read('package.json')) as Pkg;
  const declared = new Set(pkg.contributes.commands.map((c) => c.command));
  const code = sources('src');
  const registered = new Set([...code.matchAll(/(?:registerCommand|register|onProfile)\('(ftpWorkspace\.[\w.]+)'/g)].map((m) => m[1]));
  const walkthrough = pkg.contributes.walkthroughs[0];

  it('puts view menus on their views and Explorer menus on resources, not the other way round', () => {
    for (const menu of ['view/title', 'view/item/context']) {
      assert.deepEqual(pkg.contributes.menus[menu].filter((m) => !/\bview ==/.test(m.when ?? '')).map((m) => m.command), [], `${menu} entries name their view`);
    }
    assert.deepEqual(pkg.contributes.menus['explorer/context'].filter((m) => /\bview ==/.test(m.when ?? '')).map((m) => m.command), []);
  });

  it('declares every command the code registers, and the code registers every declared one', () => {
    assert.deepEqual([...registered].filter((c) => !declared.has(c)), []);
    assert.deepEqual([...declared].filter((c) => !registered.has(c)), []);
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'FTP', c.command);
  });

  it('names only declared commands in menus, the welcome view and the walkthrough', () => {
    const named = [
      ...Object.values(pkg.contributes.menus).flat().map((m) => m.command),
      ...pkg.contributes.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/command:([\w.]+)/g)].map((m) => m[1])),
      ...walkthrough.steps.flatMap((s) => [...s.description.matchAll(/command:([\w.]+)/g)].map((m) => m[1])),
      ...walkthrough.steps.flatMap((s) => s.completionEvents.map((e) => e.replace(/^onCommand:/, ''))),
    ].filter((c) => c.startsWith('ftpWorkspace.'));
    assert.deepEqual(named.filter((c) => !declared.has(c)), []);
    const views = Object.values(pkg.contributes.views).flat().map((v) => v.id);
    for (const w of pkg.contributes.viewsWelcome) assert.ok(views.includes(w.view), w.view);
  });

  it('has the walkthrough media, small, and packages them', () => {
    const ignore = read('.vscodeignore');
    for (const step of walkthrough.steps) {
      const file = step.media.markdown ?? step.media.image;
      assert.ok(file && fs.existsSync(path.join(ROOT, file)), `${file} exists`);
      assert.ok(fs.statSync(path.join(ROOT, file)).size < 8 * 1024, `${file} is small`);
      assert.ok(ignore.includes(`!${path.dirname(file)}/*`), `${file} is packaged (.vscodeignore)`);
    }
  });

  it('lists every palette command in the README', () => {
    const readme = read('README.md');
    const hidden = new Set((pkg.contributes.menus.commandPalette as { command: string; when?: string }[]).filter((m) => m.when === 'false').map((m) => m.command));
    const missing = pkg.contributes.commands.filter((c) => !hidden.has(c.command) && !readme.includes(`FTP: ${c.title}`)).map((c) => `FTP: ${c.title}`);
    assert.deepEqual(missing, []);
  });
});
