// Finding the tokenguard executable. Kept free of the `vscode` module so the
// order of the places looked at is easy to read and to reason about, and so
// that Windows lookups can be tested on any system (paths follow the
// `platform` given, and the file system is reached through a `Probe`).

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
  /** True when only the bundled server was considered (Restricted Mode). */
  restricted: boolean;
}

/** What the lookup needs from the file system and from running a program. */
export interface Probe {
  /** Whether `file` is a regular file, something else, or nothing. */
  kind(file: string): Promise<'file' | 'other' | 'missing'>;
  /** Whether the current user may execute `file` (only asked on POSIX systems). */
  executable(file: string): Promise<boolean>;
  /** Runs `file --version`; resolves to its first line, or rejects with why it failed. */
  version(file: string): Promise<string>;
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
  /**
   * False in Restricted Mode (a workspace the user does not trust): then only
   * the server bundled with the extension is used, never a program that the
   * environment, a setting or PATH names.
   */
  trusted?: boolean;
  platform?: NodeJS.Platform;
  /** The home folder, for `~` (default: the current user's). */
  home?: string;
  /** The file system and process access (default: the real ones). */
  probe?: Probe;
}

const VERSION_TIMEOUT_MS = 10_000;

/** Extensions of files that can be started directly (without a shell) on Windows. */
const WINDOWS_RUNNABLE = ['.com', '.exe'];
/** Extensions of Windows scripts, which need `cmd.exe` to run. */
const WINDOWS_SCRIPTS = ['.bat', '.cmd'];

/** Path functions of the platform the paths belong to, not of the system running this. */
function pathsOf(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** `~` and `~/...` (or `~\...` on Windows) stand for the home folder. */
export function expandHome(
  value: string,
  home: string = os.homedir(),
  platform: NodeJS.Platform = process.platform,
): string {
  if (value === '~') {
    return home;
  }
  if (value.startsWith('~/') || (platform === 'win32' && value.startsWith('~\\'))) {
    return pathsOf(platform).join(home, value.slice(2));
  }
  return value;
}

/**
 * An environment variable. Windows treats their names case-insensitively
 * (`Path` is common); a copied environment object does not, so look for any
 * spelling there.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string, platform: NodeJS.Platform): string | undefined {
  if (env[name] !== undefined || platform !== 'win32') {
    return env[name];
  }
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/** The folders of PATH, in order; on Windows without the quotes an entry may carry. */
export function pathFolders(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const value = envValue(env, 'PATH', platform) ?? '';
  const delimiter = platform === 'win32' ? ';' : ':';
  return value
    .split(delimiter)
    .map((dir) => (platform === 'win32' ? dir.trim().replace(/^"(.*)"$/, '$1') : dir))
    .filter(Boolean);
}

/**
 * The file names a command name stands for. On POSIX systems just the name.
 * On Windows, like a shell, a name without a runnable extension gets each
 * runnable extension of PATHEXT appended (`tokenguard` -> `tokenguard.exe`).
 * Only `.com` and `.exe` count: VS Code starts the server without a shell,
 * and Windows refuses to start `.bat` and `.cmd` scripts without one (a name
 * that ends in one is kept as written, and refused with that reason).
 */
export function executableNames(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform !== 'win32') {
    return [name];
  }
  const ext = path.win32.extname(name).toLowerCase();
  if (WINDOWS_RUNNABLE.includes(ext) || WINDOWS_SCRIPTS.includes(ext)) {
    return [name];
  }
  const fromPathext = (envValue(env, 'PATHEXT', platform) ?? '')
    .split(';')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => WINDOWS_RUNNABLE.includes(e));
  const exts = fromPathext.length ? [...new Set(fromPathext)] : WINDOWS_RUNNABLE;
  return exts.map((e) => name + e);
}

/** Why `file` cannot be started without a shell, or undefined. */
function needsShell(file: string, platform: NodeJS.Platform): string | undefined {
  if (platform === 'win32' && WINDOWS_SCRIPTS.includes(path.win32.extname(file).toLowerCase())) {
    return `${file} is a batch script, which VS Code cannot start without a shell; name tokenguard.exe itself`;
  }
  return undefined;
}

function bundledName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'tokenguard.exe' : 'tokenguard';
}

/** The real file system and `execFile`. */
export const realProbe: Probe = {
  async kind(file) {
    try {
      return (await fs.stat(file)).isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  },
  async executable(file) {
    try {
      await fs.access(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  version(file) {
    return new Promise((resolve, reject) => {
      execFile(file, ['--version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
        if (error) {
          reject(new Error(`${file} --version failed: ${error.message.split('\n')[0]}`));
          return;
        }
        resolve(stdout.split(/\r?\n/)[0].trim());
      });
    });
  },
};

class Lookup {
  readonly attempts: Attempt[] = [];
  readonly paths: path.PlatformPath;

  constructor(
    readonly platform: NodeJS.Platform,
    readonly probe: Probe,
  ) {
    this.paths = pathsOf(platform);
  }

  note(place: string, outcome: string): void {
    this.attempts.push({ place, outcome });
  }

  /** Why `file` is not an executable file, or undefined when it is one. */
  async problem(file: string): Promise<string | undefined> {
    const kind = await this.probe.kind(file);
    if (kind === 'missing') {
      return `${file} does not exist`;
    }
    if (kind === 'other') {
      return `${file} is not a file`;
    }
    if (this.platform !== 'win32' && !(await this.probe.executable(file))) {
      return `${file} is not executable`;
    }
    return needsShell(file, this.platform);
  }

  /** Tries one file; on success returns what was found, else records why not. */
  async tryFile(file: string, place: string): Promise<Found | undefined> {
    const problem = await this.problem(file);
    if (problem) {
      this.note(place, problem);
      return undefined;
    }
    let version: string;
    try {
      version = await this.probe.version(file);
    } catch (error) {
      this.note(place, (error as Error).message);
      return undefined;
    }
    if (!version.startsWith('tokenguard')) {
      this.note(place, `${file} --version printed ${JSON.stringify(version)}, not tokenguard's version`);
      return undefined;
    }
    this.note(place, `${file} (${version})`);
    return { command: file, place, version };
  }

  /**
   * Tries a path the user wrote (a setting or TOKENGUARD_PATH). On Windows a
   * path without a runnable extension stands for the same path with `.exe`
   * (or another runnable PATHEXT extension), as in a shell.
   */
  async tryPath(file: string, place: string, env: NodeJS.ProcessEnv): Promise<Found | undefined> {
    if (this.paths.isAbsolute(file)) {
      file = this.paths.normalize(file); // on Windows: D:/x becomes D:\x
    }
    let candidates = executableNames(file, env, this.platform);
    if (candidates.length > 1) {
      const existing = [];
      for (const candidate of candidates) {
        if ((await this.probe.kind(candidate)) !== 'missing') {
          existing.push(candidate);
        }
      }
      if (!existing.length) {
        this.note(place, `neither ${candidates.join(' nor ')} exists`);
        return undefined;
      }
      candidates = existing;
    }
    for (const candidate of candidates) {
      const found = await this.tryFile(candidate, place);
      if (found) {
        return found;
      }
    }
    return undefined;
  }

  /** The first executable file that `name` stands for in the folders of PATH. */
  async searchPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
    const names = executableNames(name, env, this.platform);
    for (const dir of pathFolders(env, this.platform)) {
      for (const candidate of names) {
        const file = this.paths.join(dir, candidate);
        if (!(await this.problem(file))) {
          return file;
        }
      }
    }
    return undefined;
  }
}

/**
 * Looks for the server in this order: the TOKENGUARD_PATH environment
 * variable, the `tokenguard.path` setting, `bin/tokenguard` inside the
 * extension, `tokenguard` on PATH. The first one that runs wins; every place
 * looked at is recorded, so that a failure can name them all.
 *
 * In Restricted Mode (`trusted: false`) only the bundled server is tried: a
 * repository must never be able to make the extension run one of its files,
 * whether through a workspace setting or through an environment that a
 * per-directory tool (direnv and the like) derived from the repository.
 */
export async function resolveServer(input: ResolveInput): Promise<Resolution> {
  const platform = input.platform ?? process.platform;
  const home = input.home ?? os.homedir();
  const lookup = new Lookup(platform, input.probe ?? realProbe);
  const paths = lookup.paths;
  const name = bundledName(platform);
  const bundled = paths.join(input.extensionPath, 'bin', name);
  const bundledPlace = 'bundled with the extension';

  if (input.trusted === false) {
    const skipped = 'not used in Restricted Mode';
    lookup.note('TOKENGUARD_PATH', envValue(input.env, 'TOKENGUARD_PATH', platform)?.trim() ? skipped : 'not set');
    lookup.note('setting tokenguard.path', input.setting?.trim() ? skipped : 'not set');
    const found = await lookup.tryFile(bundled, bundledPlace);
    lookup.note('PATH', skipped);
    return { found, attempts: lookup.attempts, restricted: true };
  }

  const fromEnv = envValue(input.env, 'TOKENGUARD_PATH', platform)?.trim();
  if (fromEnv) {
    const found = await lookup.tryPath(expandHome(fromEnv, home, platform), 'TOKENGUARD_PATH', input.env);
    if (found) {
      return { found, attempts: lookup.attempts, restricted: false };
    }
  } else {
    lookup.note('TOKENGUARD_PATH', 'not set');
  }

  const setting = input.setting?.trim();
  const settingPlace = 'setting tokenguard.path';
  if (setting) {
    const file = expandHome(setting, home, platform);
    const hasSeparator = file.includes('/') || (platform === 'win32' && file.includes('\\'));
    let found: Found | undefined;
    if (paths.isAbsolute(file)) {
      found = await lookup.tryPath(file, settingPlace, input.env);
    } else if (hasSeparator) {
      if (input.workspaceFolder) {
        found = await lookup.tryPath(paths.resolve(input.workspaceFolder, file), settingPlace, input.env);
      } else {
        lookup.note(settingPlace, `${setting} is a relative path and no workspace folder is open to resolve it from`);
      }
    } else if (needsShell(file, platform)) {
      lookup.note(settingPlace, needsShell(file, platform)!);
    } else {
      // A bare command name: look it up like a shell would.
      const onPath = await lookup.searchPath(file, input.env);
      if (onPath) {
        found = await lookup.tryFile(onPath, settingPlace);
      } else {
        const names = executableNames(file, input.env, platform).join(' or ');
        lookup.note(settingPlace, `no ${names} on PATH`);
      }
    }
    if (found) {
      return { found, attempts: lookup.attempts, restricted: false };
    }
  } else {
    lookup.note(settingPlace, 'not set');
  }

  const found = await lookup.tryFile(bundled, bundledPlace);
  if (found) {
    return { found, attempts: lookup.attempts, restricted: false };
  }

  const onPath = await lookup.searchPath('tokenguard', input.env);
  if (onPath) {
    const found = await lookup.tryFile(onPath, 'PATH');
    return { found, attempts: lookup.attempts, restricted: false };
  }
  const dirs = pathFolders(input.env, platform);
  lookup.note(
    'PATH',
    dirs.length ? `no ${name} in ${dirs.join(platform === 'win32' ? ';' : ':')}` : 'PATH is empty',
  );
  return { attempts: lookup.attempts, restricted: false };
}
