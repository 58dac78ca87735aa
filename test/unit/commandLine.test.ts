import * as assert from 'node:assert/strict';
import { USAGE, UsageError, commandUsage, parseCommandLine, type CliOptions, type CommandLine, type CommandName } from '../../src/commandLine';

const NO_OPTIONS: CliOptions = { trustPasvAddress: false, disableEpsv: false, disableEprt: false, implicitTls: false, insecure: false, recursive: false, verbose: false, json: false, names: [], include: [], exclude: [], regex: false, ignoreCase: false, word: false };
const URL = 'ftp://deploy@ftp.example.com/site';

/** The UsageError parseCommandLine throws for `argv`; fails the test if it accepts it. */
function refused(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(argv)}`);
}

describe('parseCommandLine', () => {
  describe('what it accepts', () => {
    const cases: [string[], CommandLine][] = [
      [['ls', URL], { command: 'ls', args: [URL], options: NO_OPTIONS }],
      [['get', URL], { command: 'get', args: [URL], options: NO_OPTIONS }],
      [['get', URL, 'out.html', '--mode', 'active'], { command: 'get', args: [URL, 'out.html'], options: { ...NO_OPTIONS, mode: 'active' } }],
      [['put', 'index.html', URL, '--mode=passive', '--json'], { command: 'put', args: ['index.html', URL], options: { ...NO_OPTIONS, mode: 'passive', json: true } }],
      [['rm', URL, '--recursive'], { command: 'rm', args: [URL], options: { ...NO_OPTIONS, recursive: true } }],
      [['mkdir', URL, '--mode', 'auto'], { command: 'mkdir', args: [URL], options: { ...NO_OPTIONS, mode: 'auto' } }],
      [['chmod', '640', URL], { command: 'chmod', args: ['640', URL], options: NO_OPTIONS }],
      [['get', URL, 'big.iso', '--resume'], { command: 'get', args: [URL, 'big.iso'], options: { ...NO_OPTIONS, resume: true } }],
      [['put', 'big.iso', URL, '--resume'], { command: 'put', args: ['big.iso', URL], options: { ...NO_OPTIONS, resume: true } }],
      [['chmod', 'rwxr-xr-x', URL, '--recursive', '--parallel', '4'], { command: 'chmod', args: ['rwxr-xr-x', URL], options: { ...NO_OPTIONS, recursive: true, parallel: 4 } }],
      [['diagnose', URL, '--verbose', '--json'], { command: 'diagnose', args: [URL], options: { ...NO_OPTIONS, verbose: true, json: true } }],
      // Options may come before the command, and between the arguments.
      [['--mode', 'active', '--verbose', 'get', URL, 'out'], { command: 'get', args: [URL, 'out'], options: { ...NO_OPTIONS, mode: 'active', verbose: true } }],
      [['put', '--insecure', 'a.txt', URL], { command: 'put', args: ['a.txt', URL], options: { ...NO_OPTIONS, insecure: true } }],
      // After "--" a file name may start with a dash.
      [['put', '--', '-odd name-', URL], { command: 'put', args: ['-odd name-', URL], options: NO_OPTIONS }],
      [['get', URL, '-'], { command: 'get', args: [URL, '-'], options: NO_OPTIONS }],
      [['find', URL, '--name', '*.php', '--name', '*.inc', '--exclude', 'cache', '--connections', '6', '--json'],
        { command: 'find', args: [URL], options: { ...NO_OPTIONS, names: ['*.php', '*.inc'], exclude: ['cache'], connections: 6, json: true } }],
      [['grep', 'TODO', URL, '--regex', '--ignore-case', '--word', '--include', '*.ts', '--exclude', 'dist', '--max-size', '1000', '--cache-dir', '/tmp/c'],
        { command: 'grep', args: ['TODO', URL], options: { ...NO_OPTIONS, regex: true, ignoreCase: true, word: true, include: ['*.ts'], exclude: ['dist'], maxSize: 1000, cacheDir: '/tmp/c' } }],
      // A pattern that starts with a dash comes after "--", as with grep.
      [['grep', URL, '--', '-x'], { command: 'grep', args: [URL, '-x'], options: NO_OPTIONS }],
    ];
    for (const [argv, expected] of cases) {
      it(argv.join(' '), () => assert.deepEqual(parseCommandLine(argv), expected));
    }

    it('takes every option the README lists, with its value', () => {
      const line = parseCommandLine(['ls', URL, '--mode', 'passive', '--active-address', '203.0.113.5', '--active-ports', '50000-50100',
        '--trust-pasv-address', '--disable-epsv', '--disable-eprt', '--encoding', 'gbk', '--implicit-tls', '--insecure', '--timeout', '7.5', '--verbose', '--json']);
      assert.deepEqual(line, {
        command: 'ls',
        args: [URL],
        options: {
          mode: 'passive', activeAddress: '203.0.113.5', activePortRange: [50000, 50100], trustPasvAddress: true, disableEpsv: true, disableEprt: true, encoding: 'gbk', implicitTls: true,
          insecure: true, timeoutMs: 7500, recursive: false, verbose: true, json: true, names: [], include: [], exclude: [], regex: false, ignoreCase: false, word: false,
        },
      });
    });

    it('takes the server\'s time zone as an offset, and refuses what is none', () => {
      const zone = (value: string) => {
        const line = parseCommandLine(['ls', URL, `--time-zone-offset=${value}`]);
        return line.command === 'ls' ? line.options.timeZoneOffsetMinutes : undefined;
      };
      assert.equal(zone('+02:00'), 120);
      assert.equal(zone('-05:30'), -330);
      assert.equal(zone('UTC+5:45'), 345);
      for (const bad of ['Europe/Berlin', '+15:00', '']) {
        assert.throws(() => parseCommandLine(['ls', URL, `--time-zone-offset=${bad}`]), UsageError, bad);
      }
    });

    it('takes an IPv6 active address and a single active port', () => {
      const line = parseCommandLine(['get', URL, '--active-address=2001:db8::7', '--active-ports', '50000']);
      assert.ok(line.command === 'get');
      assert.equal(line.options.activeAddress, '2001:db8::7');
      assert.deepEqual(line.options.activePortRange, [50000, 50000]);
    });

    it('takes a charset for file names, and auto as no charset at all', () => {
      for (const name of ['utf8', 'windows-1252', 'latin1', 'gbk', 'big5', 'shift_jis', 'ISO-8859-15']) {
        const line = parseCommandLine(['ls', URL, '--encoding', name]);
        assert.ok(line.command === 'ls');
        assert.equal(line.options.encoding, name);
      }
      const auto = parseCommandLine(['diagnose', URL, '--encoding=auto']);
      assert.ok(auto.command === 'diagnose');
      assert.equal(auto.options.encoding, undefined);
    });

    it('takes a SOCKS5 or HTTP proxy, its user but never its password', () => {
      const socks = parseCommandLine(['get', URL, '--proxy', 'socks5://alice@proxy.example.com:1080']);
      assert.ok(socks.command === 'get');
      assert.deepEqual(socks.options.proxy, { kind: 'socks5', host: 'proxy.example.com', port: 1080, user: 'alice', password: undefined });
      const http = parseCommandLine(['diagnose', URL, '--proxy=http://[2001:db8::1]:3128']);
      assert.ok(http.command === 'diagnose');
      assert.deepEqual(http.options.proxy, { kind: 'http', host: '2001:db8::1', port: 3128, user: undefined, password: undefined });
    });

    it('lets the last of a repeated option win', () => {
      const line = parseCommandLine(['get', URL, '--mode', 'active', '--mode', 'passive']);
      assert.ok(line.command === 'get');
      assert.equal(line.options.mode, 'passive');
    });

    for (const argv of [['help'], ['--help'], ['-h'], ['get', URL, '--help'], ['ls', '-h', '--mdoe']]) {
      it(`${argv.join(' ')} asks for help`, () => assert.deepEqual(parseCommandLine(argv), { command: 'help' }));
    }
  });

  describe('what it refuses, with the usage to print', () => {
    const cases: [string[], RegExp][] = [
      [['get', URL, 'out', '--mdoe', 'active'], /^get: unknown option --mdoe$/],
      [['ls', URL, '-v'], /^ls: unknown option -v$/],
      [['get', URL, '--mode', 'sideways'], /^get: --mode must be passive, active or auto, not "sideways"$/],
      [['get', URL, '--mode=PASSIVE'], /--mode must be passive, active or auto/],
      [['get', URL, '--mode'], /^get: Option '--mode <value>' argument missing/],
      [['get', URL, '--mode', '--json'], /^get: Option '--mode' argument is ambiguous/],
      [['ls', URL, '--json=yes'], /^ls: Option '--json' does not take an argument/],
      [['ls', URL, '--recursive'], /^ls: does not take --recursive$/],
      [['rm', URL, '--json'], /^rm: does not take --json$/],
      [['diagnose', URL, '--mode', 'active'], /^diagnose: does not take --mode$/],
      [['ls'], /^ls: missing argument \(<url>\)$/],
      [['put', 'a.txt'], /^put: missing argument \(<local-file> <url>\)$/],
      [['ls', URL, 'extra'], /^ls: unexpected argument "extra"$/],
      [['get', URL, 'out', 'more'], /^get: unexpected argument "more"$/],
      [['ls', URL, '--timeout', 'abc'], /^ls: --timeout must be a number of seconds above 0, not "abc"$/],
      [['ls', URL, '--timeout', '0'], /--timeout must be a number of seconds above 0/],
      [['ls', URL, '--timeout=-5'], /--timeout must be a number of seconds above 0/],
      [['ls', URL, '--timeout', '1e3'], /--timeout must be a number of seconds above 0/],
      [['ls', URL, '--timeout', ''], /--timeout must be a number of seconds above 0/],
      [['ls', URL, '--active-address', 'nat.example.com'], /^ls: --active-address must be an IPv4 or IPv6 address, not "nat.example.com"$/],
      [['ls', URL, '--active-address', '300.1.2.3'], /--active-address must be an IPv4 or IPv6 address/],
      [['ls', URL, '--active-ports', '50100-50000'], /^ls: --active-ports: Invalid port range "50100-50000"/],
      [['ls', URL, '--active-ports', '0-100'], /--active-ports: Invalid port range/],
      [['ls', URL, '--active-ports', '50000-70000'], /--active-ports: Invalid port range/],
      [['ls', URL, '--active-ports', 'many'], /--active-ports: Invalid port range/],
      [['ls', URL, '--active-ports', ''], /--active-ports must look like 50000-50100/],
      [['ls', URL, '--encoding', 'klingon'], /^ls: --encoding: "klingon" is not a known charset \(examples: utf8, windows-1252, latin1, gbk, big5, shift_jis/],
      [['get', URL, '--encoding', 'utf16le'], /^get: --encoding: "utf16le" does not write ASCII as ASCII/],
      [['put', 'a.txt', URL, '--encoding'], /^put: Option '--encoding <value>' argument missing/],
      [['ls', URL, '--proxy', 'socks5://alice:secret@proxy:1080'], /^ls: --proxy: put no password in the URL — set FTP_PROXY_PASSWORD/],
      [['ls', URL, '--proxy', 'socks4://proxy:1080'], /^ls: --proxy: Unsupported proxy type "socks4" \(SOCKS4 has no authentication/],
      [['ls', URL, '--proxy', 'proxy:1080'], /^ls: --proxy: Unsupported proxy type "proxy"/],
      [['ls', URL, '--proxy', 'http://proxy:3128/path'], /^ls: --proxy: The proxy URL "http:\/\/proxy:3128\/path" must be only scheme/],
      [['chmod', '648', URL], /^chmod: "648" is not a permission mode: Enter octal digits such as 644/],
      [['chmod', URL, '644'], /^chmod: "ftp:\/\/deploy@ftp.example.com\/site" is not a permission mode/],
      [['chmod', '644'], /^chmod: missing argument \(<mode> <url>\)$/],
      [['chmod', '644', URL, '--parallel', '0'], /^chmod: --parallel must be a whole number from 1 to 10, not "0"$/],
      [['chmod', '644', URL, '--parallel', '2.5'], /--parallel must be a whole number/],
      [['ls', URL, '--parallel', '2'], /^ls: does not take --parallel$/],
      [['get', URL, '--resume'], /^get: --resume needs a local file to go on from$/],
      [['get', URL, '-', '--resume'], /^get: --resume needs a local file to go on from$/],
      [['rm', URL, '--resume'], /^rm: does not take --resume$/],
      [['grep', URL], /^grep: missing argument \(<pattern> <url>\)$/],
      [['grep', 'x', URL, '--name', '*.js'], /^grep: does not take --name$/],
      [['find', URL, '--regex'], /^find: does not take --regex$/],
      [['find', URL, '--connections', '0'], /^find: --connections must be a whole number from 1 to 16, not "0"$/],
      [['grep', 'x', URL, '--max-size', '5MB'], /^grep: --max-size must be a number of bytes, not "5MB"$/],
    ];
    for (const [argv, message] of cases) {
      it(`${argv.join(' ')} → ${message.source}`, () => {
        const e = refused(argv);
        assert.match(e.message, message);
        const command = argv.find((a) => !a.startsWith('-')) as CommandName;
        assert.equal(e.usage, commandUsage(command));
      });
    }

    it('refuses an unknown or missing command with the whole usage', () => {
      for (const [argv, message] of [[['frobnicate', URL], 'unknown command "frobnicate"'], [[], 'no command given'], [['--verbose'], 'no command given']] as const) {
        const e = refused([...argv]);
        assert.equal(e.message, message);
        assert.equal(e.usage, USAGE);
      }
    });
  });

  describe('commandUsage', () => {
    it('shows the command\'s arguments and exactly the options it takes', () => {
      assert.equal(commandUsage('rm'), 'Usage: ftp-workspace rm <url> [options]\n'
        + 'Options for rm: --mode passive|active|auto, --active-address A, --active-ports LOW-HIGH, --trust-pasv-address, --disable-epsv, --disable-eprt, --encoding NAME, --time-zone-offset OFFSET, --proxy URL, --implicit-tls, --insecure, --timeout SECONDS, --verbose, --recursive\n'
        + 'Run "ftp-workspace help" for what each does.\n');
      assert.match(commandUsage('put'), /^Usage: ftp-workspace put <local-file> <url> \[options\]\n/);
      assert.doesNotMatch(commandUsage('diagnose'), /--mode/);
    });

    it('lists in USAGE every option some command takes', () => {
      for (const command of ['ls', 'get', 'put', 'rm', 'mkdir', 'chmod', 'diagnose', 'find', 'grep'] as const) {
        for (const option of commandUsage(command).match(/--[a-z-]+/g) ?? []) assert.ok(USAGE.includes(`  ${option} `), option);
      }
    });
  });
});
