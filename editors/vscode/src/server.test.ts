// Unit tests of the server lookup (`npm test`): no VS Code needed. On POSIX
// systems the fake executables are small shell scripts that print a version
// like tokenguard's; the Windows lookups run against a fake file system.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { envValue, executableNames, expandHome, pathFolders, Probe, resolveServer } from './server';

let root = '';

async function fake(file: string, version = 'tokenguard 9.9.9', mode = 0o755): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `#!/bin/sh\necho '${version}'\n`, { mode });
  await fs.chmod(file, mode);
  return file;
}

const posix = process.platform !== 'win32';

describe('resolveServer', { skip: !posix && 'shell-script fakes need a POSIX system' }, () => {
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokenguard-resolve-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const input = (over: Partial<Parameters<typeof resolveServer>[0]> = {}) => ({
    env: { PATH: '' } as NodeJS.ProcessEnv,
    setting: '',
    extensionPath: path.join(root, 'no-extension'),
    workspaceFolder: undefined,
    ...over,
  });

  test('TOKENGUARD_PATH comes first', async () => {
    const fromEnv = await fake(path.join(root, 'env', 'tokenguard'));
    const fromSetting = await fake(path.join(root, 'setting', 'tokenguard'));
    const result = await resolveServer(input({ env: { TOKENGUARD_PATH: fromEnv, PATH: '' }, setting: fromSetting }));
    assert.equal(result.found?.command, fromEnv);
    assert.equal(result.found?.place, 'TOKENGUARD_PATH');
    assert.equal(result.found?.version, 'tokenguard 9.9.9');
  });

  test('a broken TOKENGUARD_PATH falls through to the setting', async () => {
    const fromSetting = await fake(path.join(root, 'setting2', 'tokenguard'));
    const result = await resolveServer(
      input({ env: { TOKENGUARD_PATH: path.join(root, 'missing'), PATH: '' }, setting: fromSetting }),
    );
    assert.equal(result.found?.command, fromSetting);
    assert.match(result.attempts[0].outcome, /does not exist/);
  });

  test('the setting expands ~ and resolves relative paths from the workspace folder', async () => {
    const home = os.homedir();
    assert.equal(expandHome('~', home), home);
    assert.equal(expandHome('~/bin/tokenguard', home), path.join(home, 'bin', 'tokenguard'));
    assert.equal(expandHome('a/~/b', home), 'a/~/b');
    const inWorkspace = await fake(path.join(root, 'ws', 'tools', 'tokenguard'));
    const result = await resolveServer(input({ setting: './tools/tokenguard', workspaceFolder: path.join(root, 'ws') }));
    assert.equal(result.found?.command, inWorkspace);
  });

  test('a bare name in the setting is looked up on PATH', async () => {
    const custom = await fake(path.join(root, 'pathdir', 'tokenguard-nightly'));
    const result = await resolveServer(input({ env: { PATH: path.dirname(custom) }, setting: 'tokenguard-nightly' }));
    assert.equal(result.found?.command, custom);
  });

  test('the bundled binary comes before PATH', async () => {
    const extension = path.join(root, 'extension');
    const bundled = await fake(path.join(extension, 'bin', 'tokenguard'));
    const onPath = await fake(path.join(root, 'onpath', 'tokenguard'));
    const result = await resolveServer(input({ env: { PATH: path.dirname(onPath) }, extensionPath: extension }));
    assert.equal(result.found?.command, bundled);
    assert.equal(result.found?.place, 'bundled with the extension');
  });

  test('PATH is searched in order and skips files that are not executable', async () => {
    const first = path.join(root, 'p1');
    await fake(path.join(first, 'tokenguard'), 'tokenguard 1.0.0', 0o644);
    const second = await fake(path.join(root, 'p2', 'tokenguard'), 'tokenguard 2.0.0');
    const result = await resolveServer(input({ env: { PATH: `${first}:${path.dirname(second)}` } }));
    assert.equal(result.found?.command, second);
    assert.equal(result.found?.version, 'tokenguard 2.0.0');
  });

  test('a program that is not tokenguard is refused', async () => {
    const impostor = await fake(path.join(root, 'impostor', 'tokenguard'), 'something else 1.0');
    const result = await resolveServer(input({ env: { TOKENGUARD_PATH: impostor, PATH: '' } }));
    assert.equal(result.found, undefined);
    assert.match(result.attempts[0].outcome, /not tokenguard's version/);
  });

  test('when nothing works, every place looked at is named', async () => {
    const result = await resolveServer(
      input({
        env: { TOKENGUARD_PATH: path.join(root, 'nope', 'tokenguard'), PATH: path.join(root, 'empty') },
        setting: '~/nowhere/tokenguard',
      }),
    );
    assert.equal(result.found, undefined);
    assert.deepEqual(
      result.attempts.map((a) => a.place),
      ['TOKENGUARD_PATH', 'setting tokenguard.path', 'bundled with the extension', 'PATH'],
    );
    assert.match(result.attempts[1].outcome, new RegExp(`${os.homedir()}/nowhere/tokenguard does not exist`));
    assert.match(result.attempts[3].outcome, /no tokenguard in /);
  });

  test('a relative setting without a workspace folder is refused, not taken from the current folder', async () => {
    const result = await resolveServer(input({ setting: './tools/tokenguard' }));
    assert.equal(result.found, undefined);
    assert.match(result.attempts[1].outcome, /relative path and no workspace folder is open/);
  });

  describe('in Restricted Mode', () => {
    // A script that leaves a marker file when anything runs it, and would
    // otherwise pass for tokenguard.
    async function trap(file: string, marker: string): Promise<string> {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `#!/bin/sh\ntouch '${marker}'\necho 'tokenguard 6.6.6'\n`, { mode: 0o755 });
      return file;
    }

    test('only the bundled server runs: not TOKENGUARD_PATH, the setting or PATH', async () => {
      const ws = path.join(root, 'untrusted');
      const marker = path.join(root, 'untrusted-marker');
      await trap(path.join(ws, 'evil.sh'), marker);
      const envTrap = await trap(path.join(ws, 'env', 'tokenguard'), marker);
      const pathTrap = await trap(path.join(ws, 'path', 'tokenguard'), marker);
      const extension = path.join(root, 'extension-r');
      const bundled = await fake(path.join(extension, 'bin', 'tokenguard'));
      const result = await resolveServer(
        input({
          env: { TOKENGUARD_PATH: envTrap, PATH: path.dirname(pathTrap) },
          setting: './evil.sh',
          workspaceFolder: ws,
          extensionPath: extension,
          trusted: false,
        }),
      );
      assert.equal(result.restricted, true);
      assert.equal(result.found?.command, bundled);
      assert.deepEqual(
        result.attempts.map((a) => `${a.place}: ${a.outcome}`),
        [
          'TOKENGUARD_PATH: not used in Restricted Mode',
          'setting tokenguard.path: not used in Restricted Mode',
          `bundled with the extension: ${bundled} (tokenguard 9.9.9)`,
          'PATH: not used in Restricted Mode',
        ],
      );
      await assert.rejects(fs.stat(marker), /ENOENT/);
      // The control: trusted, the same input runs the environment's program.
      const trusted = await resolveServer(
        input({ env: { TOKENGUARD_PATH: envTrap, PATH: '' }, extensionPath: extension, trusted: true }),
      );
      assert.equal(trusted.found?.command, envTrap);
      await fs.stat(marker);
    });

    test('without a bundled server nothing runs, and the result says why', async () => {
      const onPath = await fake(path.join(root, 'r-onpath', 'tokenguard'));
      const result = await resolveServer(
        input({ env: { PATH: path.dirname(onPath) }, setting: onPath, trusted: false }),
      );
      assert.equal(result.found, undefined);
      assert.equal(result.restricted, true);
      assert.match(result.attempts[2].outcome, /does not exist/);
    });
  });
});

/** A fake Windows file system: file -> what `--version` prints (or an Error). */
function windowsProbe(files: Record<string, string | Error>): Probe & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    async kind(file) {
      if (file in files) {
        return 'file';
      }
      return Object.keys(files).some((f) => f.startsWith(file + '\\')) ? 'other' : 'missing';
    },
    async executable() {
      return false; // Windows has no executable bit: the lookup must not ask.
    },
    async version(file) {
      ran.push(file);
      const v = files[file];
      if (v instanceof Error) {
        throw v;
      }
      return v;
    },
  };
}

describe('resolveServer on Windows', () => {
  const win = (files: Record<string, string | Error>, over: Partial<Parameters<typeof resolveServer>[0]> = {}) => {
    const probe = windowsProbe(files);
    return {
      probe,
      input: {
        env: {} as NodeJS.ProcessEnv,
        setting: '',
        extensionPath: 'C:\\Users\\me\\.vscode\\extensions\\tokenguard.tokenguard-0.1.0',
        workspaceFolder: 'C:\\repo',
        platform: 'win32' as NodeJS.Platform,
        home: 'C:\\Users\\me',
        probe,
        ...over,
      },
    };
  };
  const V = 'tokenguard 0.1.0';

  test('environment names are case-insensitive and PATH entries may be quoted', () => {
    const env = { Path: 'C:\\a;"C:\\Program Files\\tg";;C:\\b', pathext: '.COM;.EXE' };
    assert.equal(envValue(env, 'PATH', 'win32'), env.Path);
    assert.equal(envValue(env, 'PATHEXT', 'win32'), '.COM;.EXE');
    assert.equal(envValue(env, 'PATH', 'linux'), undefined);
    assert.deepEqual(pathFolders(env, 'win32'), ['C:\\a', 'C:\\Program Files\\tg', 'C:\\b']);
    assert.deepEqual(pathFolders({ PATH: '/a::/b' }, 'linux'), ['/a', '/b']);
  });

  test('a name without a runnable extension stands for the PATHEXT ones that need no shell', () => {
    assert.deepEqual(executableNames('tokenguard', { PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS' }, 'win32'), [
      'tokenguard.com',
      'tokenguard.exe',
    ]);
    assert.deepEqual(executableNames('tokenguard', { PATHEXT: '.EXE' }, 'win32'), ['tokenguard.exe']);
    assert.deepEqual(executableNames('tokenguard', {}, 'win32'), ['tokenguard.com', 'tokenguard.exe']);
    assert.deepEqual(executableNames('tokenguard.EXE', {}, 'win32'), ['tokenguard.EXE']);
    assert.deepEqual(executableNames('tokenguard.cmd', {}, 'win32'), ['tokenguard.cmd']);
    assert.deepEqual(executableNames('tokenguard', {}, 'linux'), ['tokenguard']);
  });

  test('a bare tokenguard.path is looked up on Path with .exe', async () => {
    const { input, probe } = win(
      { 'C:\\tools\\tokenguard.exe': V },
      { env: { Path: 'C:\\Windows;C:\\tools', PATHEXT: '.COM;.EXE;.BAT;.CMD' }, setting: 'tokenguard' },
    );
    const result = await resolveServer(input);
    assert.equal(result.found?.command, 'C:\\tools\\tokenguard.exe');
    assert.equal(result.found?.place, 'setting tokenguard.path');
    assert.deepEqual(probe.ran, ['C:\\tools\\tokenguard.exe']);
  });

  test('a .cmd wrapper on PATH is passed over for the .exe further on', async () => {
    const { input } = win(
      { 'C:\\shims\\tokenguard.cmd': V, 'C:\\cargo\\bin\\tokenguard.exe': V },
      { env: { PATH: 'C:\\shims;C:\\cargo\\bin', PATHEXT: '.CMD;.EXE' } },
    );
    const result = await resolveServer(input);
    assert.equal(result.found?.command, 'C:\\cargo\\bin\\tokenguard.exe');
    assert.equal(result.found?.place, 'PATH');
  });

  test('a setting naming a .cmd script is refused with the reason', async () => {
    const { input } = win({ 'C:\\shims\\tokenguard.cmd': V }, { env: { PATH: 'C:\\shims' }, setting: 'tokenguard.cmd' });
    const result = await resolveServer(input);
    assert.equal(result.found, undefined);
    assert.match(result.attempts[1].outcome, /batch script, which VS Code cannot start without a shell/);
  });

  test('absolute, relative and ~ paths follow Windows rules and get .exe', async () => {
    const files = {
      'D:\\bin\\tokenguard.exe': V,
      'C:\\repo\\tools\\tokenguard.exe': V,
      'C:\\Users\\me\\bin\\tokenguard.exe': V,
    };
    for (const [setting, expected] of [
      ['D:\\bin\\tokenguard', 'D:\\bin\\tokenguard.exe'],
      ['D:/bin/tokenguard.exe', 'D:\\bin\\tokenguard.exe'],
      ['.\\tools\\tokenguard', 'C:\\repo\\tools\\tokenguard.exe'],
      ['tools/tokenguard', 'C:\\repo\\tools\\tokenguard.exe'],
      ['~\\bin\\tokenguard', 'C:\\Users\\me\\bin\\tokenguard.exe'],
    ]) {
      const { input } = win(files, { setting });
      const result = await resolveServer(input);
      assert.equal(result.found?.command, expected, `tokenguard.path = ${setting}`);
    }
    const { input } = win(files, { setting: 'E:\\nowhere\\tokenguard' });
    const missing = await resolveServer(input);
    assert.equal(
      missing.attempts[1].outcome,
      'neither E:\\nowhere\\tokenguard.com nor E:\\nowhere\\tokenguard.exe exists',
    );
  });

  test('the bundled server is bin\\tokenguard.exe, which needs no executable bit', async () => {
    const { input } = win({ 'C:\\Users\\me\\.vscode\\extensions\\tokenguard.tokenguard-0.1.0\\bin\\tokenguard.exe': V });
    const result = await resolveServer({ ...input, env: { TOKENGUARD_PATH: '' } });
    assert.equal(result.found?.place, 'bundled with the extension');
    assert.equal(result.found?.command, `${input.extensionPath}\\bin\\tokenguard.exe`);
  });

  test('TOKENGUARD_PATH under another spelling counts, and gets .exe', async () => {
    const { input } = win({ 'C:\\dev\\tokenguard.exe': V }, { env: { TokenGuard_Path: 'C:\\dev\\tokenguard' } });
    const result = await resolveServer(input);
    assert.equal(result.found?.command, 'C:\\dev\\tokenguard.exe');
    assert.equal(result.found?.place, 'TOKENGUARD_PATH');
  });

  test('nothing found: the PATH entry names tokenguard.exe and the folders', async () => {
    const { input } = win({}, { env: { Path: 'C:\\a;C:\\b' } });
    const result = await resolveServer(input);
    assert.equal(result.found, undefined);
    assert.equal(result.attempts.at(-1)?.outcome, 'no tokenguard.exe in C:\\a;C:\\b');
  });

  test('Restricted Mode on Windows runs only bin\\tokenguard.exe', async () => {
    const { input, probe } = win(
      { 'C:\\repo\\evil.exe': V, 'C:\\tools\\tokenguard.exe': V },
      { env: { Path: 'C:\\tools' }, setting: '.\\evil.exe', trusted: false },
    );
    const result = await resolveServer(input);
    assert.equal(result.found, undefined);
    assert.deepEqual(probe.ran, []);
  });
});
