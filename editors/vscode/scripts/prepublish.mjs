// Runs before every `vsce package` (through `vscode:prepublish`), for the
// universal package (`npm run package`) and for the platform ones
// (scripts/package-vsix.sh at the repository root):
//
// 1. A universal package never ships a server: a bin/ folder here is refused
//    unless scripts/package-vsix.sh put it there (it sets
//    TOKENGUARD_VSIX_TARGET and removes bin/ afterwards).
// 2. The licence files of the repository root go into the package:
//    LICENSE-MIT and LICENSE-APACHE as they are, and LICENSE.txt (the file
//    vsce and the Marketplace's "License" link expect) holding both texts.
// 3. Every relative link and image of README.md and CHANGELOG.md names a
//    file of the repository (and one of its headings, for `file.md#anchor`).
//    dist/README.md and dist/CHANGELOG.md, which vsce packs (--readme-path,
//    --changelog-path), get those links relative to the repository root, and
//    vsce turns them into github.com URLs of those files for the Marketplace
//    page.

import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extension = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repo = path.resolve(extension, '..', '..');

function fail(message) {
  console.error(`prepublish: ${message}`);
  process.exit(1);
}

async function writeAtomically(file, contents) {
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, contents);
  await fs.rename(temp, file);
}

// --- 1. no server in the universal package ---------------------------------
const target = process.env.TOKENGUARD_VSIX_TARGET;
const bin = path.join(extension, 'bin');
if (existsSync(bin) && !target) {
  fail(
    `${bin} exists, and the universal package (npm run package) must not ship a server. ` +
      'Remove that folder, or pack a platform package with scripts/package-vsix.sh, which puts the server there and removes it afterwards.',
  );
}
if (target) {
  const name = target.startsWith('win32-') ? 'tokenguard.exe' : 'tokenguard';
  const entries = existsSync(bin) ? await fs.readdir(bin) : [];
  if (entries.length !== 1 || entries[0] !== name) {
    fail(`a ${target} package needs exactly bin/${name}; bin/ holds ${JSON.stringify(entries)}`);
  }
}

// --- 2. licences --------------------------------------------------------------
const licences = ['LICENSE-MIT', 'LICENSE-APACHE'];
const texts = [];
for (const name of licences) {
  const from = path.join(repo, name);
  let text;
  try {
    text = await fs.readFile(from, 'utf8');
  } catch (error) {
    fail(`cannot read ${from} (${error.code ?? error.message}); the package must carry the licence files of the repository root`);
  }
  await writeAtomically(path.join(extension, name), text);
  texts.push(text.trimEnd());
}
await writeAtomically(
  path.join(extension, 'LICENSE.txt'),
  [
    'tokenguard is licensed under either of the MIT licence or the Apache License,',
    'Version 2.0, at your option. Both texts follow; they are also in LICENSE-MIT',
    'and LICENSE-APACHE beside this file.',
    '',
    '==> LICENSE-MIT <==',
    '',
    texts[0],
    '',
    '==> LICENSE-APACHE <==',
    '',
    texts[1],
    '',
  ].join('\n'),
);

// --- 3. README and CHANGELOG links ------------------------------------------------
/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, as GitHub makes them. */
function anchorsOf(markdown) {
  const seen = new Map();
  const anchors = new Set();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const match = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) {
      continue;
    }
    const base = slug(match[1].replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  return anchors;
}

const isUrl = (link) => /^[a-z][a-z0-9+.-]*:/i.test(link);
/** Markdown link and image targets: `](target)` or `](target "title")`, nested or not. */
const inlineTarget = /\]\(\s*([^)\s]+)((?:\s+"[^"]*")?\s*)\)/g;
/** HTML images: `<img ... src="target">`. */
const imgTarget = /(<img\s[^>]*?src=["'])([^"']+)(["'])/gi;

/**
 * Checks the relative links of editors/vscode/NAME and writes dist/NAME with
 * them relative to the repository root instead. vsce prefixes those with the
 * --baseContentUrl/--baseImagesUrl of package.json (the repository root on
 * GitHub), so the Marketplace page gets plain URLs of existing files, where
 * prefixing the original links would leave `../../` inside the URLs.
 */
async function forMarketplace(name) {
  const source = path.join(extension, name);
  const text = readFileSync(source, 'utf8');
  const broken = [];
  let count = 0;
  const rebase = (link) => {
    if (isUrl(link) || link.startsWith('#')) {
      return link;
    }
    count += 1;
    const [file, anchor] = link.split('#');
    const resolved = path.resolve(extension, decodeURI(file));
    const fromRoot = path.relative(repo, resolved);
    if (fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) {
      broken.push(`${link} points outside the repository`);
    } else if (!existsSync(resolved)) {
      broken.push(`${link}: no file ${fromRoot} in the repository`);
    } else if (anchor && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
      broken.push(`${link}: ${fromRoot} has no heading with the anchor #${anchor}`);
    }
    return fromRoot.split(path.sep).join('/') + (anchor === undefined ? '' : `#${anchor}`);
  };
  // Links inside fenced code blocks are text, not links.
  const parts = text.split(/(^```[\s\S]*?^```)/m);
  const out = parts.map((part, i) => {
    if (i % 2 === 1) {
      return part;
    }
    for (const m of part.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) {
      if (!isUrl(m[1]) && !m[1].startsWith('#')) {
        broken.push(`${m[1]}: a reference definition with a relative target (vsce leaves those alone); use an inline link`);
      }
    }
    return part
      .replace(inlineTarget, (_, link, rest) => `](${rebase(link)}${rest})`)
      .replace(imgTarget, (_, before, link, after) => `${before}${rebase(link)}${after}`);
  });
  if (broken.length) {
    fail(`${name} has links the Marketplace page could not resolve:\n  ${broken.join('\n  ')}`);
  }
  await fs.mkdir(path.join(extension, 'dist'), { recursive: true });
  await writeAtomically(path.join(extension, 'dist', name), out.join(''));
  return count;
}

const links = (await forMarketplace('README.md')) + (await forMarketplace('CHANGELOG.md'));
console.log(
  `prepublish: ${target ? `${target} package` : 'universal package'}; licences copied; ${links} relative links of README.md and CHANGELOG.md checked`,
);
