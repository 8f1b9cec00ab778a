// Unit tests of the server lookup (`npm test`): no VS Code needed. Fake
// executables are small shell scripts that print a version like tokenguard's.

import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { expandHome, resolveServer } from './server';

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
});
