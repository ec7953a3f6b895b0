//! Every rule cim-nix knows: stable name, category, default severity, tags
//! and a one-line summary. Names never change once released; settings,
//! suppression comments and `cim-nix explain` refer to them.

use super::Severity;

pub const SYNTAX_ERROR: &str = "syntax-error";
pub const ANALYSIS_LIMIT: &str = "analysis-limit";
pub const INTERNAL_ERROR: &str = "internal-error";

pub const UNUSED_LET: &str = "unused-let";
pub const UNUSED_LAMBDA_ARG: &str = "unused-lambda-arg";
pub const UNUSED_PATTERN_FIELD: &str = "unused-pattern-field";
pub const UNUSED_PATTERN_BIND: &str = "unused-pattern-bind";
pub const UNUSED_WITH: &str = "unused-with";
pub const UNUSED_REC: &str = "unused-rec";

pub const UNDEFINED_NAME: &str = "undefined-name";
pub const DUPLICATE_KEY: &str = "duplicate-key";
pub const DUPLICATE_PARAM: &str = "duplicate-param";
pub const DYNAMIC_ATTR_IN_LET: &str = "dynamic-attr-in-let";
pub const REC_MERGE: &str = "rec-merge";
pub const LEGACY_LET: &str = "legacy-let";
pub const URI_LITERAL: &str = "uri-literal";
pub const DEPRECATED_TO_PATH: &str = "deprecated-to-path";

pub const FLAKE_INPUT_NOT_LOCKED: &str = "flake-input-not-locked";
pub const FLAKE_LOCK_STALE: &str = "flake-lock-stale";
pub const FLAKE_LOCK_OUTDATED: &str = "flake-lock-outdated";
pub const FLAKE_LOCK_INVALID: &str = "flake-lock-invalid";
pub const FLAKE_OUTPUTS_MISSING_INPUT: &str = "flake-outputs-missing-input";
pub const FLAKE_INPUT_INVALID: &str = "flake-input-invalid";
pub const FLAKE_INPUT_UNUSED: &str = "flake-input-unused";
pub const FLAKE_INPUT_FOLLOWS_NIXPKGS: &str = "flake-input-follows-nixpkgs";

pub const INSECURE_URL: &str = "insecure-url";
pub const SSH_ROOT_LOGIN: &str = "ssh-root-login";
pub const SSH_PASSWORD_AUTH: &str = "ssh-password-auth";
pub const FIREWALL_OFF: &str = "firewall-off";
pub const BOOT_EDITOR: &str = "boot-editor";
pub const SUDO_NOPASSWD: &str = "sudo-nopasswd";
pub const AUTOLOGIN_ROOT: &str = "autologin-root";
pub const FIREWALL_SENSITIVE_PORT: &str = "firewall-sensitive-port";
pub const ROOT_EQUIVALENT_GROUP: &str = "root-equivalent-group";
pub const EMPTY_PASSWORD: &str = "empty-password";
pub const WEAK_KERNEL_PARAMS: &str = "weak-kernel-params";
pub const SANDBOX_ESCAPE: &str = "sandbox-escape";
pub const NIX_TRUST: &str = "nix-trust";
pub const INSECURE_PACKAGES_ALLOWED: &str = "insecure-packages-allowed";
pub const FETCH_NO_HASH: &str = "fetch-no-hash";
pub const FETCH_UNPINNED_REF: &str = "fetch-unpinned-ref";
pub const WEAK_HASH: &str = "weak-hash";
pub const FAKE_HASH: &str = "fake-hash";
pub const IMPURE_EVAL: &str = "impure-eval";
pub const UNSAFE_NATIVE_EVAL: &str = "unsafe-native-eval";
pub const SECRET_IN_STORE: &str = "secret-in-store";
pub const HASHED_PASSWORD_IN_STORE: &str = "hashed-password-in-store";
pub const TLS_VERIFY_OFF: &str = "tls-verify-off";
pub const SECRET_READFILE: &str = "secret-readfile";
pub const EXPOSED_DAEMON: &str = "exposed-daemon";
pub const SILENCED_VULNERABILITIES: &str = "silenced-vulnerabilities";
pub const SHELL_INJECTION: &str = "shell-injection";

pub const REIMPORT_NIXPKGS: &str = "reimport-nixpkgs";
pub const IMPORT_FROM_DERIVATION: &str = "import-from-derivation";
pub const QUADRATIC_FOLD: &str = "quadratic-fold";
pub const CONCAT_MAP: &str = "concat-map";
pub const LENGTH_COMPARE_ZERO: &str = "length-compare-zero";
pub const ELEM_ATTR_NAMES: &str = "elem-attr-names";
pub const PKGS_PATH: &str = "pkgs-path";
pub const SRC_WHOLE_DIR: &str = "src-whole-dir";
pub const REPEATED_IMPORT: &str = "repeated-import";
pub const TOP_LEVEL_WITH: &str = "top-level-with";

pub const BOOL_COMPARISON: &str = "bool-comparison";
pub const EMPTY_LET_IN: &str = "empty-let-in";
pub const MANUAL_INHERIT: &str = "manual-inherit";
pub const MANUAL_INHERIT_FROM: &str = "manual-inherit-from";
pub const COLLAPSIBLE_LET_IN: &str = "collapsible-let-in";
pub const ETA_REDUCTION: &str = "eta-reduction";
pub const USELESS_PARENS: &str = "useless-parens";
pub const EMPTY_PATTERN: &str = "empty-pattern";
pub const REDUNDANT_PATTERN_BIND: &str = "redundant-pattern-bind";
pub const EMPTY_INHERIT: &str = "empty-inherit";
pub const BOOL_SIMPLIFICATION: &str = "bool-simplification";
pub const USELESS_HAS_ATTR: &str = "useless-has-attr";
pub const REPEATED_KEYS: &str = "repeated-keys";
pub const EMPTY_LIST_CONCAT: &str = "empty-list-concat";
pub const HM_UNKNOWN_OPTION: &str = "hm-unknown-option";
pub const HM_RENAMED_OPTION: &str = "hm-renamed-option";
pub const HM_REMOVED_OPTION: &str = "hm-removed-option";
pub const HM_CHANGED_OPTION: &str = "hm-changed-option";
pub const HM_DEPRECATED_OPTION: &str = "hm-deprecated-option";

/// Rules that report nothing until a setting turns them on: their
/// findings are leads to review, not problems.
pub const OFF_BY_DEFAULT: &[&str] = &[SHELL_INJECTION];

/// How editors may show a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Code that can go (shown faded).
    Unnecessary,
    /// Syntax or a builtin that is deprecated (shown struck through).
    Deprecated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub category: &'static str,
    pub severity: Severity,
    pub tags: &'static [Tag],
    pub summary: &'static str,
}

const fn rule(
    name: &'static str,
    category: &'static str,
    severity: Severity,
    tags: &'static [Tag],
    summary: &'static str,
) -> Rule {
    Rule {
        name,
        category,
        severity,
        tags,
        summary,
    }
}

use Severity::{Error, Hint, Info, Warning};
const DEAD: &[Tag] = &[Tag::Unnecessary];
const DEPRECATED: &[Tag] = &[Tag::Deprecated];

pub static RULES: &[Rule] = &[
    rule(
        SYNTAX_ERROR,
        "correctness",
        Error,
        &[],
        "the file is not valid Nix",
    ),
    rule(
        ANALYSIS_LIMIT,
        "correctness",
        Warning,
        &[],
        "the file is too big, nested too deeply or too costly to read for cim-nix to analyse",
    ),
    rule(
        INTERNAL_ERROR,
        "correctness",
        Error,
        &[],
        "cim-nix itself failed while analysing the file (a bug to report)",
    ),
    rule(
        UNUSED_LET,
        "dead-code",
        Warning,
        DEAD,
        "a `let` binding that is never used",
    ),
    rule(
        UNUSED_LAMBDA_ARG,
        "dead-code",
        Warning,
        DEAD,
        "a lambda argument `x: ...` that is never used",
    ),
    rule(
        UNUSED_PATTERN_FIELD,
        "dead-code",
        Warning,
        DEAD,
        "a field of a lambda pattern `{ a, ... }:` that is never used",
    ),
    rule(
        UNUSED_PATTERN_BIND,
        "dead-code",
        Warning,
        DEAD,
        "an `args@` binding of a lambda pattern that is never used",
    ),
    rule(
        UNUSED_WITH,
        "dead-code",
        Warning,
        DEAD,
        "a `with` that no name comes from",
    ),
    rule(
        UNUSED_REC,
        "dead-code",
        Warning,
        DEAD,
        "a `rec` set whose members never refer to each other",
    ),
    rule(
        UNDEFINED_NAME,
        "correctness",
        Error,
        &[],
        "a name that is bound nowhere and that no `with` can provide",
    ),
    rule(
        DUPLICATE_KEY,
        "correctness",
        Error,
        &[],
        "an attribute defined twice in one set or `let`",
    ),
    rule(
        DUPLICATE_PARAM,
        "correctness",
        Error,
        &[],
        "a name that appears twice in one lambda pattern",
    ),
    rule(
        DYNAMIC_ATTR_IN_LET,
        "correctness",
        Error,
        &[],
        "a `${...}` name in a `let`, where names must be static",
    ),
    rule(
        REC_MERGE,
        "correctness",
        Warning,
        &[],
        "a plain set and a `rec` set merged through dotted paths",
    ),
    rule(
        LEGACY_LET,
        "correctness",
        Warning,
        DEPRECATED,
        "the deprecated `let { ...; body = ...; }` syntax",
    ),
    rule(
        URI_LITERAL,
        "correctness",
        Warning,
        DEPRECATED,
        "an unquoted URL literal (deprecated)",
    ),
    rule(
        DEPRECATED_TO_PATH,
        "correctness",
        Warning,
        &[],
        "`builtins.toPath`, which is deprecated",
    ),
    rule(
        FLAKE_INPUT_NOT_LOCKED,
        "flake",
        Warning,
        &[],
        "a flake input that flake.lock does not lock",
    ),
    rule(
        FLAKE_LOCK_STALE,
        "flake",
        Warning,
        &[],
        "flake.lock locks an input that flake.nix no longer declares",
    ),
    rule(
        FLAKE_LOCK_OUTDATED,
        "flake",
        Warning,
        &[],
        "an input's url differs from what flake.lock locked",
    ),
    rule(
        FLAKE_LOCK_INVALID,
        "flake",
        Warning,
        &[],
        "flake.lock cannot be read",
    ),
    rule(
        FLAKE_OUTPUTS_MISSING_INPUT,
        "flake",
        Error,
        &[],
        "an input that a strict `outputs` pattern does not take (Nix fails)",
    ),
    rule(
        FLAKE_INPUT_INVALID,
        "flake",
        Error,
        &[],
        "a flake input written as something other than a set",
    ),
    rule(
        FLAKE_INPUT_UNUSED,
        "flake",
        Warning,
        DEAD,
        "a flake input that `outputs` never uses",
    ),
    rule(
        FLAKE_INPUT_FOLLOWS_NIXPKGS,
        "flake",
        Hint,
        &[],
        "an input whose locked flake brings its own nixpkgs",
    ),
    rule(
        HM_UNKNOWN_OPTION,
        "home-manager",
        Warning,
        &[],
        "an option Home Manager does not have (a typo), with the closest names",
    ),
    rule(
        HM_RENAMED_OPTION,
        "home-manager",
        Warning,
        DEPRECATED,
        "an option Home Manager renamed; the fix writes the new name",
    ),
    rule(
        HM_REMOVED_OPTION,
        "home-manager",
        Error,
        &[],
        "an option Home Manager removed (evaluation fails)",
    ),
    rule(
        HM_CHANGED_OPTION,
        "home-manager",
        Warning,
        DEPRECATED,
        "an option Home Manager replaced by others, with a warning at every switch",
    ),
    rule(
        HM_DEPRECATED_OPTION,
        "home-manager",
        Warning,
        DEPRECATED,
        "an option Home Manager still reads but deprecates, in favour of another",
    ),
    rule(
        INSECURE_URL,
        "security",
        Warning,
        &[],
        "a URL fetched without transport security (http, git, ftp)",
    ),
    rule(
        SSH_ROOT_LOGIN,
        "security",
        Error,
        &[],
        "SSH lets root log in with a password (`PermitRootLogin = \"yes\"`)",
    ),
    rule(
        SSH_PASSWORD_AUTH,
        "security",
        Warning,
        &[],
        "SSH accepts passwords, empty passwords or forwards X11",
    ),
    rule(
        FIREWALL_OFF,
        "security",
        Warning,
        &[],
        "the NixOS firewall is turned off",
    ),
    rule(
        BOOT_EDITOR,
        "security",
        Warning,
        &[],
        "systemd-boot's editor gives a root shell to anyone at the console",
    ),
    rule(
        SUDO_NOPASSWD,
        "security",
        Warning,
        &[],
        "root without a password through sudo or doas",
    ),
    rule(
        AUTOLOGIN_ROOT,
        "security",
        Error,
        &[],
        "the console logs in as root by itself (a display manager's autologin: information)",
    ),
    rule(
        FIREWALL_SENSITIVE_PORT,
        "security",
        Warning,
        &[],
        "a database, Docker API or VNC port opened in the firewall",
    ),
    rule(
        ROOT_EQUIVALENT_GROUP,
        "security",
        Info,
        &[],
        "a user in a group that is root in all but name (docker, libvirtd, lxd)",
    ),
    rule(
        EMPTY_PASSWORD,
        "security",
        Error,
        &[],
        "an account or PAM service that accepts an empty password",
    ),
    rule(
        WEAK_KERNEL_PARAMS,
        "security",
        Warning,
        &[],
        "kernel parameters or sysctls that turn a protection off (mitigations=off, ...)",
    ),
    rule(
        SANDBOX_ESCAPE,
        "security",
        Error,
        &[],
        "builds outside the Nix sandbox (sandbox = false, __noChroot, __impure)",
    ),
    rule(
        NIX_TRUST,
        "security",
        Warning,
        &[],
        "the Nix daemon trusts too much: trusted users, unsigned paths, flake nixConfig",
    ),
    rule(
        INSECURE_PACKAGES_ALLOWED,
        "security",
        Warning,
        &[],
        "packages with known vulnerabilities allowed (unfree or broken ones: information)",
    ),
    rule(
        FETCH_NO_HASH,
        "security",
        Warning,
        &[],
        "a fetcher called without a hash (a git fetch pinned by `rev` is fine)",
    ),
    rule(
        FETCH_UNPINNED_REF,
        "security",
        Warning,
        &[],
        "`fetchGit` without a `rev`, or a URL of a moving branch",
    ),
    rule(
        WEAK_HASH,
        "security",
        Warning,
        &[],
        "an MD5 or SHA-1 hash pinning a download",
    ),
    rule(
        FAKE_HASH,
        "security",
        Info,
        &[],
        "a placeholder hash left in code (`lib.fakeHash`, `hash = \"\"`)",
    ),
    rule(
        IMPURE_EVAL,
        "security",
        Info,
        &[],
        "evaluation that depends on the machine (`getEnv`, `currentSystem`, `<nixpkgs>`)",
    ),
    rule(
        UNSAFE_NATIVE_EVAL,
        "security",
        Error,
        &[],
        "native code run during evaluation (`builtins.exec`, `importNative`)",
    ),
    rule(
        SECRET_IN_STORE,
        "security",
        Warning,
        &[],
        "a password, token or key written into the configuration (it lands in the store)",
    ),
    rule(
        HASHED_PASSWORD_IN_STORE,
        "security",
        Info,
        &[],
        "a password hash written into the configuration (`hashedPasswordFile` keeps it out)",
    ),
    rule(
        TLS_VERIFY_OFF,
        "security",
        Warning,
        &[],
        "certificate or host-key checks turned off (`curl -k`, `GIT_SSL_NO_VERIFY`, `StrictHostKeyChecking no`)",
    ),
    rule(
        SECRET_READFILE,
        "security",
        Warning,
        &[],
        "a secret-looking file (`.env`, `id_rsa`, `*.key`, `secrets/`) read or written into the Nix store",
    ),
    rule(
        EXPOSED_DAEMON,
        "security",
        Warning,
        &[],
        "a database or the Docker API reachable from the network without authentication",
    ),
    rule(
        SILENCED_VULNERABILITIES,
        "security",
        Warning,
        &[],
        "an override that empties a package's `meta.knownVulnerabilities`",
    ),
    rule(
        SHELL_INJECTION,
        "security",
        Hint,
        &[],
        "a value put into a shell script without `escapeShellArg` (off by default)",
    ),
    rule(
        REIMPORT_NIXPKGS,
        "performance",
        Warning,
        &[],
        "nixpkgs imported again inside a module or package",
    ),
    rule(
        IMPORT_FROM_DERIVATION,
        "performance",
        Warning,
        &[],
        "a build's output imported or read during evaluation (IFD)",
    ),
    rule(
        QUADRATIC_FOLD,
        "performance",
        Warning,
        &[],
        "a fold that copies its accumulator with `//` or `++` at each step",
    ),
    rule(
        CONCAT_MAP,
        "performance",
        Info,
        &[],
        "`concatLists (map f xs)`, which is `concatMap f xs`",
    ),
    rule(
        LENGTH_COMPARE_ZERO,
        "performance",
        Info,
        &[],
        "`length xs == 0`, which is `xs == [ ]`",
    ),
    rule(
        ELEM_ATTR_NAMES,
        "performance",
        Info,
        &[],
        "`elem n (attrNames s)`, which is `s ? ${n}`",
    ),
    rule(
        PKGS_PATH,
        "performance",
        Warning,
        &[],
        "`pkgs.path` (all of nixpkgs' source) in a module or package",
    ),
    rule(
        SRC_WHOLE_DIR,
        "performance",
        Warning,
        &[],
        "`src = ./.;`: the whole directory copied to the store",
    ),
    rule(
        REPEATED_IMPORT,
        "performance",
        Info,
        &[],
        "the same file imported more than once",
    ),
    rule(
        TOP_LEVEL_WITH,
        "performance",
        Hint,
        &[],
        "`with pkgs;` or `with lib;` around a whole file",
    ),
    rule(
        BOOL_COMPARISON,
        "style",
        Warning,
        &[],
        "`x == true` and the like, which are `x` or `!x`",
    ),
    rule(
        EMPTY_LET_IN,
        "style",
        Warning,
        DEAD,
        "a `let` that binds nothing",
    ),
    rule(
        MANUAL_INHERIT,
        "style",
        Warning,
        &[],
        "`a = a;`, which is `inherit a;`",
    ),
    rule(
        MANUAL_INHERIT_FROM,
        "style",
        Warning,
        &[],
        "`a = x.a;`, which is `inherit (x) a;`",
    ),
    rule(
        COLLAPSIBLE_LET_IN,
        "style",
        Warning,
        &[],
        "a `let` whose body is another `let`",
    ),
    rule(
        ETA_REDUCTION,
        "style",
        Hint,
        &[],
        "`x: f x`, which is `f`",
    ),
    rule(
        USELESS_PARENS,
        "style",
        Hint,
        DEAD,
        "parentheses around a binding's value, a `let` body or a single value",
    ),
    rule(
        EMPTY_PATTERN,
        "style",
        Warning,
        &[],
        "`{ ... }:` outside a module, which is `_:`",
    ),
    rule(
        REDUNDANT_PATTERN_BIND,
        "style",
        Warning,
        &[],
        "`args @ { ... }:`, which is `args:`",
    ),
    rule(
        EMPTY_INHERIT,
        "style",
        Warning,
        DEAD,
        "an `inherit` that names nothing",
    ),
    rule(
        BOOL_SIMPLIFICATION,
        "style",
        Warning,
        &[],
        "`!(a == b)`, which is `a != b`",
    ),
    rule(
        USELESS_HAS_ATTR,
        "style",
        Warning,
        &[],
        "`if x ? a then x.a else d`, which is `x.a or d`",
    ),
    rule(
        REPEATED_KEYS,
        "style",
        Warning,
        &[],
        "three or more keys of a set that start with the same name",
    ),
    rule(
        EMPTY_LIST_CONCAT,
        "style",
        Warning,
        &[],
        "`[ ] ++ x` or `x ++ [ ]`, which is `x`",
    ),
];

pub fn find(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}
