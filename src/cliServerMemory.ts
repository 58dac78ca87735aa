/**
 * What the command line learned of each server, kept from one run to the next, as the extension
 * keeps it across windows: FEAT's answer (a login then sends its first command without waiting for
 * it; FEAT is still asked, and its answer corrects the memory) and the zone of the server's LIST
 * times (a listing then needs no MDTM to find it — a round trip of every `ls` on vsftpd).
 *
 * In the user's private cache folder (the code cache's, see codeCache.ts), `servers.json`: servers
 * by host and port, what they offered, their zone — no user names, no passwords. A zone is trusted
 * for a day (a server's clock may move to summer time, or its zone be changed), features for a
 * week; the newest 64 servers are kept. `FTP_WORKSPACE_SERVER_MEMORY=0` keeps nothing.
 */
import * as path from 'node:path';
import { privateFolder, readPrivateFile, writePrivateFile } from './codeCache';
import { zoneMemory } from './ftp/timeZone';
import type { FeatureMemory, KnownFeatures } from './ftp/types';

export const SERVER_MEMORY_ENV = 'FTP_WORKSPACE_SERVER_MEMORY';
const FILE = 'servers.json';
const FEATURES_FOR_MS = 7 * 24 * 3600_000;
const ZONE_FOR_MS = 24 * 3600_000;
const KEEP = 64;

interface Stored<T> { at: number; value: T }
interface Contents {
  /** By security and host:port, as FtpClient keys them. */
  features: Record<string, Stored<KnownFeatures>>;
  /** By host:port: minutes east of UTC, or null where it cannot be found (no MDTM). */
  zones: Record<string, Stored<number | null>>;
}

export class CliServerMemory {
  private changed = false;
  /** Zones handed to this run from the file (not found again by it: their age stays). */
  private readonly seeded = new Map<string, number | null>();

  private constructor(private readonly file: string | undefined, private readonly contents: Contents, private readonly now: () => number) {}

  /** The memory on disk; an empty one (that writes nothing) when turned off or without a private folder. */
  static load(env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now, folder: () => string | undefined = privateFolder): CliServerMemory {
    const empty = (): Contents => ({ features: {}, zones: {} });
    if (env[SERVER_MEMORY_ENV] === '0') return new CliServerMemory(undefined, empty(), now);
    const dir = folder();
    const file = dir ? path.join(dir, FILE) : undefined;
    return new CliServerMemory(file, (file && parse(readPrivateFile(file))) || empty(), now);
  }

  /** For FtpClient's `featureMemory`: what each server offered, as long as it is young enough. */
  readonly features: FeatureMemory = {
    get: (key) => this.fresh(this.contents.features[key], FEATURES_FOR_MS),
    set: (key, known) => {
      const before = this.contents.features[key];
      if (known && before && JSON.stringify(before.value) === JSON.stringify(known) && this.now() - before.at < FEATURES_FOR_MS / 2) return;
      this.put(this.contents.features, key, known);
    },
  };

  /** Before connecting: the zone remembered for `serverKey` (host:port), if young enough, is taken as known. */
  seedZone(serverKey: string): void {
    const zone = this.fresh(this.contents.zones[serverKey], ZONE_FOR_MS);
    if (zone === undefined || zoneMemory.get(serverKey) !== undefined) return;
    zoneMemory.set(serverKey, zone);
    this.seeded.set(serverKey, zone);
  }

  /** After the work: a zone this run found (not the one it was handed) is kept. */
  noteZone(serverKey: string): void {
    const zone = zoneMemory.get(serverKey);
    if (zone === undefined || (this.seeded.has(serverKey) && this.seeded.get(serverKey) === zone)) return;
    this.put(this.contents.zones, serverKey, zone);
  }

  /** Writes the file when something changed; any error only costs the next run its head start. */
  save(): void {
    if (!this.changed || !this.file) return;
    this.changed = false;
    writePrivateFile(this.file, () => JSON.stringify(this.contents));
  }

  private fresh<T>(stored: Stored<T> | undefined, forMs: number): T | undefined {
    if (!stored) return undefined;
    const age = this.now() - stored.at;
    return age >= 0 && age < forMs ? stored.value : undefined;
  }

  private put<T>(map: Record<string, Stored<T>>, key: string, value: T | undefined): void {
    delete map[key];
    // Insertion order is age: the newest go last, the oldest beyond KEEP go.
    if (value !== undefined) map[key] = { at: this.now(), value };
    for (const old of Object.keys(map).slice(0, Math.max(0, Object.keys(map).length - KEEP))) delete map[old];
    this.changed = true;
  }
}

/** The file's contents, or undefined for anything that is not what save() writes (an old or broken file starts afresh). */
function parse(bytes: Buffer | undefined): Contents | undefined {
  if (!bytes) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as Partial<Contents>;
    const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    if (!isRecord(v) || !isRecord(v.features) || !isRecord(v.zones)) return undefined;
    const valid = <T>(m: Record<string, unknown>, ok: (x: unknown) => boolean): Record<string, Stored<T>> => Object.fromEntries(
      Object.entries(m).filter(([, s]) => isRecord(s) && typeof s.at === 'number' && ok(s.value)),
    ) as Record<string, Stored<T>>;
    return {
      features: valid<KnownFeatures>(v.features, (x) => isRecord(x) && typeof x.epsv === 'boolean'
        && (x.feat === undefined || (Array.isArray(x.feat) && x.feat.every((f) => Array.isArray(f) && f.length === 2 && f.every((s) => typeof s === 'string'))))
        && (x.tlsGroup === undefined || typeof x.tlsGroup === 'string')),
      zones: valid<number | null>(v.zones, (x) => x === null || (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) <= 14 * 60)),
    };
  } catch {
    return undefined;
  }
}
