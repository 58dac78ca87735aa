import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as defaults from '../../src/ftp/defaults';
import { DEFAULTS } from '../../src/remote/serverConfig';

interface Setting {
  default?: unknown;
  maximum?: number;
  description?: string;
  markdownDescription?: string;
  enumDescriptions?: string[];
  items?: { properties: Record<string, Setting> };
}

function settings(): Record<string, Setting> {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, Setting> } | { properties: Record<string, Setting> }[] };
  };
  const sections = [pkg.contributes.configuration].flat();
  return Object.assign({}, ...sections.map((s) => s.properties)) as Record<string, Setting>;
}

/** Settings are in seconds, the module in milliseconds. */
const seconds = (ms: number) => ms / 1000;

describe('defaults', () => {
  const documented = settings();
  const setting = (name: string): Setting => {
    const s = documented[`ftpWorkspace.${name}`];
    assert.ok(s, `package.json has no setting ftpWorkspace.${name}`);
    return s;
  };

  // Every setting with a counterpart in src/ftp/defaults.ts: the value package.json documents and
  // the one the code uses when the setting is unset must be the same.
  const counterparts: [string, unknown][] = [
    ['defaultMode', defaults.dataMode],
    ['verifyUploads', defaults.verifyUploads],
    ['resumeThreshold', defaults.resumeThresholdBytes / (1024 * 1024)],
    ['poolSize', defaults.poolSize],
    ['idleTimeout', seconds(defaults.poolIdleTimeoutMs)],
    ['keepaliveInterval', seconds(defaults.poolKeepaliveMs)],
    ['connectTimeout', seconds(defaults.connectTimeoutMs)],
    ['replyTimeout', seconds(defaults.replyTimeoutMs)],
    ['dataTimeout', seconds(defaults.dataConnectTimeoutMs)],
    ['transferIdleTimeout', seconds(defaults.dataIdleTimeoutMs)],
    ['passiveInAdvance', defaults.passiveInAdvance],
    ['trustPasvAddress', defaults.trustPasvAddress],
    ['cacheTtl', seconds(defaults.listingCacheTtlMs)],
    ['pollInterval', seconds(defaults.pollIntervalMs)],
    ['safeSave', defaults.safeSave],
    ['search.maxIndexAge', seconds(defaults.searchIndexMaxAgeMs)],
    ['search.listingsMaxAge', seconds(defaults.searchListingsMaxAgeMs)],
    ['search.connections', defaults.searchConnections],
    ['search.contentCacheSize', defaults.searchCacheBytes / 1024 / 1024],
    ['search.maxFileSize', defaults.searchMaxFileSize / 1024 / 1024],
  ];
  for (const [name, value] of counterparts) {
    it(`ftpWorkspace.${name} documents the default the code uses (${String(value)})`, () => {
      assert.equal(setting(name).default, value);
    });
  }

  it('gives the server settings (src/remote) the same defaults as package.json', () => {
    // vscodeProxy is VS Code's own setting (http.proxy), not one of ours.
    const serverSettings: Record<Exclude<keyof typeof DEFAULTS, 'vscodeProxy'>, string> = {
      mode: 'defaultMode',
      poolSize: 'poolSize',
      activeAddress: 'activeAddress',
      activePortRange: 'activePortRange',
      trustPasvAddress: 'trustPasvAddress',
      connectTimeout: 'connectTimeout',
      replyTimeout: 'replyTimeout',
      dataTimeout: 'dataTimeout',
      transferIdleTimeout: 'transferIdleTimeout',
      passiveInAdvance: 'passiveInAdvance',
      proxy: 'proxy',
    };
    for (const [key, name] of Object.entries(serverSettings)) {
      assert.equal(DEFAULTS[key as keyof typeof DEFAULTS], setting(name).default, `DEFAULTS.${key} vs ftpWorkspace.${name}`);
    }
  });

  it('caps the pool where the settings do', () => {
    assert.equal(setting('poolSize').maximum, defaults.poolMaxSize);
    assert.equal(setting('servers').items?.properties.poolSize.maximum, defaults.poolMaxSize);
    assert.equal(setting('search.connections').maximum, defaults.searchMaxConnections);
  });

  it('documents the default ports', () => {
    const port = setting('servers').items?.properties.port;
    assert.match(port?.description ?? '', new RegExp(`Default ${defaults.ftpPort}, or ${defaults.implicitFtpsPort} for implicit FTPS`));
    assert.equal(defaults.defaultPort('none'), defaults.ftpPort);
    assert.equal(defaults.defaultPort('explicit'), defaults.ftpPort);
    assert.equal(defaults.defaultPort(undefined), defaults.ftpPort);
    assert.equal(defaults.defaultPort('implicit'), defaults.implicitFtpsPort);
  });
});
