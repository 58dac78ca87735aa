/**
 * Runs in plain Node before VS Code starts (called by test/vscode/runExtensionTests.ts): starts the
 * FTP server the extension tests use, and tells the runner which folder to open, which settings to
 * write and what the extension host needs to know.
 *
 * Today: the embedded demo server (ftp-srv, anonymous, writable) as the profile `demo`, and the folder
 * `ftp://demo/` opened. To add real servers, start them here with test/support/realServers.ts
 * (startServer(kind, opts)), add their profiles to `ftpWorkspace.servers` and describe them in `env`
 * (passwords too: a profile's password lives in SecretStorage, which tests can fill via the
 * extension's API or commands).
 */
import * as path from 'node:path';
import type * as DemoServerModule from '../../scripts/demo-server.mjs';
import type { ExtensionTestSetup } from '../vscode/runExtensionTests';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export async function setup(): Promise<ExtensionTestSetup> {
  const { startDemoServer } = (await import(path.join(REPO_ROOT, 'scripts', 'demo-server.mjs'))) as typeof DemoServerModule;
  const demo = await startDemoServer({ port: 0, pasvRange: [31000, 31049] });
  return {
    folder: 'ftp://demo/',
    settings: {
      'ftpWorkspace.servers': [{ name: 'demo', host: demo.host, port: demo.port, user: 'anonymous' }],
    },
    env: {
      FTPW_TEST_DEMO_HOST: demo.host,
      FTPW_TEST_DEMO_PORT: String(demo.port),
      FTPW_TEST_DEMO_ROOT: demo.root,
    },
    teardown: () => demo.stop(),
  };
}
