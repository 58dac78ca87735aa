// Types for demo-server.mjs, so TypeScript tests can use the demo server.
export declare const DEMO_FILES: Readonly<Record<string, string>>;
export declare function seedDemoRoot(root: string): void;
export interface DemoServer {
  host: string;
  port: number;
  /** Local folder the server serves as '/'. */
  root: string;
  user: 'anonymous';
  pasvRange: [number, number];
  url(path?: string): string;
  stop(): Promise<void>;
}
export declare function startDemoServer(options?: {
  port?: number;
  host?: string;
  root?: string;
  pasvRange?: [number, number];
  seed?: boolean;
  log?: (line: string) => void;
}): Promise<DemoServer>;
