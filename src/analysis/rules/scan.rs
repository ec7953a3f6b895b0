//! What the tree-and-model rules share: one pass over the text that finds
//! every word some rule looks for (so a rule visits only the places that
//! spell its names), the file's option definitions on first use, and small
//! readers of literal values and calls.

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{TextRange, TextSize};

use SyntaxKind::*;

use crate::analysis::modules::{Context, Definition, Modules};
use crate::analysis::names::Names;
use crate::analysis::semantic::{Resolution, SemanticModel};
use crate::diagnostic::Fix;
use crate::syntax::TextEdit;

/// The option names the module rules read: a file that spells none of
/// them is not walked for option definitions.
pub(super) const NEEDLES: &[&str] = &[
    "PermitRootLogin",
    "permitRootLogin",
    "PasswordAuthentication",
    "passwordAuthentication",
    "KbdInteractiveAuthentication",
    "kbdInteractiveAuthentication",
    "challengeResponseAuthentication",
    "PermitEmptyPasswords",
    "X11Forwarding",
    "forwardX11",
    "firewall",
    "editor",
    "wheelNeedsPassword",
    "noPass",
    "NOPASSWD",
    "autologinUser",
    "autoLogin",
    "extraGroups",
    "assword",
    "allowNullPassword",
    "kernelParams",
    "sysctl",
    "sandbox",
    "useSandbox",
    "trusted-users",
    "trustedUsers",
    "require-sigs",
    "requireSignedBinaryCaches",
    "accept-flake-config",
    "allowInsecurePredicate",
    "permittedInsecurePackages",
    "allowUnfree",
    "allowBroken",
    "allow-unsafe-native-code-during-evaluation",
    "extraOptions",
    "openFirewall",
    "listenOptions",
    "tcp://",
    "bind",
    "authentication",
    "substituters",
    "binaryCaches",
];

/// What the last part of a secret's key ends with (lower-cased).
pub(super) const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "psk",
    "privatekey",
    "private_key",
];

/// Every word the families that read the text look for: fetchers and
/// hash keys (`fetch.rs`), builtins and search paths (`eval.rs`), secret
/// keys (`secrets.rs`, added from there), sandbox escapes (`nix.rs`). They
/// are found in one pass, ignoring case; each family checks the token it
/// lands on.
const WORDS: &[&str] = &[
    "fetchurl",
    "fetchzip",
    "fetchTarball",
    "fetchpatch",
    "fetchFrom",
    "fetchgit",
    "fetchsvn",
    "fetchhg",
    "fetchCrate",
    "fetchPypi",
    "md5",
    "sha1",
    "outputHashAlgo",
    "fakeHash",
    "fakeSha",
    "hash",
    "sha256",
    "sha512",
    "getEnv",
    "currentTime",
    "currentSystem",
    "storePath",
    "exec",
    "importNative",
    "<",
    "__noChroot",
    "__impure",
    "readFile",
    "fileContents",
    "toFile",
    "writeText",
    "curlOpts",
    "GIT_SSL_NO_VERIFY",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "StrictHostKeyChecking",
    "knownVulnerabilities",
    "writeShellScript",
    "writeScript",
    "runCommand",
    "writeShellApplication",
    "ExecStart",
    "ExecStop",
    "ExecReload",
    "nixConfig",
    "import",
    "length",
    "elem",
    "concatLists",
    "flatten",
    "foldl",
    "foldr",
    "path",
    "src",
    "toPath",
];

/// [`WORDS`] and the secret keys `security/secrets.rs` looks for.
static WORD_LIST: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| WORDS.iter().chain(SECRET_KEYS).copied().collect());

/// Each of [`WORD_LIST`] by its position.
static WORD_INDEX: std::sync::LazyLock<rustc_hash::FxHashMap<&'static str, usize>> =
    std::sync::LazyLock::new(|| WORD_LIST.iter().enumerate().map(|(i, w)| (*w, i)).collect());

/// [`WORDS`] and then [`NEEDLES`], in one automaton: one pass over a text
/// finds both.
static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    // A DFA: the fastest search for a fixed set of words, built once.
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(WORD_LIST.iter().chain(NEEDLES))
        .expect("the word list is a valid set of patterns")
});

/// The longest of the words, in bytes: how far a change in the text can
/// reach into the words around it.
static LONGEST: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    WORD_LIST
        .iter()
        .chain(NEEDLES)
        .map(|w| w.len())
        .max()
        .unwrap_or(0)
});

/// Where each of [`WORDS`] occurs in a text (any case), from one pass.
pub(super) struct Words {
    /// Where each of [`WORD_LIST`] and then of [`NEEDLES`] starts.
    at: Vec<Vec<usize>>,
    /// Whether the text names one of [`NEEDLES`] (in any case).
    names_options: bool,
}

impl Words {
    pub fn find(text: &str) -> Words {
        Words::find_after(text, None)
    }

    /// The words of `text`, given those of an earlier text of the file:
    /// the words in the part both texts begin with, and in the part they
    /// end with, are taken from there, and only the text between is
    /// searched. A word is a fixed string, so what is found equals a
    /// search of the whole text.
    pub fn find_after(text: &str, earlier: Option<(&str, &Words)>) -> Words {
        let patterns = WORD_LIST.len() + NEEDLES.len();
        let mut at = vec![Vec::new(); patterns];
        match earlier {
            None => search(text, 0, text.len(), &mut at),
            Some((old, words)) => {
                let (new, old_bytes) = (text.as_bytes(), old.as_bytes());
                let prefix = common_prefix(new, old_bytes);
                let most = new.len().min(old.len()) - prefix;
                let suffix = common_suffix(&new[prefix..], &old_bytes[prefix..]).min(most);
                // Words starting before `from` lie in the common start;
                // words starting at or after the common end are the old
                // ones, moved.
                let from = prefix.saturating_sub(*LONGEST);
                let (new_end, old_end) = (new.len() - suffix, old.len() - suffix);
                for (offsets, old_offsets) in at.iter_mut().zip(&words.at) {
                    offsets.extend(old_offsets.iter().take_while(|&&o| o < from));
                }
                search(text, from, new_end, &mut at);
                for (offsets, old_offsets) in at.iter_mut().zip(&words.at) {
                    let kept = old_offsets.partition_point(|&o| o < old_end);
                    offsets.extend(old_offsets[kept..].iter().map(|&o| o - old_end + new_end));
                }
            }
        }
        let needles = &at[WORD_LIST.len()..];
        let names_bind = NEEDLES
            .iter()
            .zip(needles)
            .any(|(n, at)| *n == "bind" && !at.is_empty());
        let mut names_options = NEEDLES
            .iter()
            .zip(needles)
            .any(|(n, at)| *n != "bind" && !at.is_empty());
        // `bind` (Redis's address) is a common word (key bindings, bind
        // mounts): it counts only in a text that names Redis.
        if names_bind && !names_options {
            names_options = text.contains("redis");
        }
        Words { at, names_options }
    }

    /// The offsets where `word` (one of [`WORDS`]) starts, in any case.
    pub fn of(&self, word: &str) -> &[usize] {
        WORD_INDEX.get(word).map_or(&[], |&i| &self.at[i])
    }

    /// Offsets inside every occurrence of `name`: those of the one of
    /// [`WORDS`] that `name` is found by (`fetchFromGitHub` where its
    /// `fetchFrom` is, `cargoHash` where its `hash` is). The token there
    /// must still be checked.
    pub fn within(&self, name: &str) -> &[usize] {
        let word = match name {
            n if WORD_LIST.contains(&n) => n,
            n if n.starts_with("fetchFrom") => "fetchFrom",
            n if n.starts_with("fetchpatch") => "fetchpatch",
            "fetchGit" => "fetchgit",
            n if n.starts_with("fakeSha") => "fakeSha",
            "outputHashAlgo" => "outputHashAlgo",
            n if n.ends_with("Hash") => "hash",
            n if n.starts_with("writeShellScript") => "writeShellScript",
            n if n.starts_with("writeScript") => "writeScript",
            n if n.starts_with("runCommand") => "runCommand",
            n if n.starts_with("ExecStart") => "ExecStart",
            n if n.starts_with("ExecStop") => "ExecStop",
            n if n.starts_with("foldl") => "foldl",
            n if n.starts_with("import") => "import",
            n => n,
        };
        self.of(word)
    }
}

/// How many bytes `a` and `b` begin with alike. Blocks are compared
/// first (a slice comparison is a `memcmp`), then bytes.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let mut n = 0;
    while n + BLOCK <= a.len().min(b.len()) && a[n..n + BLOCK] == b[n..n + BLOCK] {
        n += BLOCK;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` end with alike.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let mut n = 0;
    while n + BLOCK <= a.len().min(b.len())
        && a[a.len() - n - BLOCK..a.len() - n] == b[b.len() - n - BLOCK..b.len() - n]
    {
        n += BLOCK;
    }
    n + a[..a.len() - n]
        .iter()
        .rev()
        .zip(b[..b.len() - n].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Adds to `at` every word that starts in `text[from..to]`, in order.
fn search(text: &str, from: usize, to: usize, at: &mut [Vec<usize>]) {
    let end = (to + *LONGEST).min(text.len());
    for m in FINDER.find_overlapping_iter(&text.as_bytes()[from..end]) {
        let start = from + m.start();
        if start < to {
            if let Some(offsets) = at.get_mut(m.pattern().as_usize()) {
                offsets.push(start);
            }
        }
    }
}

/// What every family reads: the file's option definitions (walked on
/// first use, and only when the text names an option some rule reads),
/// its literal values, and which rules are on.
pub(super) struct Cx<'a> {
    pub modules: std::cell::OnceCell<Modules>,
    pub names: &'a Names<'a>,
    pub value: Value<'a>,
    pub on: &'a (dyn Fn(&str) -> bool + Sync),
    pub root: &'a SyntaxNode,
    pub text: &'a str,
    pub words: std::sync::Arc<Words>,
}

impl<'a> Cx<'a> {
    pub fn new(
        root: &'a SyntaxNode,
        text: &'a str,
        model: &'a SemanticModel,
        names: &'a Names<'a>,
        on: &'a (dyn Fn(&str) -> bool + Sync),
        words: std::sync::Arc<Words>,
    ) -> Cx<'a> {
        Cx {
            modules: std::cell::OnceCell::new(),
            names,
            value: Value { model },
            on,
            root,
            text,
            words,
        }
    }
}

/// Where the options the module rules read live: each rule's paths begin
/// with one of these, and a module's definitions elsewhere (its
/// `environment.etc`, `systemd.services`) are not walked.
const OPTION_ROOTS: &[&str] = &[
    "boot",
    "networking",
    "nix",
    "nixpkgs",
    "security",
    "services",
    "users",
    "virtualisation",
];

impl Cx<'_> {
    pub fn modules(&self) -> &Modules {
        self.modules.get_or_init(|| {
            if self.words.names_options {
                Modules::of_file_under(
                    self.root,
                    self.text,
                    self.names,
                    Context::System,
                    OPTION_ROOTS,
                )
            } else {
                Modules::default()
            }
        })
    }
}

/// The items of a list expression.
pub(super) fn items(list: &SyntaxNode) -> Vec<SyntaxNode> {
    if list.kind() != NODE_LIST {
        return Vec::new();
    }
    list.children().collect()
}

/// The value of the plain key `name` in a set expression.
pub(super) fn member_of(set: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    if set.kind() != NODE_ATTR_SET {
        return None;
    }
    set.children()
        .filter(|m| m.kind() == NODE_ATTRPATH_VALUE)
        .find(|m| {
            m.first_child().is_some_and(|path| {
                path.children().count() == 1
                    && path
                        .first_child()
                        .and_then(|a| crate::analysis::semantic::static_attr_name(&a))
                        .is_some_and(|n| n == name)
            })
        })
        .and_then(|m| m.last_child())
}

/// The text of a string literal without interpolations.
pub(super) fn string_of(node: &SyntaxNode) -> Option<String> {
    let interpolated = node.children().any(|c| c.kind() == NODE_INTERPOL);
    string_prefix(node).filter(|_| !interpolated)
}

/// The value of an integer literal.
pub(super) fn integer_of(node: &SyntaxNode) -> Option<i64> {
    if node.kind() != NODE_LITERAL {
        return None;
    }
    let token = node.first_token().filter(|t| t.kind() == TOKEN_INTEGER)?;
    token.text().parse().ok()
}

/// A fix that replaces the definition's value, offered but not preferred.
pub(super) fn replace(d: &Definition, with: &str, title: &str) -> Fix {
    Fix {
        title: title.to_string(),
        edits: vec![TextEdit::replace(d.value.text_range(), with.to_string())],
        preferred: false,
    }
}

/// Literal values, as the semantic model sees their names.
pub(super) struct Value<'a> {
    pub model: &'a SemanticModel,
}

impl Value<'_> {
    /// `true` or `false`, when the value is one of them (and the name is
    /// the builtin, not a local binding).
    pub fn bool(&self, d: &Definition) -> Option<bool> {
        self.bool_of(&d.value)
    }

    pub fn is_true(&self, node: &SyntaxNode) -> bool {
        self.bool_of(node) == Some(true)
    }

    /// Whether the value is the builtin `null`.
    pub fn is_null(&self, node: &SyntaxNode) -> bool {
        self.builtin_constant(node) == Some("null")
    }

    /// `true`, `false` or `null`, when `node` names that builtin (not a
    /// local binding of the same name).
    fn builtin_constant(&self, node: &SyntaxNode) -> Option<&'static str> {
        if node.kind() != NODE_IDENT {
            return None;
        }
        let range: TextRange = node.text_range();
        let at = self
            .model
            .refs
            .partition_point(|r| r.range.start() < range.start());
        let r = self.model.refs.get(at).filter(|r| r.range == range)?;
        if r.resolution != Resolution::Builtin {
            return None;
        }
        ["true", "false", "null"]
            .into_iter()
            .find(|c| node.text() == *c)
    }

    pub fn bool_of(&self, node: &SyntaxNode) -> Option<bool> {
        match self.builtin_constant(node)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The text of a string value without interpolations.
    pub fn string(&self, d: &Definition) -> Option<String> {
        string_of(&d.value)
    }
}

/// Every expression that names `name`: the identifier `name`, or a
/// selection `e.name` (whose last attribute it is), found from the word
/// pass.
pub(super) fn expressions_named(cx: &Cx<'_>, name: &str) -> Vec<SyntaxNode> {
    let mut out = Vec::new();
    for &at in cx.words.within(name) {
        let Ok(offset) = TextSize::try_from(at) else {
            continue;
        };
        let Some(token) = crate::syntax::token_at(cx.root, offset) else {
            continue;
        };
        // `__length` is `length` too (a builtin's other spelling).
        let spelled = token.text();
        if token.kind() != TOKEN_IDENT
            || (spelled != name && spelled.strip_prefix("__") != Some(name))
        {
            continue;
        }
        let Some(ident) = token.parent() else {
            continue;
        };
        match ident.parent() {
            Some(path) if path.kind() == NODE_ATTRPATH => {
                let select = path.parent().filter(|s| s.kind() == NODE_SELECT);
                if let Some(select) = select.filter(|_| path.last_child() == Some(ident)) {
                    out.push(select);
                }
            }
            _ => out.push(ident),
        }
    }
    out
}

pub(super) fn strip(node: &SyntaxNode) -> SyntaxNode {
    let mut node = node.clone();
    while node.kind() == NODE_PAREN {
        match node.first_child() {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// Every `key = value;` of the file whose path is the single name `key`.
pub(super) fn bindings_named<'a>(
    cx: &'a Cx<'_>,
    key: &'a str,
) -> impl Iterator<Item = SyntaxNode> + 'a {
    cx.words.within(key).iter().filter_map(move |&at| {
        let offset = TextSize::try_from(at).ok()?;
        let token = crate::syntax::token_at(cx.root, offset)?;
        if token.kind() != TOKEN_IDENT || token.text() != key {
            return None;
        }
        let path = token
            .parent()?
            .parent()
            .filter(|p| p.kind() == NODE_ATTRPATH)?;
        if path.children().count() != 1 {
            return None;
        }
        path.parent().filter(|b| b.kind() == NODE_ATTRPATH_VALUE)
    })
}

/// The token of the file at a word's offset.
pub(super) fn token_at(cx: &Cx<'_>, at: usize) -> Option<rnix::SyntaxToken> {
    let offset = rowan::TextSize::try_from(at).ok()?;
    crate::syntax::token_at(cx.root, offset)
}

/// The function at the head of a call `f a b` (through parentheses):
/// `None` when `call` is not an application.
pub(super) fn call_head(call: &SyntaxNode) -> Option<SyntaxNode> {
    if call.kind() != NODE_APPLY {
        return None;
    }
    let mut head = call.clone();
    while head.kind() == NODE_APPLY {
        head = strip(&head.first_child()?);
    }
    Some(head)
}

/// The name of the function a call calls: `writeText` of `pkgs.writeText
/// "a" "b"`.
pub(super) fn callee_name(call: &SyntaxNode) -> Option<String> {
    last_name_of(&call_head(call)?)
}

/// The name an expression ends in: `x` of `x` and of `a.b.x`.
pub(super) fn last_name_of(expr: &SyntaxNode) -> Option<String> {
    match expr.kind() {
        NODE_IDENT => Some(expr.text().to_string()),
        NODE_SELECT => {
            let attr = expr.last_child()?.last_child()?;
            crate::analysis::semantic::static_attr_name(&attr).map(|n| n.to_string())
        }
        NODE_PAREN => last_name_of(&strip(expr)),
        _ => None,
    }
}

/// Whether `node` is inside the `example` of an option declaration
/// (`mkOption { example = { token = "..."; }; }`): documentation, not
/// configuration.
pub(super) fn in_option_example(node: &SyntaxNode) -> bool {
    node.ancestors()
        .filter(|a| a.kind() == NODE_ATTRPATH_VALUE)
        .filter_map(|b| b.first_child())
        .filter_map(|path| path.last_child())
        .any(|key| key.text() == "example")
}

/// The arguments `function` is applied to, in order (`f a b`: `a`, then
/// `b`), without their parentheses.
pub(super) fn arguments(function: &SyntaxNode) -> Vec<SyntaxNode> {
    let mut out = Vec::new();
    let mut head = function.clone();
    loop {
        // `(import <nixpkgs>) { }`: through parentheses around the head.
        while let Some(paren) = head.parent().filter(|p| p.kind() == NODE_PAREN) {
            head = paren;
        }
        let Some(apply) = head
            .parent()
            .filter(|a| a.kind() == NODE_APPLY && a.first_child().as_ref() == Some(&head))
        else {
            break;
        };
        match apply.last_child().filter(|a| a != &head) {
            Some(argument) => out.push(strip(&argument)),
            None => break,
        }
        head = apply;
    }
    out
}

/// Calls of the function `name` (one of [`WORDS`]), with their arguments:
/// the builtin or `lib` function of that name however it is reached, or
/// nixpkgs' (`pkgs.writeText`, a package's `{ writeText }:` argument);
/// not a function this file binds to the name itself.
pub(super) fn calls_named(cx: &Cx<'_>, name: &str) -> Vec<(SyntaxNode, Vec<SyntaxNode>)> {
    let mut out = Vec::new();
    for function in expressions_named(cx, name) {
        let args = arguments(&function);
        if args.is_empty() {
            continue;
        }
        if cx.names.of(&function).is_none() && is_local_function(cx.names, &function) {
            continue;
        }
        out.push((function, args));
    }
    out
}

/// Whether a plain name is bound by a `let` (or `rec`) in this file: then
/// it is that binding, not the global function of that name.
pub(super) fn is_local_function(names: &Names<'_>, function: &SyntaxNode) -> bool {
    function.kind() == NODE_IDENT && names.is_let_bound(function)
}

/// The binding `... key = value;` whose key ends at the identifier or
/// quoted name `token` (`serviceConfig.ExecStart`, `"curlOpts"`).
pub(super) fn binding_keyed_by(token: &rnix::SyntaxToken) -> Option<SyntaxNode> {
    let attr = match token.kind() {
        TOKEN_IDENT => token.parent(),
        TOKEN_STRING_CONTENT => token.parent().filter(|s| s.kind() == NODE_STRING),
        _ => None,
    }?;
    let path = attr.parent().filter(|p| p.kind() == NODE_ATTRPATH)?;
    if path.last_child().as_ref() != Some(&attr) {
        return None;
    }
    path.parent().filter(|b| b.kind() == NODE_ATTRPATH_VALUE)
}

/// The lines of a string's literal parts, each with its range (text
/// between interpolations is read as it is written).
pub(super) fn string_lines(node: &SyntaxNode) -> Vec<(String, TextRange)> {
    // In a `"..."` string a line break is usually written `\n`.
    let escaped = node
        .first_token()
        .is_some_and(|t| t.kind() == TOKEN_STRING_START && t.text() == "\"");
    let mut out = Vec::new();
    for part in node.children_with_tokens() {
        let Some(token) = part.as_token().filter(|t| t.kind() == TOKEN_STRING_CONTENT) else {
            continue;
        };
        let start = token.text_range().start();
        let mut offset = 0usize;
        let text = token.text();
        let mut rest = text;
        while !rest.is_empty() {
            let (end, skip) = match (rest.find('\n'), escaped.then(|| rest.find("\\n")).flatten()) {
                (Some(a), Some(b)) if b < a => (b, 2),
                (Some(a), _) => (a, 1),
                (None, Some(b)) => (b, 2),
                (None, None) => (rest.len(), 0),
            };
            let line = &rest[..end];
            let content = line.trim_end();
            let indent = content.len() - content.trim_start().len();
            let content = content.trim_start();
            let at = start + TextSize::from((offset + indent) as u32);
            let range = TextRange::at(at, TextSize::from(content.len() as u32));
            out.push((content.to_string(), range));
            offset += end + skip;
            rest = &rest[end + skip..];
        }
    }
    out
}

/// The literal text a string starts with, up to its first interpolation
/// (`"http://example.org/${name}"` starts with `http://example.org/`).
pub(super) fn string_prefix(node: &SyntaxNode) -> Option<String> {
    if node.kind() != NODE_STRING {
        return None;
    }
    let mut out = String::new();
    for part in node.children_with_tokens() {
        match part.kind() {
            TOKEN_STRING_CONTENT => out.push_str(part.as_token()?.text()),
            TOKEN_STRING_START => {}
            _ => break,
        }
    }
    Some(out)
}

/// A value without the `lib` wrappers that only set its priority or
/// order (`mkForce v`, `lib.mkDefault v`, `mkOverride 50 v`) or its
/// parentheses.
pub(super) fn unwrap_value(node: &SyntaxNode) -> SyntaxNode {
    let mut node = strip(node);
    for _ in 0..8 {
        let Some(name) = callee_name(&node) else {
            break;
        };
        let wrapper = matches!(
            name.as_str(),
            "mkForce" | "mkDefault" | "mkOverride" | "mkOptionDefault" | "mkBefore" | "mkAfter"
        );
        match node.last_child().filter(|_| wrapper) {
            Some(value) => node = strip(&value),
            None => break,
        }
    }
    node
}

/// The settings of a flake's top-level `nixConfig` (written nested or
/// dotted), each with its value.
pub(super) fn flake_config(root: &SyntaxNode) -> Vec<(String, SyntaxNode)> {
    let Some(set) = root.first_child().map(|e| strip(&e)) else {
        return Vec::new();
    };
    if set.kind() != NODE_ATTR_SET || member_of(&set, "outputs").is_none() {
        return Vec::new();
    }
    let name = |attr: &SyntaxNode| {
        crate::analysis::semantic::static_attr_name(attr).map(|n| n.to_string())
    };
    let mut out = Vec::new();
    for binding in set.children().filter(|m| m.kind() == NODE_ATTRPATH_VALUE) {
        let Some(path) = binding.first_child() else {
            continue;
        };
        let attrs: Vec<SyntaxNode> = path.children().collect();
        let Some(value) = binding.last_child().filter(|v| v != &path) else {
            continue;
        };
        if attrs.first().and_then(name).as_deref() != Some("nixConfig") {
            continue;
        }
        match attrs.as_slice() {
            [_] if value.kind() == NODE_ATTR_SET => {
                for inner in value.children().filter(|m| m.kind() == NODE_ATTRPATH_VALUE) {
                    let key = inner
                        .first_child()
                        .filter(|p| p.children().count() == 1)
                        .and_then(|p| p.first_child())
                        .and_then(|a| name(&a));
                    if let (Some(key), Some(v)) = (key, inner.last_child()) {
                        out.push((key, v));
                    }
                }
            }
            [_, key] => {
                if let Some(key) = name(key) {
                    out.push((key, value));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the families look up is found by some word of the pass.
    #[test]
    fn every_looked_up_name_is_found_by_a_word() {
        let names = super::super::security::CONTENT_FETCHERS
            .iter()
            .chain(super::super::security::ALSO_LOOKED_UP)
            .chain(super::super::security::HASH_VALUE_KEYS)
            .chain(&["getEnv", "currentTime", "currentSystem", "storePath"])
            .chain(&["exec", "importNative", "__noChroot", "__impure", "<"]);
        for name in names {
            // One offset, inside the name: the token there is the name.
            let words = Words::find(name);
            let found = words.within(name);
            assert!(
                found.len() == 1 && found[0] < name.len(),
                "{name}: {found:?}"
            );
        }
        assert!(Words::find("networking.firewall.enable").names_options);
        assert!(!Words::find("{ a = 1; }").names_options);
    }

    #[test]
    fn words_found_after_an_edit_equal_a_fresh_search() {
        let text = "let src = fetchurl { sha256 = \"x\"; }; in FETCHURL fetchurl\n\
                    # bind redis sandbox = false;\n  hashes = sha256;\n";
        let pieces = [
            "", "x", "fetch", "url", "sha", "256", "\n", "FetchUrl", "bind", "redi",
        ];
        let old = Words::find(text);
        for start in 0..=text.len() {
            for end in start..=(start + 6).min(text.len()) {
                for piece in pieces {
                    let mut new = text.to_string();
                    new.replace_range(start..end, piece);
                    let after = Words::find_after(&new, Some((text, &old)));
                    let fresh = Words::find(&new);
                    let context = format!("{start}..{end} -> {piece:?}");
                    assert_eq!(after.at, fresh.at, "{context}");
                    assert_eq!(after.names_options, fresh.names_options, "{context}");
                }
            }
        }
    }
}
