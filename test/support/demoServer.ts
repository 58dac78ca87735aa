/**
 * The embedded demo server (scripts/demo-server.mjs, ftp-srv) for the integration tests: an ES
 * module, so loaded with import() from the compiled tests' folder (out/test/…, as deep as test/…).
 */
import * as path from 'node:path';
import type * as DemoServerModule from '../../scripts/demo-server.mjs';

export type { DemoServer } from '../../scripts/demo-server.mjs';

export async function startDemoServer(options: Parameters<typeof DemoServerModule.startDemoServer>[0]): ReturnType<typeof DemoServerModule.startDemoServer> {
  const demo = (await import(path.resolve(__dirname, '../../../scripts/demo-server.mjs'))) as typeof DemoServerModule;
  return demo.startDemoServer(options);
}
