/**
 * The preview of a sync: every action in a multi-select list, grouped as created / updated /
 * deleted / conflicts, with deletions and conflicts unticked; then a modal confirmation when any
 * deletion is ticked. Nothing is deleted without both.
 */
import * as vscode from 'vscode';
import { formatBytes } from '../../ftp/format';
import { selectActions, summarize, type SyncAction, type SyncPlan } from '../../sync/planner';

interface ActionItem extends vscode.QuickPickItem {
  action?: SyncAction;
}

const GROUPS: { title: string; icon: string; test: (a: SyncAction) => boolean }[] = [
  { title: 'Conflicts — changed on the other side too: ticking one overwrites that change', icon: '$(warning)', test: (a) => a.conflict },
  { title: 'Create', icon: '$(add)', test: (a) => !a.conflict && a.kind === 'create' },
  { title: 'Update', icon: '$(arrow-swap)', test: (a) => !a.conflict && a.kind === 'update' },
  { title: 'Delete — only if you tick them', icon: '$(trash)', test: (a) => !a.conflict && a.kind === 'delete' },
];

/** Shows the plan; resolves to the chosen actions (made consistent), or undefined if cancelled. */
export async function previewPlan(plan: SyncPlan, title: string): Promise<SyncAction[] | undefined> {
  const where = plan.direction === 'toRemote' ? 'on the server' : 'locally';
  const items: ActionItem[] = [];
  for (const group of GROUPS) {
    const actions = plan.actions.filter(group.test);
    if (actions.length === 0) continue;
    items.push({ label: `${group.title} (${actions.length})`, kind: vscode.QuickPickItemKind.Separator });
    for (const action of actions) {
      const verb = action.kind === 'create' ? 'create' : action.kind === 'update' ? 'overwrite' : 'delete';
      items.push({
        label: `${group.icon} ${action.path}${action.type === 'directory' ? '/' : ''}`,
        description: `${verb} ${where}${action.bytes > 0 ? ` · ${formatBytes(action.bytes)}` : ''}`,
        detail: action.reason,
        picked: action.recommended,
        action,
      });
    }
  }
  const quickPick = vscode.window.createQuickPick<ActionItem>();
  quickPick.title = title;
  quickPick.canSelectMany = true;
  quickPick.matchOnDetail = true;
  quickPick.ignoreFocusOut = true;
  quickPick.items = items;
  quickPick.selectedItems = items.filter((i) => i.picked);
  const problems = plan.problems.length > 0 ? ` ${plan.problems.length} path(s) skipped: ${plan.problems.map((p) => `${p.path} (${p.message})`).join('; ')}.` : '';
  const update = () => {
    const s = summarize(quickPick.selectedItems.flatMap((i) => (i.action ? [i.action] : [])));
    quickPick.placeholder = `Ticked: ${s.create} to create, ${s.update} to update, ${s.delete} to delete (${formatBytes(s.bytes)}). Enter to sync.${problems}`;
  };
  update();
  const chosen = await new Promise<readonly ActionItem[] | undefined>((resolve) => {
    quickPick.onDidChangeSelection(update);
    quickPick.onDidAccept(() => {
      resolve(quickPick.selectedItems);
      quickPick.hide();
    });
    quickPick.onDidHide(() => resolve(undefined));
    quickPick.show();
  });
  quickPick.dispose();
  if (!chosen) return undefined;
  const actions = selectActions(plan, chosen.flatMap((i) => (i.action ? [i.action.id] : [])));
  return (await confirmDeletions(actions, where)) ? actions : undefined;
}

/** A modal "are you sure" for ticked deletions. */
export async function confirmDeletions(actions: readonly SyncAction[], where: string): Promise<boolean> {
  const deletions = actions.filter((a) => a.kind === 'delete');
  if (deletions.length === 0) return true;
  const shown = deletions.slice(0, 12).map((a) => `• ${a.path}${a.type === 'directory' ? '/' : ''}`);
  if (deletions.length > shown.length) shown.push(`… and ${deletions.length - shown.length} more`);
  const answer = await vscode.window.showWarningMessage(
    `Delete ${deletions.length} item(s) ${where}?`,
    { modal: true, detail: `${shown.join('\n')}\n\nThis cannot be undone.` },
    'Delete',
  );
  return answer === 'Delete';
}
