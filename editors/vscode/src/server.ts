// Finding the cim-nix binary and checking its version, and the messages the
// user sees when that fails. No `vscode` import here: the tests run this
// module in plain Node against the real binary.

import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

/** The oldest server this extension works with (its settings, its requests). */
export const MIN_SERVER_VERSION = '0.1.0';

/** What `cim-nix.server.path` defaults to: the program found on `PATH`. */
export const DEFAULT_SERVER_PATH = 'cim-nix';

/** How long `cim-nix --version` may take; a hung binary must not hang activation. */
export const VERSION_TIMEOUT_MS = 5000;

export const INSTALL_STEPS = [
  'cargo install --git https://github.com/cim-nix/cim-nix cim-nix',
  'nix profile install github:cim-nix/cim-nix',
];

export type Probe =
  | { kind: 'ok'; path: string; version: string }
  | { kind: 'missing'; path: string }
  | { kind: 'too-old'; path: string; version: string }
  | { kind: 'failed'; path: string; detail: string };

/**
 * The program to run for the `cim-nix.server.path` setting. A bare name is
 * left for the operating system to find on `PATH`; `~/` is the home
 * directory; any other relative path is taken from the workspace folder,
 * as a path in a project's `.vscode/settings.json` means.
 */
export function resolveServerPath(setting: string | undefined, workspaceFolder?: string): string {
  const value = (setting ?? '').trim() || DEFAULT_SERVER_PATH;
  if (value === '~' || value.startsWith('~/')) {
    return path.join(os.homedir(), value.slice(1));
  }
  const bareName = !value.includes('/') && !value.includes('\\');
  if (bareName || path.isAbsolute(value) || workspaceFolder === undefined) {
    return value;
  }
  return path.resolve(workspaceFolder, value);
}

/** `[major, minor, patch]` from `cim-nix --version`'s `cim-nix 0.1.0`. */
export function parseVersion(output: string): [number, number, number] | undefined {
  const m = /^cim-nix (\d+)\.(\d+)\.(\d+)/m.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Negative, zero or positive as `a` is older than, as old as or newer than
 * `b`. Pre-release and build suffixes are ignored: a development build of
 * the minimum version is accepted, as people build it from git.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(`cim-nix ${a}`);
  const pb = parseVersion(`cim-nix ${b}`);
  if (!pa || !pb) {
    throw new Error(`not a version: ${pa ? b : a}`);
  }
  for (let i = 0; i < 3; i++) {
    if (pa[i] !== pb[i]) {
      return pa[i] - pb[i];
    }
  }
  return 0;
}

/** Runs `<program> --version` and says whether the extension can use it. */
export function probeServer(program: string, timeoutMs = VERSION_TIMEOUT_MS): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          resolve({ kind: 'missing', path: program });
        } else if (error.killed) {
          resolve({ kind: 'failed', path: program, detail: `\`--version\` did not answer in ${timeoutMs} ms` });
        } else {
          const why = String(stderr).trim() || error.message;
          resolve({ kind: 'failed', path: program, detail: why });
        }
        return;
      }
      const parsed = parseVersion(String(stdout));
      if (!parsed) {
        const got = String(stdout).trim().split('\n')[0] || 'nothing';
        resolve({ kind: 'failed', path: program, detail: `\`--version\` printed ${JSON.stringify(got)}, not \`cim-nix X.Y.Z\`` });
        return;
      }
      const version = parsed.join('.');
      if (compareVersions(version, MIN_SERVER_VERSION) < 0) {
        resolve({ kind: 'too-old', path: program, version });
      } else {
        resolve({ kind: 'ok', path: program, version });
      }
    });
  });
}

/** What to tell the user when the probe did not find a usable server; `undefined` when it did. */
export function probeMessage(probe: Probe): string | undefined {
  switch (probe.kind) {
    case 'ok':
      return undefined;
    case 'missing':
      return (
        `cim-nix: the language server \`${probe.path}\` was not found. ` +
        `Install it with \`${INSTALL_STEPS[0]}\` or \`${INSTALL_STEPS[1]}\`, ` +
        'or set `cim-nix.server.path` to the binary, then run "cim-nix: Restart Server".'
      );
    case 'too-old':
      return (
        `cim-nix: the language server \`${probe.path}\` is version ${probe.version}; ` +
        `this extension needs ${MIN_SERVER_VERSION} or newer. ` +
        `Update it with \`${INSTALL_STEPS[0]} --force\` or \`nix profile upgrade cim-nix\`, ` +
        'or set `cim-nix.server.path` to a newer binary.'
      );
    case 'failed':
      return (
        `cim-nix: the language server \`${probe.path}\` could not be started: ${probe.detail}. ` +
        'Check `cim-nix.server.path`.'
      );
  }
}
