// Finding the server binary and judging its version (src/server.ts), on the
// real binary and on small stand-ins for a missing, old or broken one.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  compareVersions,
  MIN_SERVER_VERSION,
  parseVersion,
  probeMessage,
  probeServer,
  resolveServerPath,
} from '../server';
import { serverBinary, TIMEOUT_MS } from './harness';

describe('server discovery', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cim-nix-discovery-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in binary: a shell script with this body. */
  function script(name: string, body: string, mode = 0o755): string {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, mode);
    return file;
  }

  test('the real binary is found and new enough', { timeout: TIMEOUT_MS }, async () => {
    const program = resolveServerPath(serverBinary());
    const probe = await probeServer(program);
    assert.equal(probe.kind, 'ok', probeMessage(probe));
    assert.ok(probe.kind === 'ok' && compareVersions(probe.version, MIN_SERVER_VERSION) >= 0);
    assert.equal(probeMessage(probe), undefined);
  });

  test('the setting is read as a name on PATH, a home path or a workspace path', () => {
    assert.equal(resolveServerPath(undefined), 'cim-nix');
    assert.equal(resolveServerPath('  '), 'cim-nix');
    assert.equal(resolveServerPath('cim-nix', '/work/project'), 'cim-nix');
    assert.equal(resolveServerPath('/opt/cim-nix/bin/cim-nix', '/work/project'), '/opt/cim-nix/bin/cim-nix');
    assert.equal(resolveServerPath('~/.cargo/bin/cim-nix'), path.join(os.homedir(), '.cargo/bin/cim-nix'));
    assert.equal(resolveServerPath('./target/release/cim-nix', '/work/project'), '/work/project/target/release/cim-nix');
    // No folder open: left as written, relative to VS Code's own directory.
    assert.equal(resolveServerPath('bin/cim-nix'), 'bin/cim-nix');
  });

  test('versions are read from `cim-nix --version` and compared as numbers', () => {
    assert.deepEqual(parseVersion('cim-nix 0.1.0\n'), [0, 1, 0]);
    assert.deepEqual(parseVersion('cim-nix 1.12.3-dev+g1234abc\n'), [1, 12, 3]);
    assert.equal(parseVersion('nixd 2.0.0'), undefined);
    assert.equal(parseVersion('cim-nix unknown'), undefined);
    assert.ok(compareVersions('0.0.1', '0.1.0') < 0);
    assert.ok(compareVersions('0.10.0', '0.9.9') > 0);
    assert.ok(compareVersions('1.0.0', '0.99.99') > 0);
    assert.equal(compareVersions('0.1.0', '0.1.0'), 0);
    assert.equal(compareVersions('0.1.0-dev', '0.1.0'), 0);
  });

  test('a missing binary is reported with its path and how to install it', { timeout: TIMEOUT_MS }, async () => {
    const missing = path.join(dir, 'no-such-dir', 'cim-nix');
    const probe = await probeServer(missing);
    assert.deepEqual(probe, { kind: 'missing', path: missing });
    const message = probeMessage(probe) ?? '';
    assert.ok(message.includes(`\`${missing}\` was not found`), message);
    assert.ok(message.includes('cargo install --git https://github.com/cim-nix/cim-nix cim-nix'), message);
    assert.ok(message.includes('nix profile install github:cim-nix/cim-nix'), message);
    assert.ok(message.includes('`cim-nix.server.path`'), message);
    // A name that is nowhere on PATH is missing too.
    const onPath = await probeServer('cim-nix-that-nobody-installed');
    assert.equal(onPath.kind, 'missing');
  });

  test('an old server is refused and the message says how to update', { timeout: TIMEOUT_MS }, async () => {
    const old = script('old-cim-nix', 'echo "cim-nix 0.0.1"');
    const probe = await probeServer(old);
    assert.deepEqual(probe, { kind: 'too-old', path: old, version: '0.0.1' });
    const message = probeMessage(probe) ?? '';
    assert.ok(message.includes(`\`${old}\` is version 0.0.1`), message);
    assert.ok(message.includes(`needs ${MIN_SERVER_VERSION} or newer`), message);
    assert.ok(message.includes('cargo install --git https://github.com/cim-nix/cim-nix cim-nix --force'), message);
    assert.ok(message.includes('nix profile upgrade'), message);
  });

  test('a binary that is not cim-nix, fails or hangs is reported, not started', { timeout: TIMEOUT_MS }, async () => {
    const other = await probeServer(script('other', 'echo "nil 2024-08-06"'));
    assert.equal(other.kind, 'failed');
    assert.ok((probeMessage(other) ?? '').includes('"nil 2024-08-06"'), probeMessage(other));

    const crashing = await probeServer(script('crashing', 'echo "boom" >&2; exit 3'));
    assert.equal(crashing.kind, 'failed');
    assert.ok((probeMessage(crashing) ?? '').includes('boom'), probeMessage(crashing));

    const hanging = await probeServer(script('hanging', 'exec sleep 30'), 300);
    assert.equal(hanging.kind, 'failed');
    assert.ok((probeMessage(hanging) ?? '').includes('did not answer in 300 ms'), probeMessage(hanging));

    const notExecutable = await probeServer(script('not-executable', 'echo "cim-nix 0.1.0"', 0o644));
    assert.equal(notExecutable.kind, 'failed');
  });
});
