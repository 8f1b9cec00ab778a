// The tokenguard extension: starts `tokenguard server` and connects it to
// YAML and Helm documents through the language client.

import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

import { resolveServer } from './server';

const SECTION = 'tokenguard';
/** Settings whose change needs a new server process, not just a new configuration. */
const RESTART_SETTINGS = ['tokenguard.path', 'tokenguard.logLevel'];

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let extensionPath = '';
/** Starts and stops run one after the other, never interleaved. */
let lifecycle: Promise<void> = Promise.resolve();
/**
 * Set, synchronously, when a settings change will replace the server: the
 * client must then not send that change to the server being stopped (the
 * notification would race with the shutdown and fail loudly).
 */
let restartPending = false;

/** The settings the server reads: the same keys as its `tokenguard` section. */
function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  return withTrust({
    enable: config.get<boolean>('enable', true),
    severity: config.get<string>('severity', 'warning'),
    syntaxErrors: config.get<boolean>('syntaxErrors', true),
    exclude: config.get<string[]>('exclude', []) ?? [],
    maxFileSize: config.get<number>('maxFileSize', 32 * 1024 * 1024),
    inlayHints: { enable: config.get<boolean>('inlayHints.enable', true) },
    codeLens: { enable: config.get<boolean>('codeLens.enable', true) },
    helm: {
      render: config.get<boolean>('helm.render', true),
      path: config.get<string>('helm.path', '') || undefined,
    },
  });
}

/**
 * The `tokenguard` section as the server may see it: in an untrusted
 * workspace the server never renders charts (rendering runs `helm`, a
 * program, on the workspace's charts), whatever the settings say.
 */
function withTrust(section: unknown): Record<string, unknown> {
  const value = (section && typeof section === 'object' ? section : {}) as Record<string, unknown>;
  if (vscode.workspace.isTrusted) {
    return value;
  }
  const helm = (value.helm && typeof value.helm === 'object' ? value.helm : {}) as Record<string, unknown>;
  return { ...value, helm: { ...helm, render: false, path: undefined } };
}

function log(message: string): void {
  output.appendLine(`[client] ${message}`);
}

function queue(job: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(job, job).catch((error: unknown) => {
    log(`unexpected error: ${String(error)}`);
  });
  return lifecycle;
}

/** Opens the tokenguard.path setting, or the output channel, as the user chose. */
function offer(message: string, ...choices: string[]): void {
  void vscode.window.showErrorMessage(message, ...choices, 'Show Output').then((choice) => {
    if (choice === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'tokenguard.path');
    } else if (choice === 'Manage Workspace Trust') {
      void vscode.commands.executeCommand('workbench.trust.manage');
    } else if (choice === 'Show Output') {
      output.show(true);
    }
  });
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const trusted = vscode.workspace.isTrusted;
  if (!trusted) {
    log(
      'this window is in Restricted Mode (the workspace is not trusted): running only the server bundled with the extension; ' +
        'TOKENGUARD_PATH, the tokenguard.path setting and PATH are not used until you trust the workspace',
    );
  }
  const resolution = await resolveServer({
    env: process.env,
    // In Restricted Mode VS Code hides the workspace's value of this
    // setting, and resolveServer does not use the setting at all.
    setting: config.get<string>('path'),
    extensionPath,
    workspaceFolder: folder?.uri.fsPath,
    trusted,
  });
  for (const attempt of resolution.attempts) {
    log(`looked for the server: ${attempt.place}: ${attempt.outcome}`);
  }
  const found = resolution.found;
  if (!found && resolution.restricted) {
    const bundled = resolution.attempts.find((a) => a.place === 'bundled with the extension')?.outcome ?? '';
    const problem = / does not exist$/.test(bundled) ? 'this installation has none' : `that server does not work (${bundled})`;
    offer(
      'tokenguard: this window is in Restricted Mode, where tokenguard runs only the server bundled with the extension, ' +
        `and ${problem}, so YAML files are not checked. ` +
        'Trust the workspace to use tokenguard from PATH or the tokenguard.path setting, or install the tokenguard extension built for your platform, which includes the server.',
      'Manage Workspace Trust',
    );
    return;
  }
  if (!found) {
    const tried = resolution.attempts.map((a) => `${a.place} (${a.outcome})`).join('; ');
    offer(
      `tokenguard: could not find a working tokenguard executable, so YAML files are not checked. Tried: ${tried}. Install tokenguard or set "tokenguard.path".`,
      'Open Settings',
    );
    return;
  }
  log(`starting ${found.command} server (${found.version}, from ${found.place})`);

  const logLevel = config.get<string>('logLevel', 'info') || 'info';
  const run = {
    command: found.command,
    args: ['server'],
    transport: TransportKind.stdio,
    options: { env: { ...process.env, RUST_LOG: logLevel } },
  };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
      { scheme: 'file', language: 'helm' },
      { scheme: 'untitled', language: 'helm' },
    ],
    // Changes to any tokenguard.* setting reach the running server, which
    // then pulls the section again through workspace/configuration.
    synchronize: { configurationSection: SECTION },
    initializationOptions: serverSettings(),
    outputChannel: output,
    middleware: {
      workspace: {
        didChangeConfiguration: (sections, next) => (restartPending ? Promise.resolve() : next(sections)),
        // The server pulls its section again after a change: the workspace's
        // trust still decides whether it may render charts.
        configuration: async (params, token, next) => {
          const values = await next(params, token);
          if (!Array.isArray(values)) {
            return values;
          }
          return values.map((value, i) => (params.items[i]?.section === SECTION ? withTrust(value) : value));
        },
      },
    },
  };
  const next = new LanguageClient(SECTION, 'tokenguard', serverOptions, clientOptions);
  client = next;
  try {
    await next.start();
  } catch (error) {
    log(`the server did not start: ${String(error)}`);
    offer(`tokenguard: the language server (${found.command}) did not start.`);
  }
}

async function stop(): Promise<void> {
  const current = client;
  client = undefined;
  if (!current) {
    return;
  }
  try {
    // Stops the server (shutdown, exit) and releases the client.
    await current.dispose(5000);
  } catch (error) {
    log(`stopping the server: ${String(error)}`);
  }
}

/**
 * A restart that is queued or stopping the old server, and has not looked
 * for the executable yet: later requests join it, since it will see their
 * change anyway (trusting a workspace, for one, also changes tokenguard.path).
 */
let restartQueued: Promise<void> | undefined;

function restart(why: string): Promise<void> {
  log(`restarting the server: ${why}`);
  if (restartQueued) {
    return restartQueued;
  }
  restartQueued = queue(async () => {
    await stop();
    restartPending = false;
    restartQueued = undefined;
    await start();
  });
  return restartQueued;
}

export function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionPath = context.extensionPath;
  output = vscode.window.createOutputChannel('tokenguard');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('tokenguard.restartServer', () => restart('requested')),
    vscode.commands.registerCommand('tokenguard.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const changed = RESTART_SETTINGS.find((s) => event.affectsConfiguration(s));
      if (changed) {
        // This listener was registered before any client's, so it runs first.
        restartPending = true;
        void restart(`${changed} changed`);
      }
    }),
    // Trusting the workspace makes TOKENGUARD_PATH, tokenguard.path and PATH
    // count: look for the server again.
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart('the workspace is now trusted')),
  );
  return queue(start);
}

export function deactivate(): Promise<void> {
  return queue(stop);
}
