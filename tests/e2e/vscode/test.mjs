// Drives a real VS Code workbench (code-server, in headless Chromium) the way
// a person would: open a manifest from the Explorer, read the squiggle and
// its hover, look at the Problems panel, apply the quick fix with Ctrl+.,
// save, change a setting, restart the server; read the inlay hints, go to
// a ServiceAccount's definition, list its references, read its code lens.
// run.sh sets everything up.
//
// Three phases, each against its own code-server (PHASE):
// - `trusted` (the default): the platform .vsix, whose bundled server must be
//   the one running (nothing on PATH, no setting), gives the squiggle, the
//   inlay hints, the hover, the Problems entry and the quick fix, go to
//   definition and references between build.yaml and accounts.yaml, the
//   code lens, and follows settings.
// - `restricted`: workspace trust is on and the folder is not trusted; its
//   .vscode/settings.json points tokenguard.path at a script of the workspace
//   that leaves a marker file when run, and so do the machine settings and
//   TOKENGUARD_PATH (which VS Code does not hide in Restricted Mode). The bundled server must give the
//   squiggle, the output channel must say why it was chosen, and the marker
//   must not appear, until the test trusts the folder (the control: then the
//   extension runs the script, and the marker appears).
// - `universal-restricted`: the universal package (no server inside) in the
//   same kind of window: an error that names Restricted Mode, no server, no
//   marker.
//
// Environment (all set by run.sh): PLAYWRIGHT_CORE, CHROMIUM, CODE_SERVER_URL,
// WORKSPACE, EXPECTED, USER_SETTINGS, USER_DATA, EXTENSIONS, ARTIFACTS,
// SUMMARY_FILE, PHASE; MARKER in the restricted phases.

import { createRequire } from 'node:module';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`test.mjs: ${name} is not set (run tests/e2e/vscode/run.sh)`);
    process.exit(2);
  }
  return value;
};

const { chromium } = createRequire(import.meta.url)(env('PLAYWRIGHT_CORE'));
const workspace = env('WORKSPACE');
const artifacts = env('ARTIFACTS');
const expectedDir = env('EXPECTED');
const userSettings = env('USER_SETTINGS');
const userData = env('USER_DATA');
const extensions = env('EXTENSIONS');
const phase = process.env.PHASE || 'trusted';
const marker = phase === 'trusted' ? undefined : env('MARKER');
const url = `${env('CODE_SERVER_URL')}/?folder=${encodeURIComponent(workspace)}`;

const FILE = 'deployment.yaml';
const MESSAGE = 'mounts its service-account token';
const FIX_TITLE = 'Add automountServiceAccountToken: false to the pod spec';
const INSERTED = '      automountServiceAccountToken: false';
// The inlay hints (issue 14): on a pod spec that leaves the field to its
// account, at the end of its `spec:` line.
const HINT_DEFAULT = 'token mounted: ServiceAccount default';
const HINT_BUILDER = 'token off: ServiceAccount builder';
// Navigation: build.yaml's Job runs as the ServiceAccount of accounts.yaml.
const JOB_FILE = 'build.yaml';
const ACCOUNT_FILE = 'accounts.yaml';

// Selectors of the workbench (VS Code 1.9x to 1.10x).
const EDITOR = '.part.editor .editor-group-container.active .monaco-editor';
const WARNING = `${EDITOR} .squiggly-warning`;
const ERROR = `${EDITOR} .squiggly-error`;
const HOVER = '.monaco-hover:not(.hidden)';
const PROBLEM_ROWS = '.markers-panel .monaco-list-row';
const QUICK_FIX_ROWS = '.action-widget .monaco-list-row';

const nbsp = /\u00a0/g;
const normalise = (text) => text.replace(nbsp, ' ');

let passed = 0;
let failed = 0;
let stopped = false;

async function step(name, body) {
  if (stopped) {
    console.log(`SKIP ${name} (an earlier step it depends on failed)`);
    failed += 1;
    return;
  }
  const started = Date.now();
  try {
    const detail = await body();
    passed += 1;
    console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    await page?.screenshot({ path: path.join(artifacts, `failure-${passed + failed}.png`) }).catch(() => {});
  }
}

/** Like `step`, but a failure skips every later step. */
async function required(name, body) {
  const before = failed;
  await step(name, body);
  if (failed > before) {
    stopped = true;
  }
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** The active editor's text, line by line in screen order, spaces normalised. */
async function editorText() {
  const lines = await page.$$eval(`${EDITOR} .view-lines .view-line`, (nodes) =>
    nodes
      .map((n) => ({ top: parseFloat(n.style.top) || 0, text: n.textContent ?? '' }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text),
  );
  return lines.map(normalise);
}

/**
 * The active editor's line whose text starts (after its indentation) with
 * `start`, as shown: VS Code draws an inlay hint inside the line, after the
 * text it follows.
 */
async function shownLine(start) {
  return (await editorText()).find((l) => l.trimStart().startsWith(start));
}

/** The pod spec's `spec:` line as shown (a Deployment's or Job's: indented by 4). */
async function podSpecLine() {
  return (await editorText()).find((l) => /^ {4}spec:/.test(l));
}

/** The 1-based line and column of the first `needle` in a workspace file. */
function lineAndColumn(file, needle) {
  const lines = readFileSync(path.join(workspace, file), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  check(index >= 0, `${needle} is not in ${file}`);
  return { line: index + 1, column: lines[index].indexOf(needle) + 1 };
}

/** Moves the cursor with Go to Line/Column (Ctrl+G). */
async function goToLineColumn({ line, column }) {
  const input = page.locator('.quick-input-widget input');
  // The quick input can close under us while the workbench still moves
  // focus (a Settings editor just closed, a tab just clicked): then it is
  // opened again, a few times, before the step fails.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Control+G');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`:${line}:${column}`, { timeout: 5_000 });
      break;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await until(`the cursor at Ln ${line}, Col ${column}`, async () => (await cursorText()).includes(`Ln ${line}, Col ${column}`), 5_000);
}

/** The status bar's cursor position ("Ln 5, Col 9"). */
async function cursorText() {
  const item = page.locator('.statusbar-item[id="status.editor.selection"]').first();
  return normalise((await item.innerText().catch(() => '')) ?? '');
}

/** Polls `probe` until it returns a truthy value. */
async function until(what, probe, timeout = 15_000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) {
      return last;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The centre of an element's box. */
async function centre(locator) {
  const box = await locator.boundingBox();
  check(box, 'element has no box (not visible)');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, box };
}

/** A screenshot of the union of some boxes, with a margin, kept on the page. */
async function shot(file, boxes, margin = 16) {
  const viewport = page.viewportSize();
  const x0 = Math.max(0, Math.min(...boxes.map((b) => b.x)) - margin);
  const y0 = Math.max(0, Math.min(...boxes.map((b) => b.y)) - margin);
  const x1 = Math.min(viewport.width, Math.max(...boxes.map((b) => b.x + b.width)) + margin);
  const y1 = Math.min(viewport.height, Math.max(...boxes.map((b) => b.y + b.height)) + margin);
  await page.screenshot({
    path: path.join(artifacts, file),
    clip: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
  });
}

async function runCommand(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

async function openFromExplorer(name) {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
  await page
    .locator('.part.editor .tab.active', { hasText: name })
    .waitFor({ state: 'visible', timeout: 15_000 });
}

/** The extension's output channel, as VS Code writes it to its log folder. */
async function outputChannelLog() {
  const found = [];
  async function walk(dir) {
    let entries = [];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        await walk(full);
      } else if (/^\d+-tokenguard\.log$/.test(e.name)) {
        found.push(full);
      }
    }
  }
  await walk(path.join(userData, 'logs'));
  const texts = await Promise.all(found.map((f) => fs.readFile(f, 'utf8')));
  return texts.join('\n');
}

/** The line the extension logs when it starts the server it bundles. */
const STARTED_BUNDLED = /starting \S+\/bin\/tokenguard server \(tokenguard [^,]+, from bundled with the extension\)/;

/**
 * The output channel once it holds a line matching `pattern`, or as it is
 * after `timeoutMs`: VS Code writes the channel's log file behind the
 * channel itself, so a squiggle can be on screen before the file has the
 * line that started its server.
 */
async function outputChannelLogWith(pattern, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let log = await outputChannelLog();
  while (!pattern.test(log) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    log = await outputChannelLog();
  }
  return log;
}

/**
 * The `tokenguard server` processes started by this VS Code (found by the
 * XDG_CONFIG_HOME that run.sh gave code-server), with their environments.
 */
async function serverProcesses() {
  const mine = process.env.XDG_CONFIG_HOME;
  const found = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) {
      continue;
    }
    try {
      const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      if (path.basename(argv[0]) !== 'tokenguard' || argv[1] !== 'server') {
        continue;
      }
      const env = Object.fromEntries(
        (await fs.readFile(`/proc/${pid}/environ`, 'utf8'))
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      if (env.XDG_CONFIG_HOME === mine) {
        found.push({ pid: Number(pid), argv, env });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Whether any folder of a PATH value holds an executable `tokenguard`. */
async function tokenguardOnPath(value) {
  for (const dir of (value ?? '').split(':').filter(Boolean)) {
    try {
      await fs.access(path.join(dir, 'tokenguard'), 1 /* X_OK */);
      return path.join(dir, 'tokenguard');
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * Checks that `server` (from serverProcesses) is the binary inside the
 * installed extension, with no tokenguard on its PATH, and that the output
 * channel says it started the bundled one. `withoutEnv`: and no
 * TOKENGUARD_PATH either (the restricted phases set one, as bait).
 */
async function checkBundled(server, log, withoutEnv = true) {
  const exe = await fs.realpath(`/proc/${server.pid}/exe`);
  const root = await fs.realpath(extensions);
  check(
    exe.startsWith(root + path.sep) && /\/bin\/tokenguard$/.test(exe),
    `the server runs ${exe}, not a bin/tokenguard inside ${root}`,
  );
  if (withoutEnv) {
    check(!('TOKENGUARD_PATH' in server.env), `the server's environment has TOKENGUARD_PATH=${server.env.TOKENGUARD_PATH}`);
  }
  const onPath = await tokenguardOnPath(server.env.PATH);
  check(!onPath, `the extension host's PATH has ${onPath}`);
  check(
    STARTED_BUNDLED.test(log),
    `the output channel does not say it started the bundled server:\n${log}`,
  );
  return `${path.relative(root, exe)} (pid ${server.pid}); PATH without tokenguard${withoutEnv ? '; no TOKENGUARD_PATH' : ''}`;
}

async function exists(file) {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** The steps in a window whose workspace is not trusted (Restricted Mode). */
async function restrictedPhase() {
  const restrictedItem = page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first();

  await required('the window is in Restricted Mode', async () => {
    await restrictedItem.waitFor({ state: 'visible', timeout: 30_000 });
    const settings = JSON.parse(await fs.readFile(path.join(workspace, '.vscode', 'settings.json'), 'utf8'));
    check(settings['tokenguard.path'], 'the workspace settings do not set tokenguard.path');
    const machine = JSON.parse(await fs.readFile(path.join(userData, 'Machine', 'settings.json'), 'utf8'))['tokenguard.path'];
    check(machine?.startsWith(workspace), `the machine settings do not point tokenguard.path into the workspace: ${machine}`);
    return `status bar shows "Restricted Mode"; tokenguard.path is ${settings['tokenguard.path']} in the workspace settings, ${path.relative(workspace, machine)} (absolute) in the machine settings`;
  });

  await required(`opening ${FILE} shows the bundled server's warning squiggle`, async () => {
    await openFromExplorer(FILE);
    const t0 = Date.now();
    await page.locator(WARNING).first().waitFor({ state: 'visible', timeout: 60_000 });
    const shown = ((Date.now() - t0) / 1000).toFixed(1);
    // A count read once right after this found 0 while the failure
    // screenshot showed the squiggle (a redraw, by all signs): what must
    // hold is that one squiggle stays, never two.
    const counts = [];
    await until('exactly one warning squiggle', async () => {
      const count = await page.locator(WARNING).count();
      counts.push(count);
      check(count <= 1, `expected 1 warning squiggle, found ${count}`);
      return count === 1;
    });
    const transient = counts.length > 1 ? `; counts read while it settled: ${counts.join(', ')}` : '';
    return `squiggle after ${shown} s${transient}`;
  });

  await step('the output channel says it runs the bundled server because the window is restricted', async () => {
    const log = await outputChannelLogWith(STARTED_BUNDLED);
    check(
      log.includes('this window is in Restricted Mode (the workspace is not trusted): running only the server bundled with the extension'),
      `no Restricted Mode line in the output channel:\n${log}`,
    );
    for (const place of ['TOKENGUARD_PATH', 'setting tokenguard.path', 'PATH']) {
      check(
        log.includes(`looked for the server: ${place}: not used in Restricted Mode`),
        `the output channel does not say that ${place} is not used:\n${log}`,
      );
    }
    const servers = await serverProcesses();
    check(servers.length === 1, `${servers.length} tokenguard server processes of this VS Code`);
    check(
      servers[0].env.TOKENGUARD_PATH?.startsWith(workspace),
      `the bait is missing: TOKENGUARD_PATH=${servers[0].env.TOKENGUARD_PATH}`,
    );
    const detail = await checkBundled(servers[0], log, false);
    await page.screenshot({ path: path.join(artifacts, 'vscode-restricted.png') });
    return detail;
  });

  await step('the workspace script named by tokenguard.path never ran, not even after a restart', async () => {
    await runCommand('tokenguard: Restart Server');
    await until('a second server start in the output channel', async () => {
      const log = await outputChannelLog();
      return (log.match(/initialized with/g) ?? []).length >= 2;
    }, 20_000);
    await page.locator(WARNING).first().waitFor({ state: 'visible', timeout: 20_000 });
    check(!(await exists(marker)), `${marker} exists: the extension ran the workspace's script`);
    const log = await outputChannelLog();
    check(!log.includes(path.join(workspace, 'tools')), `the output channel names the workspace's script:\n${log}`);
    return `no ${path.basename(marker)} after two server starts; the squiggle is back`;
  });

  await step('the control: trusting the folder restores the usual lookup, and the script runs', async () => {
    await restrictedItem.click();
    const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust/ }).first();
    await trust.waitFor({ state: 'visible', timeout: 15_000 });
    await trust.click();
    await restrictedItem.waitFor({ state: 'detached', timeout: 15_000 });
    await until('a restart for the granted trust in the output channel', async () => {
      const text = await outputChannelLog();
      const after = text.split('restarting the server: the workspace is now trusted')[1];
      return after && /initialized with/.test(after);
    }, 20_000);
    check(await exists(marker), `${marker} does not exist after trusting the folder: the marker proves nothing`);
    const log = await outputChannelLog().then((t) => t.split('the workspace is now trusted')[1]);
    check(
      /starting \S+\/tools\/tokenguard server \(tokenguard [^,]+, from (TOKENGUARD_PATH|setting tokenguard\.path)\)/.test(log),
      `the server did not come from the workspace's script:\n${log}`,
    );
    return `${path.basename(marker)} written by the workspace script once the folder is trusted`;
  });
}

/** The universal package (no server inside) in Restricted Mode. */
async function universalRestrictedPhase() {
  await required('the window is in Restricted Mode', async () => {
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    return 'status bar shows "Restricted Mode"';
  });

  await step(`opening ${FILE} brings an error that names Restricted Mode, and nothing runs`, async () => {
    await openFromExplorer(FILE);
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Restricted Mode' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    const text = normalise(await toast.innerText()).replace(/\s+/g, ' ');
    check(/runs only the server bundled with the extension, and this installation has none/.test(text), `the error says: ${text}`);
    check(text.includes('Manage Workspace Trust'), `the error offers no way to trust the workspace: ${text}`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-universal-restricted.png') });
    const servers = await serverProcesses();
    check(servers.length === 0, `${servers.length} tokenguard server process(es) running`);
    check(!(await exists(marker)), `${marker} exists: the extension ran the workspace's script`);
    const squiggles = await page.locator(WARNING).count();
    check(squiggles === 0, `${squiggles} squiggle(s) without a server`);
    return text.slice(0, 120);
  });
}

const specLine = (() => {
  // The reported position: the innermost `spec:` key (a Deployment's pod spec).
  const lines = readFileSync(path.join(workspace, FILE), 'utf8').split('\n');
  const index = lines.findIndex((l) => /^ {4}spec:/.test(l));
  return { line: index + 1, column: lines[index].indexOf('spec') + 1 };
})();

let browser;
let page;
const started = Date.now();
try {
  browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);

  await required('the workbench opens the workspace folder', async () => {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await page
      .locator('.explorer-folders-view .monaco-list-row', { hasText: FILE })
      .first()
      .waitFor({ state: 'visible', timeout: 60_000 });
    return `${FILE} is listed in the Explorer`;
  });

  if (phase === 'restricted') {
    await restrictedPhase();
  } else if (phase === 'universal-restricted') {
    await universalRestrictedPhase();
  } else {
    await required(`opening ${FILE} from the Explorer shows a warning squiggle`, async () => {
      await openFromExplorer(FILE);
      const t0 = Date.now();
      await page.locator(WARNING).first().waitFor({ state: 'visible', timeout: 60_000 });
      return `squiggle after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    });

    await step('the server is the one bundled with the extension: no tokenguard on PATH, no setting', async () => {
      const servers = await serverProcesses();
      check(servers.length === 1, `${servers.length} tokenguard server processes of this VS Code`);
      return checkBundled(servers[0], await outputChannelLogWith(STARTED_BUNDLED));
    });

    await step(`an inlay hint after the pod spec's \`spec:\` says "${HINT_DEFAULT}"`, async () => {
      const line = await until(`"${HINT_DEFAULT}" on the pod spec's line`, async () => {
        const l = await podSpecLine();
        return l?.includes(HINT_DEFAULT) ? l : undefined;
      }, 20_000);
      check(/^ {4}spec:/.test(line), `the hint is on ${JSON.stringify(line)}, not the pod spec's \`spec:\``);
      check(
        line.trimEnd().endsWith(HINT_DEFAULT),
        `the hint is not at the end of the line: ${JSON.stringify(line)}`,
      );
      const hinted = (await editorText()).filter((l) => l.includes('token mounted') || l.includes('token off'));
      check(hinted.length === 1, `${hinted.length} lines with a token hint: ${JSON.stringify(hinted)}`);
      const box = await page.locator(`${EDITOR} .view-line`, { hasText: HINT_DEFAULT }).first().boundingBox();
      if (box) {
        await shot('vscode-inlay-hint.png', [box]);
      }
      return JSON.stringify(line.trim());
    });

    await step('the squiggle underlines exactly the pod spec key `spec`', async () => {
      const count = await page.locator(WARNING).count();
      check(count === 1, `expected 1 warning squiggle, found ${count}`);
      const geometry = await page.$eval(WARNING, (squiggle, editorSelector) => {
        const s = squiggle.getBoundingClientRect();
        const editor = document.querySelector(editorSelector);
        const line = [...editor.querySelectorAll('.view-lines .view-line')].find(
          (l) => Math.abs(l.getBoundingClientRect().top - s.top) < 3,
        );
        if (!line) {
          return { error: 'no text line at the height of the squiggle' };
        }
        const text = (line.textContent ?? '').replace(/\u00a0/g, ' ');
        // The screen box of the characters under the squiggle.
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        let offset = 0;
        let startSet = false;
        const from = text.indexOf('spec');
        const to = from + 4;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const length = node.textContent.length;
          if (!startSet && from < offset + length) {
            range.setStart(node, from - offset);
            startSet = true;
          }
          if (startSet && to <= offset + length) {
            range.setEnd(node, to - offset);
            break;
          }
          offset += length;
        }
        const r = range.getBoundingClientRect();
        return { text, squiggle: { left: s.left, width: s.width }, spec: { left: r.left, width: r.width } };
      }, EDITOR);
      check(!geometry.error, geometry.error);
      // (The inlay hint is drawn on the same line, after `spec:`.)
      check(
        geometry.text.trim().replace(HINT_DEFAULT, '').trim() === 'spec:',
        `the squiggle is on the line ${JSON.stringify(geometry.text)}`,
      );
      const dl = Math.abs(geometry.squiggle.left - geometry.spec.left);
      const dw = Math.abs(geometry.squiggle.width - geometry.spec.width);
      check(
        dl < 2 && dw < 2,
        `squiggle at x=${geometry.squiggle.left.toFixed(1)} w=${geometry.squiggle.width.toFixed(1)}, ` +
          `"spec" at x=${geometry.spec.left.toFixed(1)} w=${geometry.spec.width.toFixed(1)}`,
      );
      return `on ${JSON.stringify(geometry.text.trimEnd())}, ${geometry.squiggle.width.toFixed(0)} px wide like "spec"`;
    });

    await step('hovering the squiggle shows the tokenguard message', async () => {
      const squiggle = page.locator(WARNING).first();
      const { x, y, box } = await centre(squiggle);
      await page.mouse.move(x - 30, y - 30);
      await page.mouse.move(x, y, { steps: 5 });
      const hover = page.locator(HOVER, { hasText: MESSAGE }).first();
      await hover.waitFor({ state: 'visible', timeout: 10_000 });
      const text = normalise(await hover.innerText());
      check(text.includes('TG001'), `the hover does not name TG001: ${text}`);
      await page.waitForTimeout(300); // let the hover finish laying out
      const editor = await page.locator(EDITOR).first().boundingBox();
      // The gutter with the line numbers, the squiggle and the whole hover.
      await shot('vscode-hover.png', [{ x: editor.x, y: box.y, width: 1, height: 1 }, box, await hover.boundingBox()]);
      return text.split('\n')[0].slice(0, 90);
    });

    await step('the Problems panel lists the finding at the `spec` key', async () => {
      await page.mouse.move(5, 400); // away from the squiggle: the hover closes
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator(PROBLEM_ROWS, { hasText: MESSAGE }).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      const text = normalise(await row.innerText()).replace(/\s+/g, ' ');
      const position = `Ln ${specLine.line}, Col ${specLine.column}`;
      check(text.includes(position), `expected "${position}" in the row: ${text}`);
      check(text.includes('tokenguard'), `the row does not name the source tokenguard: ${text}`);
      check(text.includes('TG001'), `the row does not name TG001: ${text}`);
      const rows = await page.locator(PROBLEM_ROWS).count();
      return `${position}; ${rows} row(s) (the file and its finding)`;
    });

    await required('Ctrl+. on the squiggle offers the quick fix', async () => {
      await page.keyboard.press('Control+Shift+M'); // close the panel again
      const { x, y } = await centre(page.locator(WARNING).first());
      await page.mouse.click(x, y);
      await page.mouse.move(5, 400);
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+.');
      const rows = page.locator(QUICK_FIX_ROWS);
      await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
      const titles = (await rows.allInnerTexts()).map((t) => normalise(t).trim()).filter(Boolean);
      check(
        titles.some((t) => t.includes(FIX_TITLE)),
        `"${FIX_TITLE}" is not among ${JSON.stringify(titles)}`,
      );
      await page.waitForTimeout(300);
      const widget = await page.locator('.action-widget').first().boundingBox();
      const squiggle = await page.locator(WARNING).first().boundingBox();
      const editor = await page.locator(EDITOR).first().boundingBox();
      // From the left edge of the text to the menu, from the line above the squiggle.
      await shot('vscode-quickfix.png', [
        { x: editor.x, y: squiggle.y - 60, width: 10, height: 10 },
        squiggle,
        widget,
      ]);
      return titles.join(' | ');
    });

    await required('choosing the fix inserts the line and the squiggle goes away', async () => {
      await page.locator(QUICK_FIX_ROWS, { hasText: FIX_TITLE }).first().click();
      await until(`"${INSERTED.trim()}" in the editor`, async () => {
        const l = await editorText();
        return l.some((x) => x === INSERTED) ? l : undefined;
      });
      // A final newline shows as an empty last line, as in the editor. The
      // inlay hint goes away with the fix (the pod spec now sets the field):
      // the editor shows exactly the expected text once the hints are asked
      // for again.
      const expected = readFileSync(path.join(expectedDir, FILE), 'utf8').split('\n');
      let lines = [];
      await until(`the editor text to equal expected/${FILE}, without the inlay hint`, async () => {
        lines = await editorText();
        return JSON.stringify(lines) === JSON.stringify(expected);
      }, 10_000).catch(() => {
        throw new Error(`editor text differs from expected/${FILE}:\n${lines.join('\n')}`);
      });
      await page.locator(WARNING).first().waitFor({ state: 'detached', timeout: 15_000 });
      const at = lines.indexOf(INSERTED) + 1;
      return `line ${at} is ${JSON.stringify(INSERTED)}; no squiggle left`;
    });

    await step('Ctrl+S saves exactly the fixed text to disk', async () => {
      await page.keyboard.press('Control+S');
      const expected = await fs.readFile(path.join(expectedDir, FILE));
      const file = path.join(workspace, FILE);
      await until('the saved file', async () => (await fs.readFile(file)).equals(expected), 10_000).catch(
        async () => {
          throw new Error(`on disk:\n${await fs.readFile(file, 'utf8')}`);
        },
      );
      await page
        .locator('.part.editor .tab.active.dirty')
        .waitFor({ state: 'detached', timeout: 10_000 });
      return `${expected.length} bytes, identical to expected/${FILE}`;
    });

    await required(`${JOB_FILE}: the inlay hint names the ServiceAccount of ${ACCOUNT_FILE}, which turns the token off`, async () => {
      await openFromExplorer(JOB_FILE);
      const line = await until(`"${HINT_BUILDER}" after the Job's pod spec`, async () => {
        const l = await podSpecLine();
        return l?.trimEnd().endsWith(HINT_BUILDER) ? l : undefined;
      }, 20_000);
      const squiggles = await page.locator(WARNING).count();
      check(squiggles === 0, `${squiggles} squiggle(s): the account turns the token off`);
      return JSON.stringify(line.trim());
    });

    await step('tokenguard.inlayHints.enable off hides the hint, on shows it again, without a restart', async () => {
      // Through the Settings editor, as a person would.
      const toggle = async (want) => {
        await page.keyboard.press('Control+,');
        const search = page.locator('.settings-editor .settings-header .suggest-input-container').first();
        await search.waitFor({ state: 'visible', timeout: 15_000 });
        await search.click();
        await page.keyboard.press('Control+A');
        await page.keyboard.type('tokenguard.inlayHints.enable');
        const item = page.locator('.settings-editor .setting-item-bool', { hasText: 'Inlay Hints' }).first();
        const checkbox = item.locator('.setting-value-checkbox').first();
        await checkbox.waitFor({ state: 'visible', timeout: 15_000 });
        await page.waitForTimeout(300);
        if ((await checkbox.getAttribute('aria-checked')) !== String(want)) {
          await checkbox.click();
        }
        await until(`tokenguard.inlayHints.enable ${want} in the user settings.json`, async () => {
          const value = JSON.parse(await fs.readFile(userSettings, 'utf8'))['tokenguard.inlayHints.enable'];
          return want ? value !== false : value === false;
        }, 10_000);
        // Leave the search empty for the steps that search after this one.
        await search.click();
        await page.keyboard.press('Control+A');
        await page.keyboard.press('Backspace');
        await page.keyboard.press('Escape');
        await page.locator('.part.editor .tab', { hasText: JOB_FILE }).first().click();
      };
      await toggle(false);
      await until('no inlay hint left', async () => {
        const l = await podSpecLine();
        return l !== undefined && !l.includes(HINT_BUILDER);
      }, 20_000);
      await toggle(true);
      await until('the inlay hint back', async () => (await podSpecLine())?.includes(HINT_BUILDER), 20_000);
      const log = await outputChannelLog();
      check(!log.includes('restarting the server'), 'the server was restarted');
      return 'hint gone with the setting off, back with it on';
    });

    await required(`F12 on serviceAccountName goes to the ServiceAccount in ${ACCOUNT_FILE}`, async () => {
      const from = lineAndColumn(JOB_FILE, 'builder');
      await goToLineColumn(from);
      await page.keyboard.press('F12');
      await page
        .locator('.part.editor .tab.active', { hasText: ACCOUNT_FILE })
        .waitFor({ state: 'visible', timeout: 15_000 });
      const to = lineAndColumn(ACCOUNT_FILE, 'builder');
      const at = await until(`the cursor on the account's name (Ln ${to.line}, Col ${to.column})`, async () => {
        const text = await cursorText();
        return text.includes(`Ln ${to.line}, Col ${to.column}`) ? text : undefined;
      }, 10_000);
      const line = await shownLine('name:');
      check(line?.trim() === 'name: builder', `the account's name line shows ${JSON.stringify(line)}`);
      return `${JOB_FILE} Ln ${from.line}, Col ${from.column} -> ${ACCOUNT_FILE} ${at.trim()}`;
    });

    await step(`Peek References on the ServiceAccount lists the Job in ${JOB_FILE}`, async () => {
      const at = lineAndColumn(ACCOUNT_FILE, 'builder');
      await goToLineColumn(at);
      // (Shift+F12 jumps straight to a lone reference; the peek lists it.)
      await runCommand('Peek References');
      const widget = page.locator(`${EDITOR} .reference-zone-widget`).first();
      await widget.waitFor({ state: 'visible', timeout: 15_000 });
      const rowTexts = async () =>
        (await widget.locator('.ref-tree .monaco-list-row').allInnerTexts()).map((r) =>
          normalise(r).replace(/\s+/g, ' ').trim(),
        );
      const rows = await until(`a ${JOB_FILE} row in the references`, async () => {
        const r = await rowTexts();
        return r.some((t) => t.startsWith(JOB_FILE)) ? r : undefined;
      }, 15_000);
      // Its reference, shown in the peek's editor: the Job's serviceAccountName.
      await widget.locator('.ref-tree .monaco-list-row', { hasText: JOB_FILE }).first().click();
      const job = widget.locator('.ref-tree .monaco-list-row', { hasText: 'serviceAccountName: builder' }).first();
      await job.waitFor({ state: 'visible', timeout: 10_000 });
      await job.click();
      await until('the Job in the peek editor', async () => normalise(await widget.innerText()).includes('nightly-build'), 10_000);
      const title = normalise(await widget.locator('.peekview-title').first().innerText()).replace(/\s+/g, ' ');
      await page.waitForTimeout(300);
      await shot('vscode-references.png', [await widget.boundingBox()]);
      const all = await rowTexts();
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
      return `${title.trim()}: ${all.join(' | ') || rows.join(' | ')}`;
    });

    await step('a code lens above the ServiceAccount counts the workloads that run as it', async () => {
      const lens = page.locator(`${EDITOR} .codelens-decoration`, { hasText: 'used by' }).first();
      await lens.waitFor({ state: 'visible', timeout: 20_000 });
      const text = normalise(await lens.innerText()).trim();
      check(text.startsWith('used by 1 workload · none mounts the token'), `the lens says ${JSON.stringify(text)}`);
      return JSON.stringify(text);
    });

    await step('a changed tokenguard.severity reaches the server without a restart', async () => {
      await openFromExplorer('pod.yaml');
      await page.locator(WARNING).first().waitFor({ state: 'visible', timeout: 30_000 });
      // Through the Settings editor, as a person would (VS Code writes the
      // user settings.json; the client forwards the change to the server).
      await page.keyboard.press('Control+,');
      const search = page.locator('.settings-editor .settings-header .suggest-input-container').first();
      await search.waitFor({ state: 'visible', timeout: 15_000 });
      await search.click();
      // The setting's own id: the list is virtualized, and a search for all
      // of tokenguard's settings may leave this one below the fold.
      await page.keyboard.type('tokenguard.severity');
      const select = page.locator('.settings-editor select[aria-label="tokenguard.severity"]');
      await select.waitFor({ state: 'visible', timeout: 15_000 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(artifacts, 'vscode-settings.png') });
      await select.selectOption('error');
      await until('"tokenguard.severity": "error" in the user settings.json', async () => {
        const text = await fs.readFile(userSettings, 'utf8');
        return JSON.parse(text)['tokenguard.severity'] === 'error';
      }, 10_000);
      await page.keyboard.press('Escape');
      await page.locator('.settings-editor').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
      await page.locator('.part.editor .tab', { hasText: 'pod.yaml' }).first().click();
      await page.locator(ERROR).first().waitFor({ state: 'visible', timeout: 20_000 });
      const warnings = await page.locator(WARNING).count();
      check(warnings === 0, `${warnings} warning squiggle(s) left beside the error`);
      const log = await outputChannelLog();
      check(!log.includes('restarting the server'), 'the server was restarted');
      return 'the squiggle turned red';
    });

    await step('"tokenguard: Restart Server" restarts it and the findings come back', async () => {
      const before = (await serverProcesses()).map((p) => p.pid);
      await runCommand('tokenguard: Restart Server');
      await until('a second server start in the output channel', async () => {
        const log = await outputChannelLog();
        return (log.match(/initialized with/g) ?? []).length >= 2;
      }, 20_000);
      await page.locator(ERROR).first().waitFor({ state: 'visible', timeout: 20_000 });
      const log = await outputChannelLog();
      check(log.includes('restarting the server: requested'), 'no restart line in the output channel');
      const now = (await serverProcesses()).map((p) => p.pid);
      check(
        now.length === 1 && !before.includes(now[0]),
        `server processes before the restart: ${before.join(', ') || 'none'}; after: ${now.join(', ') || 'none'}`,
      );
      return `server pid ${before.join(', ')} replaced by ${now[0]}, which publishes the finding again`;
    });

    await step('changing tokenguard.logLevel restarts the server with that log level', async () => {
      // A machine-overridable setting: in code-server it lives in the Remote tab.
      await page.keyboard.press('Control+,');
      const search = page.locator('.settings-editor .settings-header .suggest-input-container').first();
      await search.waitFor({ state: 'visible', timeout: 15_000 });
      await search.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('tokenguard.logLevel');
      await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: 'Remote' }).first().click();
      const select = page.locator('.settings-editor select[aria-label="tokenguard.logLevel"]');
      await select.waitFor({ state: 'visible', timeout: 15_000 });
      await select.selectOption('debug');
      await until('"tokenguard.logLevel": "debug" in the remote machine settings', async () => {
        const text = await fs.readFile(path.join(userData, 'Machine', 'settings.json'), 'utf8').catch(() => '{}');
        return JSON.parse(text)['tokenguard.logLevel'] === 'debug';
      }, 10_000);
      await page.keyboard.press('Escape');
      await page.locator('.settings-editor').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
      await page.locator('.part.editor .tab', { hasText: 'pod.yaml' }).first().click();
      await until('a restart for tokenguard.logLevel in the output channel', async () => {
        const text = await outputChannelLog();
        const after = text.split('restarting the server: tokenguard.logLevel changed')[1];
        return after && /initialized with/.test(after);
      }, 20_000);
      const servers = await until('a tokenguard server process with RUST_LOG=debug', async () => {
        const found = (await serverProcesses()).filter((p) => p.env.RUST_LOG === 'debug');
        return found.length ? found : undefined;
      }, 10_000);
      const all = await serverProcesses();
      check(all.length === 1, `${all.length} tokenguard server processes of this VS Code are running`);
      await page.locator(ERROR).first().waitFor({ state: 'visible', timeout: 20_000 });
      const toasts = (await page.locator('.notifications-toasts .notification-toast').allInnerTexts()).map(normalise);
      check(!toasts.some((t) => /fail|error/i.test(t)), `error notification(s): ${JSON.stringify(toasts)}`);
      return `one server (pid ${servers[0].pid}) with RUST_LOG=debug; the finding is back, still an error`;
    });

    await step('"tokenguard: Show Output" shows the server log', async () => {
      await runCommand('tokenguard: Show Output');
      const view = page.locator('.part.panel .output-view, .part.panel [id="workbench.panel.output"]').first();
      await view.waitFor({ state: 'visible', timeout: 10_000 });
      await until('the server log in the Output panel', async () => {
        const text = normalise(await page.locator('.part.panel').first().innerText());
        return ['[client]', 'initialized with', 'tokenguard_lsp'].some((s) => text.includes(s));
      }, 10_000);
      const log = await outputChannelLog();
      check(log.includes('initialized with'), `the server's own log is not in the channel:\n${log}`);
      await page.screenshot({ path: path.join(artifacts, 'vscode-output.png') });
      const lines = log.split('\n').filter(Boolean).length;
      return `${lines} lines, server log included`;
    });

  }

  await page.screenshot({ path: path.join(artifacts, 'vscode-final.png') });
} catch (error) {
  failed += 1;
  console.log(`FAIL the test harness: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await browser?.close().catch(() => {});
  // The extension's output channel (client messages and the server's log).
  await fs.writeFile(path.join(artifacts, 'tokenguard-output.log'), await outputChannelLog()).catch(() => {});
}

const summary = `${passed} passed, ${failed} failed`;
console.log(`(browser session ${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (process.env.SUMMARY_FILE) {
  await fs.writeFile(process.env.SUMMARY_FILE, `${summary}\n`);
} else {
  console.log(summary);
}
process.exit(failed === 0 && passed > 0 ? 0 : 1);
