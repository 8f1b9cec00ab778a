// Finding the tokenguard executable. Kept free of the `vscode` module so the
// order of the places looked at is easy to read and to reason about.

import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where the executable was looked for, and what was found there. */
export interface Attempt {
  /** A short name of the place: `TOKENGUARD_PATH`, `setting tokenguard.path`, ... */
  place: string;
  /** What happened there, for the log and the error message. */
  outcome: string;
}

export interface Found {
  command: string;
  place: string;
  /** The first line `tokenguard --version` printed. */
  version: string;
}

export interface Resolution {
  found?: Found;
  attempts: Attempt[];
}

export interface ResolveInput {
  /** The extension host's environment (TOKENGUARD_PATH, PATH). */
  env: NodeJS.ProcessEnv;
  /** The `tokenguard.path` setting, as written by the user. */
  setting: string | undefined;
  /** The extension's own folder, which may carry `bin/tokenguard`. */
  extensionPath: string;
  /** The first workspace folder, for relative `tokenguard.path` values. */
  workspaceFolder: string | undefined;
  platform?: NodeJS.Platform;
}

const VERSION_TIMEOUT_MS = 10_000;

/** `~` and `~/...` (or `~\...`) stand for the home folder. */
export function expandHome(value: string, home: string = os.homedir()): string {
  if (value === '~') {
    return home;
  }
  if (value.startsWith('~/') || value.startsWith('~\\')) {
    return path.join(home, value.slice(2));
  }
  return value;
}

function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'tokenguard.exe' : 'tokenguard';
}

/** Checks that `file` is an executable file; returns why not, or undefined. */
async function notExecutable(file: string, platform: NodeJS.Platform): Promise<string | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return `${file} does not exist`;
  }
  if (!stat.isFile()) {
    return `${file} is not a file`;
  }
  if (platform !== 'win32') {
    try {
      await fs.access(file, fsConstants.X_OK);
    } catch {
      return `${file} is not executable`;
    }
  }
  return undefined;
}

/** Runs `file --version`; resolves to its first line, or rejects with why it failed. */
function versionOf(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ['--version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
      if (error) {
        reject(new Error(`${file} --version failed: ${error.message.split('\n')[0]}`));
        return;
      }
      const line = stdout.split(/\r?\n/)[0].trim();
      if (!line.startsWith('tokenguard')) {
        reject(new Error(`${file} --version printed ${JSON.stringify(line)}, not tokenguard's version`));
        return;
      }
      resolve(line);
    });
  });
}

/** Tries one file; on success returns what was found, else records why not. */
async function tryFile(
  file: string,
  place: string,
  platform: NodeJS.Platform,
  attempts: Attempt[],
): Promise<Found | undefined> {
  const problem = await notExecutable(file, platform);
  if (problem) {
    attempts.push({ place, outcome: problem });
    return undefined;
  }
  try {
    const version = await versionOf(file);
    attempts.push({ place, outcome: `${file} (${version})` });
    return { command: file, place, version };
  } catch (error) {
    attempts.push({ place, outcome: (error as Error).message });
    return undefined;
  }
}

/** The first executable `name` in the folders of PATH. */
async function searchPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): Promise<string | undefined> {
  const value = env.PATH ?? env.Path ?? '';
  const delimiter = platform === 'win32' ? ';' : ':';
  for (const dir of value.split(delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, name);
    if (!(await notExecutable(candidate, platform))) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * Looks for the server in this order: the TOKENGUARD_PATH environment
 * variable, the `tokenguard.path` setting, `bin/tokenguard` inside the
 * extension, `tokenguard` on PATH. The first one that runs wins; every place
 * looked at is recorded, so that a failure can name them all.
 */
export async function resolveServer(input: ResolveInput): Promise<Resolution> {
  const platform = input.platform ?? process.platform;
  const attempts: Attempt[] = [];
  const name = executableName(platform);

  const fromEnv = input.env.TOKENGUARD_PATH?.trim();
  if (fromEnv) {
    const found = await tryFile(expandHome(fromEnv), 'TOKENGUARD_PATH', platform, attempts);
    if (found) {
      return { found, attempts };
    }
  } else {
    attempts.push({ place: 'TOKENGUARD_PATH', outcome: 'not set' });
  }

  const setting = input.setting?.trim();
  const settingPlace = 'setting tokenguard.path';
  if (setting) {
    let file: string | undefined = expandHome(setting);
    if (!path.isAbsolute(file)) {
      if (file.includes('/') || file.includes('\\')) {
        file = input.workspaceFolder ? path.resolve(input.workspaceFolder, file) : path.resolve(file);
      } else {
        // A bare command name: look it up like a shell would.
        file = await searchPath(file, input.env, platform);
        if (!file) {
          attempts.push({ place: settingPlace, outcome: `no ${setting} on PATH` });
        }
      }
    }
    if (file) {
      const found = await tryFile(file, settingPlace, platform, attempts);
      if (found) {
        return { found, attempts };
      }
    }
  } else {
    attempts.push({ place: settingPlace, outcome: 'not set' });
  }

  const bundled = path.join(input.extensionPath, 'bin', name);
  const found = await tryFile(bundled, 'bundled with the extension', platform, attempts);
  if (found) {
    return { found, attempts };
  }

  const onPath = await searchPath(name, input.env, platform);
  if (onPath) {
    const found = await tryFile(onPath, 'PATH', platform, attempts);
    if (found) {
      return { found, attempts };
    }
  } else {
    const dirs = (input.env.PATH ?? input.env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
    attempts.push({
      place: 'PATH',
      outcome: dirs.length ? `no ${name} in ${dirs.join(platform === 'win32' ? ';' : ':')}` : 'PATH is empty',
    });
  }
  return { attempts };
}
