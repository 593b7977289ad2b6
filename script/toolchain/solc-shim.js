#!/usr/bin/env node
// Presents solc-js (npm `solc`) with the command line of the native solc binary, for the
// two calls forge and foundry-compilers make: `--version` and `--standard-json` on stdin.
// Used only when no native solc of the pinned version is available (see script/setup.sh).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const solc = require(path.join(root, 'node_modules', 'solc'));

function writeAll(fd, text) {
  // process.stdout.write followed by exit truncates pipes at 64 KiB; write synchronously.
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  writeAll(1, 'solc, the solidity compiler commandline interface\nVersion: ' +
    solc.version().replace(/\.Emscripten\.clang$/, '') + '.Emscripten.clang\n');
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  writeAll(2, 'solc-shim: only --version and --standard-json are supported (got: ' + args.join(' ') + ')\n');
  process.exit(2);
}

// Directories that imports may be read from, as the native CLI would allow.
const roots = [process.cwd()];
for (let i = 0; i < args.length; i++) {
  if (['--base-path', '--include-path', '--allow-paths'].includes(args[i]) && args[i + 1]) {
    for (const p of args[i + 1].split(',')) roots.push(path.resolve(p));
    i++;
  }
}
function findImports(importPath) {
  for (const r of roots) {
    const full = path.resolve(r, importPath);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: 'File not found: ' + importPath };
}

const input = fs.readFileSync(0, 'utf8');
const output = solc.compile(input, { import: findImports });
writeAll(1, output);
process.exit(0);
