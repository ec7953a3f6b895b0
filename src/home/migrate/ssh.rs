//! `~/.ssh/config` into `programs.ssh`. Read as ssh_config(5) and
//! OpenSSH's `readconf.c` do: keywords without case, `Keyword value` or
//! `Keyword=value`, arguments with `"`/`'` quoting and `\` escapes, `#`
//! starting a comment where an argument would start, commands
//! (`ProxyCommand`...) taking the rest of the line as written, everything
//! before the first `Host`/`Match` global. ssh refuses a file with a bad
//! line, and so does this converter; a keyword it does not know is kept
//! (macOS and distribution builds add their own) with a warning. Values
//! are kept as written (quotes included), since Home Manager writes them
//! back unquoted.
//!
//! Home Manager 26.05 and later take OpenSSH's own directive names under
//! `settings.<host>`; older releases the typed `matchBlocks.<host>` fields
//! (where Home Manager writes the value back as is) and `extraOptions`.
//! Global directives go to `extraOptionOverrides`, which every release
//! writes first, as ssh read them; before 26.05 the ten Home Manager once
//! had top-level options for move into its final `Host *` (top-level
//! options before 25.11, `matchBlocks."*"` in 25.11) when nothing else in
//! the file sets them. In every release the blocks are written sorted by
//! name (a `"*"` entry last from 25.11 on) while ssh uses the first value
//! it reads: where that reorders two blocks that can apply to one host and
//! set the same thing, the later one gets `lib.hm.dag.entryAfter`.

use super::nix::{self, Attrs, Value};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// How ssh reads a directive's arguments and what a repeat of it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One argument; `yes`/`no` are written as booleans.
    Flag,
    /// One argument; whole numbers are written as integers.
    Number,
    /// One argument.
    One,
    /// Any arguments, kept as written.
    Many,
    /// The rest of the line as written, `#` and all (commands).
    Rest,
    /// One argument; each line adds one (ssh tries them in order).
    Adds,
    /// A forwarding; each line adds one.
    Forward,
    /// Variable names; each line adds.
    SendEnv,
    /// `NAME=value` pairs; the first line wins whole.
    SetEnv,
    Include,
}

use Kind::*;

/// The client directives of OpenSSH (ssh_config(5), `readconf.c` at
/// master, 2026), in their canonical spelling, with the old aliases ssh
/// still reads. `Host` and `Match` open blocks and are not here.
const DIRECTIVES: &[(&str, Kind)] = &[
    ("AddKeysToAgent", Flag),
    ("AddressFamily", One),
    ("BatchMode", Flag),
    ("BindAddress", One),
    ("BindInterface", One),
    ("CanonicalDomains", Many),
    ("CanonicalizeFallbackLocal", Flag),
    ("CanonicalizeHostname", Flag),
    ("CanonicalizeMaxDots", Number),
    ("CanonicalizePermittedCNAMEs", Many),
    ("CASignatureAlgorithms", One),
    ("CertificateFile", Adds),
    ("ChallengeResponseAuthentication", Flag),
    ("ChannelTimeout", Many),
    ("CheckHostIP", Flag),
    ("Ciphers", One),
    ("ClearAllForwardings", Flag),
    ("Compression", Flag),
    ("ConnectionAttempts", Number),
    ("ConnectTimeout", Number),
    ("ControlMaster", Flag),
    ("ControlPath", One),
    ("ControlPersist", Flag),
    ("DSAAuthentication", Flag),
    ("DynamicForward", Forward),
    ("EnableEscapeCommandline", Many),
    ("EnableSSHKeysign", Flag),
    ("EscapeChar", One),
    ("ExitOnForwardFailure", Flag),
    ("FingerprintHash", One),
    ("ForkAfterAuthentication", Flag),
    ("ForwardAgent", Flag),
    ("ForwardX11", Flag),
    ("ForwardX11Timeout", Number),
    ("ForwardX11Trusted", Flag),
    ("GatewayPorts", Flag),
    ("GlobalKnownHostsFile", Many),
    ("GSSAPIAuthentication", Flag),
    ("GSSAPIDelegateCredentials", Flag),
    ("HashKnownHosts", Flag),
    ("HostbasedAcceptedAlgorithms", One),
    ("HostbasedAuthentication", Flag),
    ("HostbasedKeyTypes", One),
    ("HostKeyAlgorithms", One),
    ("HostKeyAlias", One),
    ("HostName", One),
    ("IdentitiesOnly", Flag),
    ("IdentityAgent", One),
    ("IdentityFile", Adds),
    ("IdentityFile2", Adds),
    ("IgnoreUnknown", One),
    ("Include", Include),
    ("IPQoS", Many),
    ("KbdInteractiveAuthentication", Flag),
    ("KbdInteractiveDevices", One),
    ("KeepAlive", Flag),
    ("KexAlgorithms", One),
    ("KnownHostsCommand", Rest),
    ("LocalCommand", Rest),
    ("LocalForward", Forward),
    ("LogLevel", One),
    ("LogVerbose", Many),
    ("MACs", One),
    ("NoHostAuthenticationForLocalhost", Flag),
    ("NumberOfPasswordPrompts", Number),
    ("ObscureKeystrokeTiming", Many),
    ("PasswordAuthentication", Flag),
    ("PermitLocalCommand", Flag),
    ("PermitRemoteOpen", Many),
    ("PKCS11Provider", One),
    ("Port", Number),
    ("PreferredAuthentications", One),
    ("ProxyCommand", Rest),
    ("ProxyJump", Many),
    ("ProxyUseFdpass", Flag),
    ("PubkeyAcceptedAlgorithms", One),
    ("PubkeyAcceptedKeyTypes", One),
    ("PubkeyAuthentication", Flag),
    ("RefuseConnection", Many),
    ("RekeyLimit", Many),
    ("RemoteCommand", Rest),
    ("RemoteForward", Forward),
    ("RequestTTY", Flag),
    ("RequiredRSASize", Many),
    ("RevokedHostKeys", Many),
    ("SecurityKeyProvider", One),
    ("SendEnv", SendEnv),
    ("ServerAliveCountMax", Number),
    ("ServerAliveInterval", Number),
    ("SessionType", One),
    ("SetEnv", SetEnv),
    ("SkeyAuthentication", Flag),
    ("SmartcardDevice", One),
    ("StdinNull", Flag),
    ("StreamLocalBindMask", One),
    ("StreamLocalBindUnlink", Flag),
    ("StrictHostKeyChecking", Flag),
    ("SyslogFacility", One),
    ("Tag", One),
    ("TCPKeepAlive", Flag),
    ("TISAuthentication", Flag),
    ("Tunnel", Flag),
    ("TunnelDevice", One),
    ("UpdateHostKeys", Flag),
    ("User", One),
    ("UserKnownHostsFile", Many),
    ("VerifyHostKeyDNS", Flag),
    ("VersionAddendum", Rest),
    ("VisualHostKey", Flag),
    ("WarnWeakCrypto", Many),
    ("XAuthLocation", One),
    // Deprecated or unsupported: ssh reads past them with a message.
    ("AFSTokenPassing", Many),
    ("Cipher", Many),
    ("CompressionLevel", Many),
    ("FallBackToRsh", Many),
    ("GlobalKnownHostsFile2", Many),
    ("KerberosAuthentication", Many),
    ("KerberosTGTPassing", Many),
    ("Protocol", Many),
    ("RhostsAuthentication", Many),
    ("RhostsRSAAuthentication", Many),
    ("RSAAuthentication", Many),
    ("UsePrivilegedPort", Many),
    ("UserKnownHostsFile2", Many),
    ("UseRoaming", Many),
    ("UseRsh", Many),
];

/// Directives Home Manager (master) writes as one line joined by `,` or a
/// space when given a list: a repeat of one of them cannot be a list.
const JOINED: &[&str] = &[
    "CASignatureAlgorithms",
    "Ciphers",
    "HostbasedAcceptedAlgorithms",
    "HostbasedKeyTypes",
    "HostKeyAlgorithms",
    "IgnoreUnknown",
    "KbdInteractiveDevices",
    "KexAlgorithms",
    "MACs",
    "PreferredAuthentications",
    "ProxyJump",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "CanonicalDomains",
    "CanonicalizePermittedCNAMEs",
    "ChannelTimeout",
    "GlobalKnownHostsFile",
    "PermitRemoteOpen",
    "UserKnownHostsFile",
    "SetEnv",
];

fn directive(keyword: &str) -> Option<(&'static str, Kind)> {
    DIRECTIVES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(keyword))
        .copied()
}

/// One directive line.
#[derive(Debug, Clone, PartialEq)]
struct Directive {
    line: usize,
    /// Canonical spelling, or as written for a keyword ssh does not know.
    name: String,
    kind: Option<Kind>,
    /// The arguments as written, without a trailing comment.
    raw: String,
    /// The arguments as ssh reads them (quotes and escapes removed).
    args: Vec<String>,
    comments: Vec<String>,
}

impl Directive {
    fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Header {
    /// `Host` patterns as read, and the text to write after `Host `.
    Host(Vec<String>, String),
    /// `Match` criteria as written.
    Match(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Block {
    header: Header,
    line: usize,
    comments: Vec<String>,
    directives: Vec<Directive>,
}

impl Block {
    fn is_star(&self) -> bool {
        matches!(&self.header, Header::Host(p, _) if p.len() == 1 && p[0] == "*")
    }

    fn sets(&self, key: &str) -> bool {
        self.directives.iter().any(|d| d.key() == key)
    }

    fn header_text(&self) -> String {
        match &self.header {
            Header::Host(_, text) => format!("Host {text}"),
            Header::Match(text) => format!("Match {text}"),
        }
    }
}

#[derive(Debug, Default)]
struct Config {
    globals: Vec<Directive>,
    blocks: Vec<Block>,
}

pub fn convert(
    source: Source<'_>,
    release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let mut warnings = Vec::new();
    let config =
        parse(source.text, &mut warnings).map_err(|(line, message)| MigrateError::Syntax {
            path: source.path.to_string(),
            line,
            message,
        })?;
    warn_unknown(&config, &mut warnings);
    let options = if release >= Release::new(26, 5) {
        settings(&config, &mut warnings)
    } else {
        match_blocks(&config, release, &mut warnings)
    };
    Ok(Converted {
        options,
        also: Attrs::new(),
        warnings,
    })
}

// ---------------------------------------------------------------- reading

/// The file as ssh reads it, or the line ssh refuses and why. Secrets
/// are left out here, with a warning each.
fn parse(text: &str, warnings: &mut Vec<Warning>) -> Result<Config, (usize, String)> {
    let mut config = Config::default();
    let mut comments = Vec::new();
    let mut key_block: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        // A pasted private key: never into the store (ssh would refuse
        // the file anyway).
        if let Some(start) = key_block {
            if line.contains("-----END") {
                key_block = None;
                warnings.push(Warning {
                    line: Some(start),
                    message: format!(
                        "lines {start}-{number} hold a key (`-----BEGIN ...`): left out, because what Home Manager writes is readable by every user in /nix/store; keep keys in their own files and point `IdentityFile` at them"
                    ),
                });
            }
            continue;
        }
        if line.contains("-----BEGIN") {
            key_block = Some(number);
            continue;
        }
        let body = line
            .trim_end_matches([' ', '\t', '\r', '\x0c'])
            .trim_start_matches([' ', '\t']);
        if body.is_empty() {
            continue;
        }
        if let Some(comment) = body.strip_prefix('#') {
            keep_comment(comment, number, &mut comments, warnings);
            continue;
        }
        let end = body.find([' ', '\t', '=', '"']).unwrap_or(body.len());
        let keyword = &body[..end];
        if keyword.is_empty() {
            return Err((number, "a line must start with a keyword".into()));
        }
        let mut rest = body[end..].trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix('=') {
            rest = after.trim_start_matches([' ', '\t']);
        }
        if rest.is_empty() {
            return Err((number, format!("no argument after keyword `{keyword}`")));
        }
        let (args, comment_at) = split_args(rest).ok_or((number, "unclosed quote".to_string()))?;
        let lower = keyword.to_ascii_lowercase();
        let known = directive(keyword);
        let (raw, trailing) = match (known, comment_at) {
            (Some((_, Rest)), _) | (_, None) => (rest.to_string(), None),
            (_, Some(at)) => (
                rest[..at].trim_end().to_string(),
                Some(rest[at + 1..].trim()),
            ),
        };
        // (`Host # text` keeps its comment in the header it becomes.)
        let headless = lower == "host" && args.is_empty();
        if let Some(comment) = trailing.filter(|c| !c.is_empty() && !headless) {
            keep_comment(comment, number, &mut comments, warnings);
        }
        if lower == "host" || lower == "match" {
            let header = if lower == "host" {
                // `Host #...` matches no host; Home Manager can write it so.
                let text = if args.is_empty() {
                    rest.to_string()
                } else if raw.contains(['"', '\'', '\\']) {
                    raw.clone()
                } else {
                    args.join(" ")
                };
                Header::Host(args, text)
            } else {
                check_match(&args).map_err(|m| (number, m))?;
                let text = if raw.contains(['"', '\'', '\\']) {
                    raw.clone()
                } else {
                    args.join(" ")
                };
                Header::Match(text)
            };
            config.blocks.push(Block {
                header,
                line: number,
                comments: std::mem::take(&mut comments),
                directives: Vec::new(),
            });
            continue;
        }
        if args.is_empty() && known.is_none_or(|(_, k)| k != Rest) {
            return Err((number, format!("`{keyword}` needs an argument")));
        }
        if let Some((name, kind)) = known {
            check_arguments(name, kind, &args).map_err(|m| (number, m))?;
        }
        let name = known.map_or(keyword.to_string(), |(n, _)| n.to_string());
        let secret = match known {
            Some((_, SetEnv)) => args.iter().any(|a| {
                let (var, value) = a.split_once('=').unwrap_or((a, ""));
                looks_secret(var, value)
            }),
            Some(_) => looks_secret("", &raw),
            // A yes/no or a number is no secret, whatever the keyword
            // (`GSSAPIKeyExchange yes` has "apikey" in its name).
            None if is_flag_or_number(&raw) => looks_secret("", &raw),
            None => looks_secret(keyword, &raw),
        };
        if secret {
            comments.clear();
            warnings.push(Warning {
                line: Some(number),
                message: format!(
                    "`{name}` looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store; keep it in a file Home Manager does not manage (~/.ssh/config.local) and `Include` that file"
                ),
            });
            continue;
        }
        let directive = Directive {
            line: number,
            name,
            kind: known.map(|(_, k)| k),
            raw,
            args,
            comments: std::mem::take(&mut comments),
        };
        match config.blocks.last_mut() {
            Some(block) => block.directives.push(directive),
            None => config.globals.push(directive),
        }
    }
    if let Some(start) = key_block {
        warnings.push(Warning {
            line: Some(start),
            message: format!(
                "line {start} starts a key (`-----BEGIN ...`) that never ends: everything from there on is left out"
            ),
        });
    }
    Ok(config)
}

fn is_flag_or_number(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["yes", "no", "true", "false", "on", "off"].contains(&lower.as_str())
        || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
}

fn keep_comment(comment: &str, line: usize, out: &mut Vec<String>, warnings: &mut Vec<Warning>) {
    let comment = comment.trim();
    if looks_secret("", comment) {
        warnings.push(Warning {
            line: Some(line),
            message: "a comment looks like it holds a secret: left out".into(),
        });
        return;
    }
    out.push(comment.to_string());
}

/// The arguments as OpenSSH's `argv_split` reads them, and where a
/// comment starts (a `#` where an argument would start). `None` for an
/// unclosed quote.
fn split_args(s: &str) -> Option<(Vec<String>, Option<usize>)> {
    let mut args = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        if c == ' ' || c == '\t' {
            chars.next();
            continue;
        }
        if c == '#' {
            return Some((args, Some(at)));
        }
        let mut arg = String::new();
        let mut quote = None;
        while let Some(&(_, c)) = chars.peek() {
            match (c, quote) {
                ('\\', _) => {
                    chars.next();
                    match chars.peek() {
                        Some(&(_, n))
                            if n == '\''
                                || n == '"'
                                || n == '\\'
                                || (n == ' ' && quote.is_none()) =>
                        {
                            arg.push(n);
                            chars.next();
                        }
                        _ => arg.push('\\'),
                    }
                    continue;
                }
                (' ' | '\t', None) => break,
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                (c, _) => arg.push(c),
            }
            chars.next();
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
    Some((args, None))
}

/// What ssh refuses in a directive's arguments, beyond their count.
fn check_arguments(name: &str, kind: Kind, args: &[String]) -> Result<(), String> {
    if matches!(kind, Flag | Number | One | Adds) && args.len() > 1 {
        return Err(format!("`{name}` takes one argument, not {}", args.len()));
    }
    if name == "Port" {
        if let Ok(port) = args[0].parse::<u64>() {
            if !(1..=65535).contains(&port) {
                return Err(format!("bad port `{}`", args[0]));
            }
        }
    }
    if kind == SetEnv && args.iter().any(|a| !a.contains('=')) {
        return Err("`SetEnv` takes NAME=value pairs".into());
    }
    if kind == SendEnv && args.iter().any(|a| a.is_empty() || a.contains('=')) {
        return Err("`SendEnv` takes variable names".into());
    }
    Ok(())
}

/// `Match` criteria as `match_cfg_line` accepts them.
fn check_match(args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        return Err("`Match` needs criteria".into());
    }
    let mut i = 0;
    let mut all = false;
    let mut others = false;
    while i < args.len() {
        let word = args[i].to_ascii_lowercase();
        let word = word.strip_prefix('!').unwrap_or(&word);
        i += 1;
        match word {
            "all" => all = true,
            "canonical" | "final" => {}
            "host" | "originalhost" | "user" | "localuser" | "localnetwork" | "version"
            | "tagged" | "command" | "sessiontype" | "exec" => {
                others = true;
                if i == args.len() {
                    return Err(format!("`Match {word}` needs an argument"));
                }
                i += 1;
            }
            other => return Err(format!("bad Match criterion `{other}`")),
        }
    }
    if all && others {
        return Err("`Match all` cannot be combined with other criteria".into());
    }
    Ok(())
}

/// A keyword ssh does not know is refused unless `IgnoreUnknown` names it
/// (or the build adds it, as macOS does `UseKeychain`).
fn warn_unknown(config: &Config, warnings: &mut Vec<Warning>) {
    let ignored = ignored_patterns(config);
    let all = config
        .globals
        .iter()
        .chain(config.blocks.iter().flat_map(|b| &b.directives));
    for d in all.filter(|d| d.kind.is_none()) {
        if !ignored.iter().any(|p| glob(p, &d.key())) {
            warnings.push(Warning {
                line: Some(d.line),
                message: format!(
                    "`{}` is not an OpenSSH keyword: kept as written, but ssh refuses the whole file unless your build knows it or `IgnoreUnknown {}` comes first",
                    d.name, d.name
                ),
            });
        }
    }
}

fn ignored_patterns(config: &Config) -> Vec<String> {
    config
        .globals
        .iter()
        .chain(config.blocks.iter().flat_map(|b| &b.directives))
        .filter(|d| d.name == "IgnoreUnknown")
        .flat_map(|d| d.raw.split(',').map(|p| p.trim().to_ascii_lowercase()))
        .collect()
}

/// ssh's `match_pattern`: `*` and `?` wildcards, no case.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((&c, rest)) => t
                .split_first()
                .is_some_and(|(&d, t)| (c == b'?' || c.eq_ignore_ascii_case(&d)) && go(rest, t)),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

// ---------------------------------------------------------------- order

/// Whether blocks `a` and `b` (in that order in the file) must stay in
/// that order: they may apply to one host and set something in common.
/// `Match` blocks are assumed to interact with everything (their criteria
/// see what earlier blocks set: `HostName`, `User`, `Tag`), and so is
/// what an `Include` brings.
fn must_precede(a: &Block, b: &Block) -> bool {
    let (Header::Host(pa, _), Header::Host(pb, _)) = (&a.header, &b.header) else {
        return true;
    };
    if !may_overlap(pa, pb) {
        return false;
    }
    let include = |x: &Block| x.directives.iter().any(|d| d.kind == Some(Include));
    include(a) || include(b) || a.directives.iter().any(|d| b.sets(&d.key()))
}

/// Whether some host name can match both pattern lists. Exact for
/// literal names against anything; two wildcard patterns are assumed to
/// overlap.
fn may_overlap(a: &[String], b: &[String]) -> bool {
    let positive = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|p| !p.starts_with('!'))
            .cloned()
            .collect()
    };
    let negated = |list: &[String], name: &str| {
        list.iter()
            .filter_map(|p| p.strip_prefix('!'))
            .any(|p| glob(p, name))
    };
    let literal = |p: &str| !p.contains(['*', '?']);
    positive(a).iter().any(|p| {
        positive(b).iter().any(|q| match (literal(p), literal(q)) {
            (true, _) => glob(q, p) && !negated(a, p) && !negated(b, p),
            (false, true) => glob(p, q) && !negated(a, q) && !negated(b, q),
            (false, false) => true,
        })
    })
}

/// The order Home Manager writes DAG entries in: `lib.hm.dag.topoSort`
/// over the entries in attribute-name order, which is nixpkgs'
/// `lib.toposort` (a depth-first search from the first remaining entry to
/// one with nothing left before it). `after[i]` lists the entries `i`
/// comes after.
fn hm_order(names: &[String], after: &[Vec<usize>]) -> Vec<usize> {
    let mut list: Vec<usize> = (0..names.len()).collect();
    list.sort_by(|a, b| names[*a].cmp(&names[*b]));
    let before = |x: usize, y: usize| after[y].contains(&x);
    let mut result = Vec::new();
    while list.len() > 1 {
        let mut us = list[0];
        let mut visited: Vec<usize> = Vec::new();
        let mut rest: Vec<usize> = list[1..].to_vec();
        loop {
            let (right, wrong): (Vec<usize>, Vec<usize>) =
                rest.iter().partition(|&&x| before(x, us));
            let Some((&first, others)) = right.split_first() else {
                break;
            };
            visited.insert(0, us);
            us = first;
            rest = others.iter().chain(&wrong).copied().collect();
        }
        result.push(us);
        list = visited.into_iter().chain(rest).collect();
    }
    result.extend(list);
    result
}

/// For each block, the blocks it must be written after so that Home
/// Manager keeps every pair [`must_precede`] names in the file's order:
/// added one by one where the written order would break a pair, so
/// blocks that already land right get none.
fn constraints(blocks: &[&Block], names: &[String]) -> Vec<Vec<usize>> {
    let n = blocks.len();
    let mut after = vec![Vec::new(); n];
    loop {
        let order = hm_order(names, &after);
        let mut position = vec![0; n];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let broken = (0..n).find_map(|j| {
            (0..j)
                .find(|&i| position[j] < position[i] && must_precede(blocks[i], blocks[j]))
                .map(|i| (i, j))
        });
        match broken {
            Some((i, j)) => after[j].push(i),
            None => return after,
        }
    }
}

/// The index of the last `Host *` block if Home Manager can write it
/// last (as it does a `"*"` entry) without moving it past a block it
/// must precede.
fn final_star(config: &Config) -> Option<usize> {
    let s = config.blocks.iter().rposition(Block::is_star)?;
    let star = &config.blocks[s];
    config.blocks[s + 1..]
        .iter()
        .all(|b| !must_precede(star, b))
        .then_some(s)
}

/// Unique entry names: `preferred` as is, else with ` (2)`, ` (3)`...
fn unique(preferred: String, taken: &mut Vec<String>) -> String {
    let mut name = preferred.clone();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{preferred} ({n})");
    }
    taken.push(name.clone());
    name
}

/// `lib.hm.dag.entryAfter [ ... ] { ... }` when `after` is not empty.
/// The body is laid out for an entry of `programs.ssh.settings` (or
/// `matchBlocks`) at four spaces, where `Migration::to_nix(0)` puts it.
fn dag_entry(attrs: Attrs, after: &[String]) -> Value {
    if after.is_empty() {
        return Value::Attrs(attrs);
    }
    let names = Value::List(after.iter().map(Value::str).collect());
    Value::code(format!(
        "lib.hm.dag.entryAfter {} {}",
        nix::expression(&names, 4),
        nix::expression(&Value::Attrs(attrs), 4)
    ))
}

/// Sets or extends `name` in `set`: a second value makes a list.
fn add(set: &mut Attrs, name: &str, value: Value, comments: &[String]) {
    set.push(&[name], value);
    if let Some(entry) = set.entries.iter_mut().find(|e| e.name == name) {
        entry.comments.extend(comments.iter().cloned());
    }
}

/// Warnings for what Home Manager's layout moves: a global `Include` it
/// writes after the global directives, an `Include` in a block among the
/// block's directives (sorted by name), `IgnoreUnknown` after keywords it
/// should precede.
fn warn_moves(config: &Config, warnings: &mut Vec<Warning>) {
    if let Some(include) = config.globals.iter().find(|d| d.kind == Some(Include)) {
        if let Some(later) = config
            .globals
            .iter()
            .find(|d| d.line > include.line && d.kind != Some(Include))
        {
            warnings.push(Warning {
                line: Some(later.line),
                message: format!(
                    "Home Manager writes global directives before `Include`: `{}` (line {}) now comes before what `Include {}` brings, so it wins where both set the same thing",
                    later.name, later.line, include.raw
                ),
            });
        }
    }
    for block in &config.blocks {
        let includes = block.directives.iter().filter(|d| d.kind == Some(Include));
        for include in includes {
            if block.directives.iter().any(|d| d.kind != Some(Include)) {
                warnings.push(Warning {
                    line: Some(include.line),
                    message: format!(
                        "`Include {}` in `{}`: Home Manager writes a block's directives in its own order, so what the included file sets may now win or lose against the block's own directives",
                        include.raw,
                        block.header_text()
                    ),
                });
            }
        }
    }
}

/// `IgnoreUnknown` only covers the keywords after it, and Home Manager
/// writes `extraOptionOverrides` and `extraOptions` sorted by name: a
/// keyword it covers that would sort before it (`GSSAPIKeyExchange`) goes
/// under its lowercase name, which sorts after (ssh reads keywords
/// without case).
fn after_ignore_unknown(set: &mut Attrs, ignored: &[String]) {
    if set.get("IgnoreUnknown").is_none() {
        return;
    }
    for entry in &mut set.entries {
        let key = entry.name.to_ascii_lowercase();
        if entry.name.as_str() < "IgnoreUnknown"
            && directive(&entry.name).is_none()
            && ignored.iter().any(|p| glob(p, &key))
        {
            entry.name = key;
        }
    }
}

// ---------------------------------------------------------------- 26.05+

/// `settings.<host>` with OpenSSH's names (Home Manager 26.05 on).
fn settings(config: &Config, warnings: &mut Vec<Warning>) -> Attrs {
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    // Home Manager's default `*` block would add settings the file has not.
    out.set(&["enableDefaultConfig"], Value::Bool(false));
    let mut overrides = Attrs::new();
    let mut includes = Vec::new();
    for d in &config.globals {
        if d.kind == Some(Include) {
            include_paths(d, &mut includes);
        } else {
            put_setting(&mut overrides, d);
        }
    }
    let ignored = ignored_patterns(config);
    after_ignore_unknown(&mut overrides, &ignored);
    if !overrides.is_empty() {
        out.set(&["extraOptionOverrides"], Value::Attrs(overrides));
    }
    if !includes.is_empty() {
        out.set(&["includes"], Value::List(includes));
    }
    warn_moves(config, warnings);
    let star = final_star(config);
    let mut taken = vec!["*".to_string()];
    let mut names = Vec::new();
    let mut ordered = Vec::new();
    for (i, block) in config.blocks.iter().enumerate() {
        if Some(i) == star {
            continue;
        }
        let preferred = match &block.header {
            Header::Host(_, text) if text == "*" => "Host *".to_string(),
            Header::Host(_, text) => text.clone(),
            Header::Match(text) => format!("Match {text}"),
        };
        names.push(unique(preferred, &mut taken));
        ordered.push(block);
    }
    let after = constraints(&ordered, &names);
    let mut blocks = Attrs::new();
    for (k, block) in ordered.iter().enumerate() {
        let names_after: Vec<String> = after[k].iter().map(|&i| names[i].clone()).collect();
        let value = dag_entry(block_settings(block, &names[k]), &names_after);
        blocks.set_with_comments(&[&names[k]], value, block.comments.clone());
    }
    if let Some(s) = star {
        let block = &config.blocks[s];
        let value = Value::Attrs(block_settings(block, "*"));
        blocks.set_with_comments(&["*"], value, block.comments.clone());
    }
    if !blocks.is_empty() {
        out.set(&["settings"], Value::Attrs(blocks));
    }
    out
}

/// One block's directives under their own names, with `header` when the
/// entry's name would not give the block's `Host`/`Match` line.
fn block_settings(block: &Block, name: &str) -> Attrs {
    let mut set = Attrs::new();
    let natural = if name.starts_with("Host ") || name.starts_with("Match ") {
        name.to_string()
    } else {
        format!("Host {name}")
    };
    if natural != block.header_text() {
        set.set(&["header"], Value::str(block.header_text()));
    }
    for d in &block.directives {
        put_setting(&mut set, d);
    }
    set
}

/// A directive into a freeform block: typed where Home Manager writes the
/// value back the same (`yes`/`no`, whole numbers), repeats as lists
/// (Home Manager writes a list as repeated lines). A repeat of a directive
/// Home Manager joins into one line goes under the lowercase name, which
/// it writes as is (ssh reads keywords without case).
fn put_setting(set: &mut Attrs, d: &Directive) {
    let value = match d.kind {
        Some(SetEnv) => set_env(&d.args).unwrap_or_else(|| Value::str(&d.raw)),
        Some(Flag) if d.raw == "yes" || d.raw == "no" => Value::Bool(d.raw == "yes"),
        Some(Number) => number(&d.raw).map_or_else(|| Value::str(&d.raw), Value::Int),
        _ => Value::str(&d.raw),
    };
    let lower = d.name.to_ascii_lowercase();
    let repeat = set.get(&d.name).is_some() || set.get(&lower).is_some();
    let (name, value) = if JOINED.contains(&d.name.as_str()) && repeat {
        (lower, Value::str(&d.raw))
    } else if d.kind == Some(SetEnv) && !matches!(value, Value::Attrs(_)) {
        (lower, value)
    } else {
        (d.name.clone(), value)
    };
    add(set, &name, value, &d.comments);
}

/// A global `Include`'s globs for `includes`, which Home Manager joins
/// with spaces as written: a quoted one stays quoted.
fn include_paths(d: &Directive, out: &mut Vec<Value>) {
    if d.raw.contains(['"', '\'', '\\']) {
        out.push(Value::str(&d.raw));
    } else {
        out.extend(d.args.iter().map(Value::str));
    }
}

/// `NAME=value` pairs as a set, when no name repeats.
fn set_env(args: &[String]) -> Option<Value> {
    let mut set = Attrs::new();
    for arg in args {
        let (name, value) = arg.split_once('=')?;
        if set.get(name).is_some() {
            return None;
        }
        set.set(&[name], Value::str(value));
    }
    Some(Value::Attrs(set))
}

/// A whole number as written (`22`, not `022`).
fn number(text: &str) -> Option<i64> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

// ---------------------------------------------------------------- legacy

/// What a legacy `matchBlocks` field (or top-level option) takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Str,
    /// A port, 1-65535.
    Port,
    /// An integer; `skip` is a value Home Manager does not write.
    Int {
        min: i64,
        skip: Option<i64>,
    },
    /// `yes`/`no`.
    YesNo,
    /// `yes` only (a bool Home Manager writes when true).
    Yes,
    /// `no` only (Home Manager writes `CheckHostIP no` when false).
    No,
    Enum(&'static [&'static str]),
    /// Files, one line each.
    Files,
    /// Variable names, one line.
    Names,
    /// `NAME=value` pairs.
    Pairs,
    /// `{ bind; host; }` forwardings.
    Forwards,
    /// `{ address; port; }` dynamic forwardings.
    Dynamic,
}

const CONTROL_MASTER: &[&str] = &["yes", "no", "ask", "auto", "autoask"];

/// The `matchBlocks.<name>` field for a directive in `release` (from
/// `modules/programs/ssh.nix` on the release branches).
fn legacy_field(name: &str, release: Release) -> Option<(&'static str, Field)> {
    let old = release < Release::new(25, 11);
    Some(match name {
        "HostName" => ("hostname", Field::Str),
        "User" => ("user", Field::Str),
        "Port" => ("port", Field::Port),
        "IdentityFile" => ("identityFile", Field::Files),
        "IdentityAgent" if release >= Release::new(25, 5) => ("identityAgent", Field::Str),
        "CertificateFile" => ("certificateFile", Field::Files),
        "IdentitiesOnly" => ("identitiesOnly", Field::Yes),
        "ForwardAgent" => ("forwardAgent", Field::YesNo),
        "ForwardX11" => ("forwardX11", Field::Yes),
        "ForwardX11Trusted" => ("forwardX11Trusted", Field::Yes),
        "ProxyCommand" => ("proxyCommand", Field::Str),
        "ProxyJump" => ("proxyJump", Field::Str),
        "AddressFamily" => ("addressFamily", Field::Enum(&["any", "inet", "inet6"])),
        "SendEnv" => ("sendEnv", Field::Names),
        "SetEnv" => ("setEnv", Field::Pairs),
        "Compression" => ("compression", Field::YesNo),
        "CheckHostIP" => ("checkHostIP", Field::No),
        "ServerAliveInterval" => (
            "serverAliveInterval",
            Field::Int {
                min: 0,
                skip: old.then_some(0),
            },
        ),
        "ServerAliveCountMax" => (
            "serverAliveCountMax",
            Field::Int {
                min: 1,
                skip: old.then_some(3),
            },
        ),
        "LocalForward" => ("localForwards", Field::Forwards),
        "RemoteForward" => ("remoteForwards", Field::Forwards),
        "DynamicForward" => ("dynamicForwards", Field::Dynamic),
        _ if old => return None,
        "AddKeysToAgent" => ("addKeysToAgent", Field::Str),
        "HashKnownHosts" => ("hashKnownHosts", Field::YesNo),
        "UserKnownHostsFile" => ("userKnownHostsFile", Field::Str),
        "ControlMaster" => ("controlMaster", Field::Enum(CONTROL_MASTER)),
        "ControlPath" => ("controlPath", Field::Str),
        "ControlPersist" => ("controlPersist", Field::Str),
        _ => return None,
    })
}

/// The ten settings Home Manager 25.05 and older write in its own final
/// `Host *` block from top-level options (moved to `matchBlocks."*"` in
/// 25.11), with their defaults.
const TOP_LEVEL: &[(&str, &str, Field)] = &[
    ("ForwardAgent", "forwardAgent", Field::YesNo),
    ("AddKeysToAgent", "addKeysToAgent", Field::Str),
    ("Compression", "compression", Field::YesNo),
    (
        "ServerAliveInterval",
        "serverAliveInterval",
        Field::Int { min: 0, skip: None },
    ),
    (
        "ServerAliveCountMax",
        "serverAliveCountMax",
        Field::Int { min: 1, skip: None },
    ),
    ("HashKnownHosts", "hashKnownHosts", Field::YesNo),
    ("UserKnownHostsFile", "userKnownHostsFile", Field::Str),
    (
        "ControlMaster",
        "controlMaster",
        Field::Enum(CONTROL_MASTER),
    ),
    ("ControlPath", "controlPath", Field::Str),
    ("ControlPersist", "controlPersist", Field::Str),
];

/// One directive's value for `field`, if the field writes it back as is.
fn field_value(field: Field, d: &Directive) -> Option<Value> {
    match field {
        Field::Str => Some(Value::str(&d.raw)),
        Field::Port => number(&d.raw)
            .filter(|p| (1..=65535).contains(p))
            .map(Value::Int),
        Field::Int { min, skip } => number(&d.raw)
            .filter(|n| *n >= min && Some(*n) != skip)
            .map(Value::Int),
        Field::YesNo => matches!(d.raw.as_str(), "yes" | "no").then(|| Value::Bool(d.raw == "yes")),
        Field::Yes => (d.raw == "yes").then_some(Value::Bool(true)),
        Field::No => (d.raw == "no").then_some(Value::Bool(false)),
        Field::Enum(choices) => choices
            .contains(&d.raw.as_str())
            .then(|| Value::str(&d.raw)),
        Field::Files => Some(Value::str(&d.raw)),
        Field::Names => (!d.raw.contains(['"', '\'', '\\']))
            .then(|| Value::List(d.args.iter().map(Value::str).collect())),
        Field::Pairs => set_env(&d.args),
        Field::Forwards => forward(&d.args),
        Field::Dynamic => match d.args.as_slice() {
            [listen] => endpoint(listen, true),
            _ => None,
        },
    }
}

/// `[bind_address:]port host:hostport` (or socket paths) as Home
/// Manager's `{ bind; host; }`. Its legacy fields always write a bind
/// address, so a forwarding without one is kept as written: `8080` and
/// `[localhost]:8080` differ under `GatewayPorts` and `ssh -g`.
fn forward(args: &[String]) -> Option<Value> {
    let [listen, connect] = args else {
        return None;
    };
    let mut set = Attrs::new();
    set.set(&["bind"], endpoint(listen, true)?);
    set.set(&["host"], endpoint(connect, false)?);
    Some(Value::Attrs(set))
}

/// `addr:port`, `[addr]:port` or a socket path as `{ address; port; }`.
fn endpoint(spec: &str, bind: bool) -> Option<Value> {
    let mut set = Attrs::new();
    if spec.contains('/') {
        set.set(&["address"], Value::str(spec));
        return Some(Value::Attrs(set));
    }
    let (address, port) = match spec.strip_prefix('[') {
        Some(rest) => {
            let (address, port) = rest.split_once("]:")?;
            (address, port)
        }
        None => spec.rsplit_once(':').filter(|(a, _)| !a.contains(':'))?,
    };
    let port = number(port).filter(|p| (1..=65535).contains(p))?;
    if address.is_empty() || (bind && address == "*") {
        return None;
    }
    set.set(&["address"], Value::str(address));
    set.set(&["port"], Value::Int(port));
    Some(Value::Attrs(set))
}

/// Repeats of one directive in one block, for a legacy field: the values
/// that fit it, and the lines that go to `extraOptions` instead. A field
/// that holds one value takes the first line (ssh uses the first; Home
/// Manager writes fields before `extraOptions`); lists take all or none.
fn legacy_split<'a>(field: Field, lines: &[&'a Directive]) -> (Option<Value>, Vec<&'a Directive>) {
    let values: Vec<Option<Value>> = lines.iter().map(|d| field_value(field, d)).collect();
    match field {
        // ssh sets up every forwarding whatever their order.
        Field::Forwards | Field::Dynamic => {
            let rest = lines
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.is_none())
                .map(|(d, _)| *d)
                .collect();
            let items: Vec<Value> = values.into_iter().flatten().collect();
            ((!items.is_empty()).then_some(Value::List(items)), rest)
        }
        Field::Files => {
            if values.iter().all(Option::is_some) {
                let mut items: Vec<Value> = values.into_iter().flatten().collect();
                let value = if items.len() == 1 {
                    items.remove(0)
                } else {
                    Value::List(items)
                };
                (Some(value), Vec::new())
            } else {
                (None, lines.to_vec())
            }
        }
        Field::Names => {
            if values.iter().all(Option::is_some) {
                let names = values
                    .into_iter()
                    .flatten()
                    .flat_map(|v| match v {
                        Value::List(items) => items,
                        other => vec![other],
                    })
                    .collect();
                (Some(Value::List(names)), Vec::new())
            } else {
                (None, lines.to_vec())
            }
        }
        _ => match values.into_iter().next().flatten() {
            Some(value) => (Some(value), lines[1..].to_vec()),
            None => (None, lines.to_vec()),
        },
    }
}

/// Lines for an `attrsOf str` option Home Manager writes as `name value`:
/// repeats joined with a newline and the keyword (`indent` is the block's).
fn joined_lines(lines: &[&Directive], indent: &str) -> Value {
    let mut text = lines[0].raw.clone();
    for d in &lines[1..] {
        text.push_str(&format!("\n{indent}{} {}", d.name, d.raw));
    }
    Value::Str(text)
}

/// Directives grouped by name, in the order of their first line.
fn grouped(directives: &[Directive]) -> Vec<Vec<&Directive>> {
    let mut groups: Vec<Vec<&Directive>> = Vec::new();
    for d in directives {
        match groups.iter_mut().find(|g| g[0].key() == d.key()) {
            Some(group) => group.push(d),
            None => groups.push(vec![d]),
        }
    }
    groups
}

fn comments_of(lines: &[&Directive]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|d| d.comments.iter().cloned())
        .collect()
}

/// A block as `matchBlocks.<name>` fields and `extraOptions`.
fn legacy_block(block: &Block, name: &str, release: Release) -> Attrs {
    let mut set = Attrs::new();
    match &block.header {
        Header::Match(text) => set.set(&["match"], Value::str(text)),
        Header::Host(_, text) if text != name => set.set(&["host"], Value::str(text)),
        Header::Host(..) => {}
    }
    let mut extra = Attrs::new();
    for lines in grouped(&block.directives) {
        let mut comments = comments_of(&lines);
        let mut rest = lines.clone();
        if let Some((field_name, field)) = legacy_field(&lines[0].name, release) {
            let (value, left) = legacy_split(field, &lines);
            if let Some(value) = value {
                set.set_with_comments(&[field_name], value, std::mem::take(&mut comments));
            }
            rest = left;
        }
        if !rest.is_empty() {
            extra.set_with_comments(&[&rest[0].name], joined_lines(&rest, "  "), comments);
        }
    }
    if !extra.is_empty() {
        set.set(&["extraOptions"], Value::Attrs(extra));
    }
    set
}

/// Whether a global directive can move into the final `Host *` block
/// (Home Manager's top-level options before 25.11, `matchBlocks."*"` in
/// 25.11) without changing what ssh reads: nothing else in the file sets
/// it or could (no `Match`, no `Include`), so its place does not matter.
fn movable_global(config: &Config, d: &Directive, top_level: Field) -> bool {
    let once = config.globals.iter().filter(|g| g.key() == d.key()).count() == 1;
    let quiet = config
        .blocks
        .iter()
        .all(|b| matches!(b.header, Header::Host(..)) && !b.sets(&d.key()));
    let no_include = config
        .globals
        .iter()
        .chain(config.blocks.iter().flat_map(|b| &b.directives))
        .all(|x| x.kind != Some(Include));
    once && quiet && no_include && field_value(top_level, d).is_some()
}

/// `matchBlocks` with the typed fields (Home Manager 25.11 and older).
fn match_blocks(config: &Config, release: Release, warnings: &mut Vec<Warning>) -> Attrs {
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    let since_25_11 = release >= Release::new(25, 11);
    if since_25_11 {
        out.set(&["enableDefaultConfig"], Value::Bool(false));
    }
    let star = final_star(config);
    // Before 25.11 the final `Host *` is Home Manager's own, from the
    // top-level options, with `extraConfig` in it: the file's last `Host *`
    // goes there when each of those ten settings it has fits its option.
    let top_star = star.filter(|&s| {
        !since_25_11
            && config.blocks[s].directives.iter().all(|d| {
                TOP_LEVEL
                    .iter()
                    .find(|(n, ..)| *n == d.name)
                    .is_none_or(|(_, _, f)| field_value(*f, d).is_some())
            })
    });

    let mut overrides = Attrs::new();
    let mut includes = Vec::new();
    let mut top = Attrs::new();
    let mut star_fields = Attrs::new();
    for lines in grouped(&config.globals) {
        let d = lines[0];
        if d.kind == Some(Include) {
            for line in &lines {
                include_paths(line, &mut includes);
            }
            continue;
        }
        let ten = TOP_LEVEL.iter().find(|(n, ..)| *n == d.name);
        if let Some((_, option, field)) = ten {
            if movable_global(config, d, *field) {
                let value = field_value(*field, d).unwrap_or(Value::Bool(false));
                let target = if since_25_11 {
                    &mut star_fields
                } else {
                    &mut top
                };
                target.set_with_comments(&[option], value, d.comments.clone());
                continue;
            }
        }
        overrides.set_with_comments(&[&d.name], joined_lines(&lines, ""), comments_of(&lines));
    }
    let ignored = ignored_patterns(config);
    after_ignore_unknown(&mut overrides, &ignored);
    warn_moves(config, warnings);

    let mut extra_config = String::new();
    if let Some(s) = top_star {
        let block = &config.blocks[s];
        for lines in grouped(&block.directives) {
            let d = lines[0];
            let ten = TOP_LEVEL.iter().find(|(n, ..)| *n == d.name);
            let rest: &[&Directive] = match ten {
                Some((_, option, field)) => {
                    let value = field_value(*field, d).unwrap_or(Value::Bool(false));
                    top.set_with_comments(&[option], value, d.comments.clone());
                    &lines[1..]
                }
                None => &lines,
            };
            for line in rest {
                for comment in &line.comments {
                    extra_config.push_str(&format!("# {comment}\n"));
                }
                extra_config.push_str(&format!("{} {}\n", line.name, line.raw));
            }
        }
    }
    if !since_25_11 {
        let unset: Vec<&str> = TOP_LEVEL
            .iter()
            .filter(|(name, option, _)| {
                top.get(option).is_none() && !config.globals.iter().any(|g| g.name == *name)
            })
            .map(|(name, ..)| *name)
            .collect();
        if !unset.is_empty() {
            warnings.push(Warning {
                line: None,
                message: format!(
                    "Home Manager {release} ends ~/.ssh/config with its own `Host *` block, which also sets {} for every host the file leaves them unset for; most match OpenSSH's defaults, but `UserKnownHostsFile ~/.ssh/known_hosts` drops known_hosts2, `ControlPath` is set, and `HashKnownHosts no` overrides a system-wide `yes`",
                    unset.join(", ")
                ),
            });
        }
    }
    for entry in top.entries {
        out.entries.push(entry);
    }
    if !overrides.is_empty() {
        out.set(&["extraOptionOverrides"], Value::Attrs(overrides));
    }
    if !includes.is_empty() {
        out.set(&["includes"], Value::List(includes));
    }

    // The final star is written last by 25.11 (`"*"`) or is Home
    // Manager's own before; every other block takes part in the DAG.
    let dag_star = if since_25_11 { star } else { top_star };
    let mut taken = if since_25_11 {
        vec!["*".to_string()]
    } else {
        Vec::new()
    };
    let mut names = Vec::new();
    let mut ordered = Vec::new();
    for (i, block) in config.blocks.iter().enumerate() {
        if Some(i) == dag_star {
            continue;
        }
        let preferred = match &block.header {
            Header::Host(_, text) if text == "*" && since_25_11 => "Host *".to_string(),
            Header::Host(_, text) => text.clone(),
            Header::Match(text) => format!("Match {text}"),
        };
        names.push(unique(preferred, &mut taken));
        ordered.push(block);
    }
    let after = constraints(&ordered, &names);
    let mut blocks = Attrs::new();
    for (k, block) in ordered.iter().enumerate() {
        let names_after: Vec<String> = after[k].iter().map(|&i| names[i].clone()).collect();
        let mut attrs = legacy_block(block, &names[k], release);
        if let Some(Value::Attrs(extra)) = attrs.get_mut("extraOptions") {
            after_ignore_unknown(extra, &ignored);
        }
        let value = dag_entry(attrs, &names_after);
        blocks.set_with_comments(&[&names[k]], value, block.comments.clone());
    }
    if since_25_11 {
        let mut star_attrs = star_fields;
        if let Some(s) = star {
            let mut block = legacy_block(&config.blocks[s], "*", release);
            if let Some(Value::Attrs(extra)) = block.get_mut("extraOptions") {
                after_ignore_unknown(extra, &ignored);
            }
            star_attrs.entries.extend(block.entries);
        }
        if !star_attrs.is_empty() {
            let comments = star
                .map(|s| config.blocks[s].comments.clone())
                .unwrap_or_default();
            blocks.set_with_comments(&["*"], Value::Attrs(star_attrs), comments);
        }
    }
    if !blocks.is_empty() {
        out.set(&["matchBlocks"], Value::Attrs(blocks));
    }
    if !extra_config.is_empty() {
        let comments = top_star
            .map(|s| config.blocks[s].comments.clone())
            .unwrap_or_default();
        out.set_with_comments(&["extraConfig"], Value::Str(extra_config), comments);
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;
    use rnix::ast::{self, HasEntry};
    use std::collections::BTreeMap;

    fn run(text: &str, release: Release) -> (String, Vec<Warning>) {
        let m = migrate(
            Source {
                path: "~/.ssh/config",
                text,
            },
            release,
            &NoFiles,
        )
        .unwrap();
        (m.to_nix(0), m.warnings)
    }

    fn refused(text: &str) -> (usize, String) {
        match migrate(
            Source {
                path: "~/.ssh/config",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        ) {
            Err(MigrateError::Syntax { line, message, .. }) => (line, message),
            other => panic!("{text:?} was not refused: {other:?}"),
        }
    }

    /// The bindings of `text` (as `Migration::to_nix` writes them) read
    /// back through rnix: sets, strings, numbers, booleans, lists, other
    /// code as written, and `lib.hm.dag.entryAfter names data` as the
    /// `{ data; after; before; }` set it evaluates to.
    pub(in super::super) fn read_nix(text: &str) -> Attrs {
        let parse = rnix::Root::parse(&format!("{{\n{text}}}"));
        assert!(parse.errors().is_empty(), "{:?}\n{text}", parse.errors());
        match read(&parse.tree().expr().unwrap()) {
            Value::Attrs(set) => set,
            other => panic!("not a set: {other:?}"),
        }
    }

    fn read(expr: &ast::Expr) -> Value {
        use crate::syntax::read::{bool_value, string_value};
        use rowan::ast::AstNode;
        match expr {
            ast::Expr::AttrSet(set) => {
                let mut out = Attrs::new();
                for binding in set.attrpath_values() {
                    let path: Vec<String> = binding
                        .attrpath()
                        .unwrap()
                        .attrs()
                        .map(|a| match a {
                            ast::Attr::Ident(i) => i.syntax().text().to_string(),
                            ast::Attr::Str(s) => string_value(&ast::Expr::Str(s)).unwrap(),
                            ast::Attr::Dynamic(_) => panic!("dynamic name"),
                        })
                        .collect();
                    let path: Vec<&str> = path.iter().map(String::as_str).collect();
                    out.set(&path, read(&binding.value().unwrap()));
                }
                Value::Attrs(out)
            }
            ast::Expr::Str(_) => Value::Str(string_value(expr).unwrap()),
            ast::Expr::Literal(l) => Value::Int(l.syntax().text().to_string().parse().unwrap()),
            ast::Expr::List(list) => Value::List(list.items().map(|e| read(&e)).collect()),
            ast::Expr::Paren(p) => read(&p.expr().unwrap()),
            ast::Expr::Ident(_) if bool_value(expr).is_some() => {
                Value::Bool(bool_value(expr).unwrap())
            }
            ast::Expr::Apply(apply) => {
                let ast::Expr::Apply(inner) = apply.lambda().unwrap() else {
                    return Value::code(expr.syntax().text().to_string());
                };
                let function = inner.lambda().unwrap().syntax().text().to_string();
                assert_eq!(function, "lib.hm.dag.entryAfter");
                let mut entry = Attrs::new();
                entry.set(&["data"], read(&apply.argument().unwrap()));
                entry.set(&["after"], read(&inner.argument().unwrap()));
                entry.set(&["before"], Value::List(Vec::new()));
                Value::Attrs(entry)
            }
            other => Value::code(other.syntax().text().to_string()),
        }
    }

    fn set_of(value: Option<&Value>) -> Attrs {
        match value {
            Some(Value::Attrs(set)) => set.clone(),
            None => Attrs::new(),
            Some(other) => panic!("not a set: {other:?}"),
        }
    }

    fn items(value: &Value) -> Vec<Value> {
        match value {
            Value::List(items) => items.clone(),
            other => vec![other.clone()],
        }
    }

    fn text_of(value: &Value) -> String {
        match value {
            Value::Bool(b) => (if *b { "yes" } else { "no" }).into(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            other => panic!("no text for {other:?}"),
        }
    }

    /// A DAG option's entries in the order Home Manager writes them (a
    /// `"*"` entry last when `star_last`), as (name, data).
    fn dag(set: &Attrs, star_last: bool) -> Vec<(String, Attrs)> {
        let mut entries: Vec<(String, Attrs, Vec<String>)> = Vec::new();
        for e in &set.entries {
            let data = set_of(Some(&e.value));
            match (data.get("data"), data.get("after")) {
                (Some(d), Some(after)) => entries.push((
                    e.name.clone(),
                    set_of(Some(d)),
                    items(after).iter().map(text_of).collect(),
                )),
                _ => entries.push((e.name.clone(), data, Vec::new())),
            }
        }
        let star = if star_last {
            entries
                .iter()
                .position(|e| e.0 == "*")
                .map(|i| entries.remove(i))
        } else {
            None
        };
        let names: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
        let after: Vec<Vec<usize>> = entries
            .iter()
            .map(|e| {
                e.2.iter()
                    .filter_map(|n| names.iter().position(|m| m == n))
                    .collect()
            })
            .collect();
        let mut out: Vec<(String, Attrs)> = hm_order(&names, &after)
            .into_iter()
            .map(|i| (entries[i].0.clone(), entries[i].1.clone()))
            .collect();
        out.extend(star.map(|e| (e.0, e.1)));
        out
    }

    const COMMA: &[&str] = &[
        "CASignatureAlgorithms",
        "Ciphers",
        "HostbasedAcceptedAlgorithms",
        "HostbasedKeyTypes",
        "HostKeyAlgorithms",
        "IgnoreUnknown",
        "KbdInteractiveDevices",
        "KexAlgorithms",
        "MACs",
        "PreferredAuthentications",
        "ProxyJump",
        "PubkeyAcceptedAlgorithms",
        "PubkeyAcceptedKeyTypes",
    ];
    const SPACE: &[&str] = &[
        "CanonicalDomains",
        "CanonicalizePermittedCNAMEs",
        "ChannelTimeout",
        "GlobalKnownHostsFile",
        "PermitRemoteOpen",
        "SendEnv",
        "UserKnownHostsFile",
    ];

    /// `SetEnv NAME="value" ...` as Home Manager writes a set.
    fn set_env_line(set: &Attrs) -> String {
        let mut pairs: Vec<String> = set
            .entries
            .iter()
            .map(|e| {
                let v = text_of(&e.value).replace('\\', "\\\\").replace('"', "\\\"");
                format!("{}=\"{v}\"", e.name)
            })
            .collect();
        pairs.sort();
        pairs.join(" ")
    }

    /// One directive as `sshDirectiveStrWithIndent` writes it (master).
    fn directive_lines(indent: &str, name: &str, value: &Value) -> Vec<String> {
        let values = items(value);
        if COMMA.contains(&name) || SPACE.contains(&name) {
            let sep = if COMMA.contains(&name) { "," } else { " " };
            let joined: Vec<String> = values.iter().map(text_of).collect();
            return vec![format!("{indent}{name} {}", joined.join(sep))];
        }
        if let ("SetEnv", Value::Attrs(set)) = (name, value) {
            return vec![format!("{indent}SetEnv {}", set_env_line(set))];
        }
        values
            .iter()
            .map(|v| format!("{indent}{name} {}", text_of(v)))
            .collect()
    }

    /// ~/.ssh/config as Home Manager master writes it from `programs.ssh`.
    fn render_master(ssh: &Attrs) -> String {
        let mut global: Vec<String> = Vec::new();
        let mut overrides = set_of(ssh.get("extraOptionOverrides")).entries;
        overrides.sort_by(|a, b| a.name.cmp(&b.name));
        for e in &overrides {
            global.extend(directive_lines("", &e.name, &e.value));
        }
        if let Some(includes) = ssh.get("includes") {
            let globs: Vec<String> = items(includes).iter().map(text_of).collect();
            global.push(format!("Include {}", globs.join(" ")));
        }
        let mut sections = Vec::new();
        if !global.is_empty() {
            sections.push(global.join("\n"));
        }
        for (name, data) in dag(&set_of(ssh.get("settings")), true) {
            let header = match data.get("header") {
                Some(h) => text_of(h),
                None if name.starts_with("Host ") || name.starts_with("Match ") => name.clone(),
                None => format!("Host {name}"),
            };
            let mut entries: Vec<_> = data.entries.iter().filter(|e| e.name != "header").collect();
            entries.sort_by_key(|e| (e.name != "IgnoreUnknown", e.name.clone()));
            let mut lines = vec![header];
            for e in entries {
                lines.extend(directive_lines("  ", &e.name, &e.value));
            }
            sections.push(lines.join("\n"));
        }
        sections.join("\n\n") + "\n"
    }

    /// One `matchBlocks` entry as `matchBlockStr` writes it (25.11, or
    /// 25.05 and before when `old`).
    fn legacy_block_text(name: &str, b: &Attrs, old: bool) -> String {
        let get = |f: &str| b.get(f).map(text_of);
        let address = |v: &Value| {
            let s = set_of(Some(v));
            let a = text_of(s.get("address").unwrap());
            match s.get("port") {
                _ if a.starts_with('/') => format!(" {a}"),
                Some(p) => format!(" [{a}]:{}", text_of(p)),
                None => format!(" [{a}]:"),
            }
        };
        let mut lines = vec![match (get("match"), get("host")) {
            (Some(m), _) => format!("Match {m}"),
            (None, Some(h)) => format!("Host {h}"),
            (None, None) => format!("Host {name}"),
        }];
        let mut line = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                lines.push(format!("  {k} {v}"));
            }
        };
        line("Port", get("port"));
        line("ForwardAgent", get("forwardAgent"));
        line("ForwardX11", get("forwardX11").filter(|v| v == "yes"));
        line(
            "ForwardX11Trusted",
            get("forwardX11Trusted").filter(|v| v == "yes"),
        );
        line(
            "IdentitiesOnly",
            get("identitiesOnly").filter(|v| v == "yes"),
        );
        line("User", get("user"));
        line("HostName", get("hostname"));
        line("AddressFamily", get("addressFamily"));
        line(
            "SendEnv",
            b.get("sendEnv")
                .map(|v| items(v).iter().map(text_of).collect::<Vec<_>>().join(" ")),
        );
        line(
            "SetEnv",
            b.get("setEnv").map(|v| set_env_line(&set_of(Some(v)))),
        );
        line(
            "ServerAliveInterval",
            get("serverAliveInterval").filter(|v| !old || v != "0"),
        );
        line(
            "ServerAliveCountMax",
            get("serverAliveCountMax").filter(|v| !old || v != "3"),
        );
        line("Compression", get("compression"));
        line("CheckHostIP", get("checkHostIP").filter(|v| v == "no"));
        line("ProxyCommand", get("proxyCommand"));
        line("ProxyJump", get("proxyJump"));
        for (k, f) in [
            ("AddKeysToAgent", "addKeysToAgent"),
            ("HashKnownHosts", "hashKnownHosts"),
            ("UserKnownHostsFile", "userKnownHostsFile"),
            ("ControlMaster", "controlMaster"),
            ("ControlPath", "controlPath"),
            ("ControlPersist", "controlPersist"),
        ] {
            line(k, get(f).filter(|_| !old));
        }
        for (k, f) in [
            ("IdentityFile", "identityFile"),
            ("IdentityAgent", "identityAgent"),
            ("CertificateFile", "certificateFile"),
        ] {
            for v in b.get(f).map(items).unwrap_or_default() {
                lines.push(format!("  {k} {}", text_of(&v)));
            }
        }
        for (k, f) in [
            ("LocalForward", "localForwards"),
            ("RemoteForward", "remoteForwards"),
        ] {
            for v in b.get(f).map(items).unwrap_or_default() {
                let s = set_of(Some(&v));
                lines.push(format!(
                    "  {k}{}{}",
                    address(s.get("bind").unwrap()),
                    address(s.get("host").unwrap())
                ));
            }
        }
        for v in b.get("dynamicForwards").map(items).unwrap_or_default() {
            lines.push(format!("  DynamicForward{}", address(&v)));
        }
        let mut extra = set_of(b.get("extraOptions")).entries;
        extra.sort_by(|a, b| a.name.cmp(&b.name));
        for e in extra {
            lines.push(format!("  {} {}", e.name, text_of(&e.value)));
        }
        lines.join("\n")
    }

    /// ~/.ssh/config as Home Manager 25.11 (or, `old`, 25.05 and before)
    /// writes it from `programs.ssh`.
    fn render_legacy(ssh: &Attrs, old: bool) -> String {
        let mut head: Vec<String> = Vec::new();
        let mut overrides = set_of(ssh.get("extraOptionOverrides")).entries;
        overrides.sort_by(|a, b| a.name.cmp(&b.name));
        for e in &overrides {
            head.push(format!("{} {}", e.name, text_of(&e.value)));
        }
        if let Some(includes) = ssh.get("includes") {
            let globs: Vec<String> = items(includes).iter().map(text_of).collect();
            head.push(format!("Include {}\n", globs.join(" ")));
        }
        let mut blocks = dag(&set_of(ssh.get("matchBlocks")), !old);
        let star =
            (!old && blocks.last().is_some_and(|b| b.0 == "*")).then(|| blocks.pop().unwrap());
        for (name, data) in &blocks {
            head.push(legacy_block_text(name, data, old));
        }
        let mut out = head.join("\n") + "\n\n";
        if old {
            let top = |f: &str, default: &str| ssh.get(f).map_or(default.to_string(), text_of);
            out.push_str(&format!(
                "Host *\n  ForwardAgent {}\n  AddKeysToAgent {}\n  Compression {}\n  ServerAliveInterval {}\n  ServerAliveCountMax {}\n  HashKnownHosts {}\n  UserKnownHostsFile {}\n  ControlMaster {}\n  ControlPath {}\n  ControlPersist {}\n\n",
                top("forwardAgent", "no"),
                top("addKeysToAgent", "no"),
                top("compression", "no"),
                top("serverAliveInterval", "0"),
                top("serverAliveCountMax", "3"),
                top("hashKnownHosts", "no"),
                top("userKnownHostsFile", "~/.ssh/known_hosts"),
                top("controlMaster", "no"),
                top("controlPath", "~/.ssh/master-%r@%n:%p"),
                top("controlPersist", "no"),
            ));
        } else if let Some((name, data)) = star {
            out.push_str(&legacy_block_text(&name, &data, old));
            out.push('\n');
        }
        let extra = ssh.get("extraConfig").map(text_of).unwrap_or_default();
        out.push_str(&format!("  {}\n", extra.replace('\n', "\n  ")));
        out
    }

    type Scope = BTreeMap<String, Vec<String>>;
    type Meaning = (Scope, Vec<(String, Scope)>);

    /// What ssh makes of a file, in a form where Home Manager's layout
    /// does not show: each scope's values per keyword in order (ssh takes
    /// the first, or all of a list, so only the order within one keyword
    /// counts), forwardings and `SetEnv` as ssh reads them.
    fn meaning(text: &str) -> Meaning {
        let config = parse(text, &mut Vec::new()).unwrap();
        let scope = |directives: &[Directive]| {
            let mut out = Scope::new();
            for d in directives {
                let values: Vec<String> = match d.kind {
                    Some(SendEnv | Include) => d.args.clone(),
                    Some(SetEnv) => {
                        let mut args = d.args.clone();
                        args.sort();
                        vec![args.join(" ")]
                    }
                    Some(Forward) => {
                        vec![d.args.iter().map(|a| spec(a)).collect::<Vec<_>>().join(" ")]
                    }
                    _ => vec![d.raw.clone()],
                };
                out.entry(d.key()).or_default().extend(values);
            }
            // ssh sets up every forwarding, in any order.
            for (key, values) in out.iter_mut() {
                if key.ends_with("forward") {
                    values.sort();
                }
            }
            out
        };
        let blocks = config
            .blocks
            .iter()
            .map(|b| (b.header_text(), scope(&b.directives)))
            .collect();
        (scope(&config.globals), blocks)
    }

    /// A forwarding end as `ssh -G` prints it: `[address]:port`.
    fn spec(s: &str) -> String {
        match s.rsplit_once(':') {
            Some((a, p)) if !s.contains('/') && !s.starts_with('[') => format!("[{a}]:{p}"),
            _ => s.to_string(),
        }
    }

    fn ssh_options(nix_text: &str) -> Attrs {
        let programs = set_of(read_nix(nix_text).get("programs"));
        set_of(programs.get("ssh"))
    }

    /// Migrates `text`, writes ~/.ssh/config from the result as Home
    /// Manager `release` would, and checks that ssh reads the same from
    /// both. Before 25.11 Home Manager's own final `Host *` adds its ten
    /// defaults wherever the file set none of them; those are set aside.
    fn assert_round_trip(text: &str, release: Release) {
        let (nix_text, _) = run(text, release);
        let ssh = ssh_options(&nix_text);
        let old = release < Release::new(25, 11);
        let written = if release >= Release::new(26, 5) {
            render_master(&ssh)
        } else {
            render_legacy(&ssh, old)
        };
        let (mut globals, mut blocks) = meaning(text);
        let (globals_hm, mut blocks_hm) = meaning(&written);
        // Globals Home Manager holds in the final `Host *` (nothing else
        // in these files sets them, so their place does not matter).
        let moved: Vec<String> = globals
            .keys()
            .filter(|k| !globals_hm.contains_key(*k))
            .cloned()
            .collect();
        let mut star = Scope::new();
        for key in moved {
            star.insert(key.clone(), globals.remove(&key).unwrap());
        }
        if old {
            let (header, mut own) = blocks_hm.pop().unwrap();
            assert_eq!(header, "Host *");
            if blocks_hm.len() < blocks.len() {
                star.extend(blocks.pop().unwrap().1);
            }
            own.retain(|k, _| {
                star.contains_key(k)
                    || !TOP_LEVEL.iter().any(|(n, ..)| n.to_ascii_lowercase() == *k)
            });
            assert_eq!(star, own, "{written}");
        } else if !star.is_empty() {
            let last = blocks_hm.last_mut().unwrap();
            assert_eq!(last.0, "Host *");
            if blocks.last().is_none_or(|b| b.0 != "Host *") {
                blocks.push(("Host *".into(), Scope::new()));
            }
            blocks.last_mut().unwrap().1.extend(star);
        }
        assert_eq!(globals, globals_hm, "{written}");
        assert_same_blocks(text, &blocks, &blocks_hm, &written);
    }

    /// The same blocks, and every pair ssh needs in the file's order in
    /// that order (others may move: they cannot apply to one host, or set
    /// nothing in common).
    fn assert_same_blocks(
        text: &str,
        original: &[(String, Scope)],
        written: &[(String, Scope)],
        out: &str,
    ) {
        let mut a = original.to_vec();
        let mut b = written.to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{out}");
        // (Before 25.11 the file's final `Host *` may have become Home
        // Manager's own, set aside by the caller.)
        let mut blocks = parse(text, &mut Vec::new()).unwrap().blocks;
        blocks.truncate(original.len());
        let mut used = vec![false; written.len()];
        let position: Vec<usize> = original
            .iter()
            .map(|block| {
                let p = (0..written.len())
                    .find(|&p| !used[p] && written[p] == *block)
                    .unwrap();
                used[p] = true;
                p
            })
            .collect();
        for j in 0..blocks.len() {
            for i in 0..j {
                if must_precede(&blocks[i], &blocks[j]) {
                    assert!(
                        position[i] < position[j],
                        "{} must precede {}:\n{out}",
                        original[i].0,
                        original[j].0
                    );
                }
            }
        }
    }

    const CONFIG: &str = r#"# Defaults for everything
ForwardAgent no
IgnoreUnknown UseKeychain
UseKeychain yes
Include config.d/*

# GitHub, with its own key
Host github.com gh
  HostName github.com
  User git
  IdentityFile ~/.ssh/github
  IdentityFile "~/.ssh/My Keys/fallback"
  IdentitiesOnly yes

Host *.corp !bastion.corp
  User=corp
  ProxyJump bastion.corp
  LocalForward 8080 localhost:80
  LocalForward [127.0.0.1]:9000 db:5432
  SendEnv LANG LC_*
  SetEnv EDITOR=vim PAGER="less -R"

Host db.corp
  User dba            # second: *.corp came first
  Port 2222

Match host *.corp exec "test -f ~/.corp"
  ProxyCommand ssh -W %h:%p bastion.corp # kept: a command takes the rest

Host *
  ServerAliveInterval 60
  AddKeysToAgent yes
  Frobnicate on
"#;

    #[test]
    fn newest_release_writes_openssh_names_under_settings() {
        let (text, warnings) = run(CONFIG, Release::NEWEST);
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              extraOptionOverrides = {
                # Defaults for everything
                ForwardAgent = false;
                IgnoreUnknown = "UseKeychain";
                UseKeychain = "yes";
              };
              includes = [ "config.d/*" ];
              settings = {
                # GitHub, with its own key
                "github.com gh" = {
                  HostName = "github.com";
                  User = "git";
                  IdentityFile = [ "~/.ssh/github" "\"~/.ssh/My Keys/fallback\"" ];
                  IdentitiesOnly = true;
                };
                "*.corp !bastion.corp" = {
                  User = "corp";
                  ProxyJump = "bastion.corp";
                  LocalForward = [ "8080 localhost:80" "[127.0.0.1]:9000 db:5432" ];
                  SendEnv = "LANG LC_*";
                  SetEnv = {
                    EDITOR = "vim";
                    PAGER = "less -R";
                  };
                };
                "db.corp" = {
                  # second: *.corp came first
                  User = "dba";
                  Port = 2222;
                };
                "Match host *.corp exec \"test -f ~/.corp\"" = lib.hm.dag.entryAfter [ "github.com gh" "db.corp" ] {
                  ProxyCommand = "ssh -W %h:%p bastion.corp # kept: a command takes the rest";
                };
                "*" = {
                  ServerAliveInterval = 60;
                  AddKeysToAgent = true;
                  Frobnicate = "on";
                };
              };
            };
        "#]]
        .assert_eq(&text);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, Some(33));
        assert!(warnings[0]
            .message
            .contains("`Frobnicate` is not an OpenSSH keyword"));
        assert_round_trip(CONFIG, Release::NEWEST);
    }

    #[test]
    fn release_25_11_uses_match_block_fields_and_extra_options() {
        let (text, warnings) = run(CONFIG, Release::new(25, 11));
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              extraOptionOverrides = {
                # Defaults for everything
                ForwardAgent = "no";
                IgnoreUnknown = "UseKeychain";
                UseKeychain = "yes";
              };
              includes = [ "config.d/*" ];
              matchBlocks = {
                # GitHub, with its own key
                "github.com gh" = {
                  hostname = "github.com";
                  user = "git";
                  identityFile = [ "~/.ssh/github" "\"~/.ssh/My Keys/fallback\"" ];
                  identitiesOnly = true;
                };
                "*.corp !bastion.corp" = {
                  user = "corp";
                  proxyJump = "bastion.corp";
                  localForwards = [
                    {
                      bind = {
                        address = "127.0.0.1";
                        port = 9000;
                      };
                      host = {
                        address = "db";
                        port = 5432;
                      };
                    }
                  ];
                  sendEnv = [ "LANG" "LC_*" ];
                  setEnv = {
                    EDITOR = "vim";
                    PAGER = "less -R";
                  };
                  extraOptions.LocalForward = "8080 localhost:80";
                };
                "db.corp" = {
                  # second: *.corp came first
                  user = "dba";
                  port = 2222;
                };
                "Match host *.corp exec \"test -f ~/.corp\"" = lib.hm.dag.entryAfter [ "github.com gh" "db.corp" ] {
                  match = "host *.corp exec \"test -f ~/.corp\"";
                  proxyCommand = "ssh -W %h:%p bastion.corp # kept: a command takes the rest";
                };
                "*" = {
                  serverAliveInterval = 60;
                  addKeysToAgent = "yes";
                  extraOptions.Frobnicate = "on";
                };
              };
            };
        "#]]
        .assert_eq(&text);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_round_trip(CONFIG, Release::new(25, 11));
    }

    #[test]
    fn release_25_05_fills_home_managers_own_final_host_star() {
        let (text, warnings) = run(CONFIG, Release::new(25, 5));
        expect![[r#"
            programs.ssh = {
              enable = true;
              serverAliveInterval = 60;
              addKeysToAgent = "yes";
              extraOptionOverrides = {
                # Defaults for everything
                ForwardAgent = "no";
                IgnoreUnknown = "UseKeychain";
                UseKeychain = "yes";
              };
              includes = [ "config.d/*" ];
              matchBlocks = {
                # GitHub, with its own key
                "github.com gh" = {
                  hostname = "github.com";
                  user = "git";
                  identityFile = [ "~/.ssh/github" "\"~/.ssh/My Keys/fallback\"" ];
                  identitiesOnly = true;
                };
                "*.corp !bastion.corp" = {
                  user = "corp";
                  proxyJump = "bastion.corp";
                  localForwards = [
                    {
                      bind = {
                        address = "127.0.0.1";
                        port = 9000;
                      };
                      host = {
                        address = "db";
                        port = 5432;
                      };
                    }
                  ];
                  sendEnv = [ "LANG" "LC_*" ];
                  setEnv = {
                    EDITOR = "vim";
                    PAGER = "less -R";
                  };
                  extraOptions.LocalForward = "8080 localhost:80";
                };
                "db.corp" = {
                  # second: *.corp came first
                  user = "dba";
                  port = 2222;
                };
                "Match host *.corp exec \"test -f ~/.corp\"" = lib.hm.dag.entryAfter [ "github.com gh" "db.corp" ] {
                  match = "host *.corp exec \"test -f ~/.corp\"";
                  proxyCommand = "ssh -W %h:%p bastion.corp # kept: a command takes the rest";
                };
              };
              extraConfig = "Frobnicate on\n";
            };
        "#]]
        .assert_eq(&text);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[1]
            .message
            .contains("its own `Host *` block, which also sets Compression, ServerAliveCountMax,"));
        assert_round_trip(CONFIG, Release::new(25, 5));
    }

    /// `Host *` first-match-wins against a later, more specific block:
    /// Home Manager would write it last (newest) or first (25.05), so it
    /// takes part in the DAG under another name.
    const ORDER: &str = "Host web*\n  User deploy\nHost *\n  User me\n  ForwardAgent yes\nHost admin.web1\n  User root\nHost api\n  HostName api.internal\n";

    #[test]
    fn blocks_home_manager_would_reorder_are_ordered_with_the_dag() {
        let (newest, _) = run(ORDER, Release::NEWEST);
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              settings = {
                "web*".User = "deploy";
                "Host *" = lib.hm.dag.entryAfter [ "web*" ] {
                  User = "me";
                  ForwardAgent = true;
                };
                "admin.web1".User = "root";
                api.HostName = "api.internal";
              };
            };
        "#]]
        .assert_eq(&newest);
        let (old, _) = run(ORDER, Release::new(24, 11));
        expect![[r#"
            programs.ssh = {
              enable = true;
              matchBlocks = {
                "web*".user = "deploy";
                "*" = lib.hm.dag.entryAfter [ "web*" ] {
                  user = "me";
                  forwardAgent = true;
                };
                "admin.web1".user = "root";
                api.hostname = "api.internal";
              };
            };
        "#]]
        .assert_eq(&old);
        for release in [Release::NEWEST, Release::new(25, 11), Release::new(24, 11)] {
            assert_round_trip(ORDER, release);
        }
    }

    #[test]
    fn home_managers_order_is_nixpkgs_toposort() {
        // The example in Home Manager's modules/lib/dag.nix: a anywhere,
        // b after a and c, c before d, d before e, e anywhere.
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let after = vec![vec![], vec![0, 2], vec![], vec![2], vec![3]];
        let order: Vec<&str> = hm_order(&names, &after)
            .iter()
            .map(|&i| names[i].as_str())
            .collect();
        assert_eq!(order, ["a", "c", "b", "d", "e"]);
    }

    #[test]
    fn globals_nothing_else_sets_go_where_home_manager_puts_them() {
        let text = "ServerAliveInterval 30\nControlMaster auto\nUser me\nHost box\n  User root\n  ControlMaster no\n";
        let (v25_11, _) = run(text, Release::new(25, 11));
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              extraOptionOverrides = {
                ControlMaster = "auto";
                User = "me";
              };
              matchBlocks = {
                box = {
                  user = "root";
                  controlMaster = "no";
                };
                "*".serverAliveInterval = 30;
              };
            };
        "#]]
        .assert_eq(&v25_11);
        let (v25_05, _) = run(text, Release::new(25, 5));
        expect![[r#"
            programs.ssh = {
              enable = true;
              serverAliveInterval = 30;
              extraOptionOverrides = {
                ControlMaster = "auto";
                User = "me";
              };
              matchBlocks.box = {
                user = "root";
                extraOptions.ControlMaster = "no";
              };
            };
        "#]]
        .assert_eq(&v25_05);
        for release in [Release::NEWEST, Release::new(25, 11), Release::new(25, 5)] {
            assert_round_trip(text, release);
        }
    }

    const ODD: &str = r##"HOSTNAME=example.org
Host foo
	user = "a b"
	ProxyJump one
	ProxyJump two
	SetEnv A=1 A=2
	Include ~/.ssh/foo.d/*
	IdentityFile=~/.ssh/id_foo
Host foo
  Port 2200
  LocalCommand echo "#not a comment"
Host # never matches
  User nobody
Host Match
  User m
"##;

    #[test]
    fn repeats_duplicates_and_quoting_stay_as_ssh_reads_them() {
        let (newest, warnings) = run(ODD, Release::NEWEST);
        expect![[r##"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              extraOptionOverrides.HostName = "example.org";
              settings = {
                foo = {
                  User = "\"a b\"";
                  ProxyJump = "one";
                  proxyjump = "two";
                  setenv = "A=1 A=2";
                  Include = "~/.ssh/foo.d/*";
                  IdentityFile = "~/.ssh/id_foo";
                };
                "foo (2)" = {
                  header = "Host foo";
                  Port = 2200;
                  LocalCommand = "echo \"#not a comment\"";
                };
                "# never matches".User = "nobody";
                Match.User = "m";
              };
            };
        "##]]
        .assert_eq(&newest);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0]
            .message
            .contains("`Include ~/.ssh/foo.d/*` in `Host foo`"));
        let (old, _) = run(ODD, Release::new(25, 5));
        expect![[r##"
            programs.ssh = {
              enable = true;
              extraOptionOverrides.HostName = "example.org";
              matchBlocks = {
                foo = {
                  user = "\"a b\"";
                  proxyJump = "one";
                  identityFile = "~/.ssh/id_foo";
                  extraOptions = {
                    ProxyJump = "two";
                    SetEnv = "A=1 A=2";
                    Include = "~/.ssh/foo.d/*";
                  };
                };
                "foo (2)" = {
                  host = "foo";
                  port = 2200;
                  extraOptions.LocalCommand = "echo \"#not a comment\"";
                };
                "# never matches".user = "nobody";
                Match.user = "m";
              };
            };
        "##]]
        .assert_eq(&old);
        for release in [Release::NEWEST, Release::new(25, 11), Release::new(25, 5)] {
            assert_round_trip(ODD, release);
        }
    }

    #[test]
    fn keywords_ignore_unknown_covers_stay_after_it() {
        let text =
            "IgnoreUnknown GSSAPIKeyExchange,UseKeychain\nGSSAPIKeyExchange yes\nUseKeychain yes\n";
        let (newest, warnings) = run(text, Release::NEWEST);
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              extraOptionOverrides = {
                IgnoreUnknown = "GSSAPIKeyExchange,UseKeychain";
                gssapikeyexchange = "yes";
                UseKeychain = "yes";
              };
            };
        "#]]
        .assert_eq(&newest);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (old, _) = run(text, Release::new(25, 11));
        assert!(old.contains("gssapikeyexchange = \"yes\";"), "{old}");
        assert_round_trip(text, Release::NEWEST);
        assert_round_trip(text, Release::new(25, 11));
    }

    #[test]
    fn secrets_are_left_out_with_a_warning() {
        let text = "Host ci\n  User builder\n  SetEnv GITHUB_TOKEN=ghp_0123456789abcdef\n  # token: glpat-abcdef\n  ProxyCommand curl https://me:hunter2@proxy.example/%h\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n  IdentityFile ~/.ssh/id_ci\n";
        let (newest, warnings) = run(text, Release::NEWEST);
        expect![[r#"
            programs.ssh = {
              enable = true;
              enableDefaultConfig = false;
              settings.ci = {
                User = "builder";
                IdentityFile = "~/.ssh/id_ci";
              };
            };
        "#]]
        .assert_eq(&newest);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(5), Some(6)], "{warnings:?}");
        assert!(warnings[3].message.contains("lines 6-8 hold a key"));
        for secret in ["ghp_", "glpat", "hunter2", "b3Blbn"] {
            assert!(!newest.contains(secret), "{secret}");
        }
    }

    #[test]
    fn lines_ssh_refuses_are_refused() {
        for (text, line, message) in [
            ("Host a\n  User\n", 2, "no argument"),
            ("User \"open\n", 1, "unclosed quote"),
            ("Port 0\n", 1, "bad port"),
            ("HostName a b\n", 1, "takes one argument"),
            ("Match foo x\n", 1, "bad Match criterion"),
            ("Match host\n", 1, "needs an argument"),
            ("Match all host x\n", 1, "cannot be combined"),
            ("SetEnv A\n", 1, "NAME=value"),
            ("SendEnv A=1\n", 1, "variable names"),
            ("Host\n", 1, "no argument"),
            ("=yes\n", 1, "keyword"),
        ] {
            let (l, m) = refused(text);
            assert_eq!(l, line, "{text:?}");
            assert!(m.contains(message), "{text:?}: {m}");
        }
    }

    #[test]
    fn arguments_split_as_ssh_splits_them() {
        let split = |s: &str| split_args(s).unwrap();
        assert_eq!(split("a \"b c\" 'd e'").0, ["a", "b c", "d e"]);
        assert_eq!(split("a#b #c"), (vec!["a#b".to_string()], Some(4)));
        assert_eq!(split(r#"\"x\\ y\ z"#).0, ["\"x\\", "y z"]);
        assert_eq!(split("it\\'s \\q").0, ["it's", "\\q"]);
        assert!(split_args("\"open").is_none());
        assert!(glob("*.corp", "DB.corp"));
        assert!(!glob("web?", "web10"));
        assert!(may_overlap(&["*.corp".into()], &["db.corp".into()]));
        assert!(!may_overlap(
            &["*.corp".into(), "!db.corp".into()],
            &["db.corp".into()]
        ));
        assert!(!may_overlap(&["github.com".into()], &["*.corp".into()]));
    }
}
