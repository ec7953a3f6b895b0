// Keeps package.json's settings in step with the server.
//
//   npm run settings -- <path-to-cim-nix>           rewrite package.json
//   npm run settings -- <path-to-cim-nix> --check   exit 1 if it is out of date
//
// The server describes every setting it reads (`cim-nix settings-schema`);
// package.json gets those, in that order, then the two the extension itself
// reads (the binary's path and the trace level).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');

const CLIENT_PROPERTIES = {
  'cim-nix.server.path': {
    type: 'string',
    default: 'cim-nix',
    scope: 'machine-overridable',
    markdownDescription:
      'The cim-nix binary: a program name looked up on `PATH`, or a path (`~/` is your home, ' +
      'a relative path starts at the workspace folder). Install it with ' +
      '`cargo install --git https://github.com/cim-nix/cim-nix cim-nix` or ' +
      '`nix profile install github:cim-nix/cim-nix`. Changing it restarts the server.',
  },
  'cim-nix.trace.server': {
    type: 'string',
    enum: ['off', 'messages', 'verbose'],
    enumDescriptions: [
      'Log nothing.',
      'Log the name of each request, response and notification.',
      'Log each message with its content.',
    ],
    default: 'off',
    markdownDescription:
      'Log the messages between VS Code and the server in the **cim-nix** output channel, ' +
      'to see what the server was asked and what it answered.',
  },
};

function fail(message) {
  console.error(message);
  process.exit(1);
}

function usage() {
  fail('usage: npm run settings -- <path-to-cim-nix> [--check]');
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const rest = args.filter((a) => a !== '--check');
if (rest.length !== 1 || rest[0].startsWith('-')) {
  usage();
}
// npm runs scripts in the package's folder; a relative path means the
// caller's folder. A bare name is looked up on PATH.
const bin = rest[0].includes('/') ? path.resolve(process.env.INIT_CWD ?? process.cwd(), rest[0]) : rest[0];

let schema;
try {
  schema = JSON.parse(execFileSync(bin, ['settings-schema'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
} catch (e) {
  const why = e.stderr ? String(e.stderr).trim() : e.message;
  fail(`\`${bin} settings-schema\` failed: ${why}`);
}
if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
  fail(`\`${bin} settings-schema\` did not print a JSON object`);
}
for (const key of Object.keys(schema)) {
  if (!key.startsWith('cim-nix.')) {
    fail(`\`${bin} settings-schema\` printed ${JSON.stringify(key)}, which is not a \`cim-nix.\` setting`);
  }
  if (key in CLIENT_PROPERTIES) {
    fail(`\`${bin} settings-schema\` printed ${key}, which the extension itself defines`);
  }
}

const before = readFileSync(PACKAGE_JSON, 'utf8');
const pkg = JSON.parse(before);
const old = pkg.contributes?.configuration?.properties ?? {};
const properties = { ...schema, ...CLIENT_PROPERTIES };
pkg.contributes ??= {};
pkg.contributes.configuration ??= { title: 'cim-nix' };
pkg.contributes.configuration.properties = properties;
const after = JSON.stringify(pkg, null, 2) + '\n';

if (!check) {
  writeFileSync(PACKAGE_JSON, after);
  console.log(`package.json: ${Object.keys(properties).length} settings (${Object.keys(schema).length} from ${bin})`);
  process.exit(0);
}
if (after === before) {
  console.log(`package.json's settings match \`${bin} settings-schema\``);
  process.exit(0);
}

// Out of date: say which settings differ, and where inside them, as a diff
// would; long values are cut so the message stays readable.
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v) => {
  const text = JSON.stringify(v);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
};
// `properties["cim-nix.rules"].default`: setting names hold dots themselves.
const member = (where, key) => (key.includes('.') ? `${where}[${JSON.stringify(key)}]` : `${where}.${key}`);
function diff(where, a, b, lines) {
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (!(key in b)) {
        lines.push(`- ${member(where, key)}: ${show(a[key])}`);
      }
    }
    for (const key of Object.keys(b)) {
      if (!(key in a)) {
        lines.push(`+ ${member(where, key)}: ${show(b[key])}`);
      } else {
        diff(member(where, key), a[key], b[key], lines);
      }
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    lines.push(`- ${where}: ${show(a)}`, `+ ${where}: ${show(b)}`);
  }
}
const lines = [`package.json is out of date: its settings differ from \`${bin} settings-schema\` (- package.json, + expected):`];
diff('properties', old, properties, lines);
if (lines.length === 1) {
  const oldOrder = Object.keys(old).join(', ');
  const newOrder = Object.keys(properties).join(', ');
  if (oldOrder !== newOrder) {
    lines.push(`- order: ${oldOrder}`, `+ order: ${newOrder}`);
  } else {
    lines.push('  (the same settings, in the same order; only the layout of the file differs)');
  }
}
lines.push(`Update it with: npm run settings -- ${rest[0]}`);
fail(lines.join('\n'));
