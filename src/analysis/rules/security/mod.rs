//! Security: NixOS settings that open a machine up, found through the
//! module model (`analysis::modules`), so each is caught however the
//! option is written. A finding points at the offending value.
//!
//! Fixes change what the machine does (a root login by password stops
//! working), so none is offered as the preferred one: `check --fix` never
//! applies them, an editor offers them.

mod accounts;
mod boot;
mod eval;
mod fetch;
mod network;
mod nix;
mod secrets;
mod ssh;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;

use SyntaxKind::*;

use crate::analysis::modules::{Context, Definition, Modules};
use crate::analysis::names::Names;
use crate::analysis::semantic::{Resolution, SemanticModel};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::TextEdit;

/// The option names the module rules read: a file that spells none of
/// them is not walked for option definitions.
const NEEDLES: &[&str] = &[
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
];

/// Every security rule of this folder.
const RULES: &[&str] = &[
    SSH_ROOT_LOGIN,
    SSH_PASSWORD_AUTH,
    FIREWALL_OFF,
    FIREWALL_SENSITIVE_PORT,
    BOOT_EDITOR,
    WEAK_KERNEL_PARAMS,
    SUDO_NOPASSWD,
    AUTOLOGIN_ROOT,
    ROOT_EQUIVALENT_GROUP,
    EMPTY_PASSWORD,
    SANDBOX_ESCAPE,
    NIX_TRUST,
    INSECURE_PACKAGES_ALLOWED,
    FETCH_NO_HASH,
    FETCH_UNPINNED_REF,
    WEAK_HASH,
    FAKE_HASH,
    IMPURE_EVAL,
    UNSAFE_NATIVE_EVAL,
    SECRET_IN_STORE,
    HASHED_PASSWORD_IN_STORE,
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
];

/// [`WORDS`] and the secret keys `secrets.rs` looks for.
static WORD_LIST: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| WORDS.iter().chain(secrets::SECRET_KEYS).copied().collect());

/// [`WORDS`] and then [`NEEDLES`], in one automaton: one pass over a text
/// finds both.
static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(WORD_LIST.iter().chain(NEEDLES))
        .expect("the word list is a valid set of patterns")
});

/// Where each of [`WORDS`] occurs in a text (any case), from one pass.
pub(super) struct Words {
    at: Vec<Vec<usize>>,
    /// Whether the text names one of [`NEEDLES`] (in any case).
    names_options: bool,
}

impl Words {
    fn find(text: &str) -> Words {
        let mut at = vec![Vec::new(); WORD_LIST.len()];
        let mut names_options = false;
        for m in FINDER.find_overlapping_iter(text) {
            match at.get_mut(m.pattern().as_usize()) {
                Some(offsets) => offsets.push(m.start()),
                None => names_options = true,
            }
        }
        Words { at, names_options }
    }

    /// The offsets where `word` (one of [`WORDS`]) starts, in any case.
    pub fn of(&self, word: &str) -> &[usize] {
        WORD_LIST
            .iter()
            .position(|w| *w == word)
            .map_or(&[], |i| &self.at[i])
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
            n => n,
        };
        self.of(word)
    }
}

/// What every family reads: the file's option definitions (walked on
/// first use, and only when the text names an option some rule reads),
/// its literal values, and which rules are on.
pub(super) struct Cx<'a> {
    modules: std::cell::OnceCell<Modules>,
    names: &'a Names<'a>,
    pub value: Value<'a>,
    pub on: &'a (dyn Fn(&str) -> bool + Sync),
    pub root: &'a SyntaxNode,
    pub text: &'a str,
    pub words: Words,
}

impl Cx<'_> {
    pub fn modules(&self) -> &Modules {
        self.modules.get_or_init(|| {
            if self.words.names_options {
                Modules::of_file(self.root, self.text, self.names, Context::System)
            } else {
                Modules::default()
            }
        })
    }
}

pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    if !RULES.iter().any(|r| on(r)) {
        return Vec::new();
    }
    let names = Names::new(root, model);
    let cx = Cx {
        modules: std::cell::OnceCell::new(),
        names: &names,
        value: Value { model },
        on,
        root,
        text,
        words: Words::find(text),
    };
    let mut found = Vec::new();
    ssh::check(&cx, &mut found);
    network::check(&cx, &mut found);
    boot::check(&cx, &mut found);
    accounts::check(&cx, &mut found);
    nix::check(&cx, &mut found);
    fetch::check(&cx, &names, &mut found);
    eval::check(&cx, &names, &mut found);
    secrets::check(&cx, &mut found);
    found
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
    if node.kind() != NODE_STRING {
        return None;
    }
    let mut out = String::new();
    for part in node.children_with_tokens() {
        match part.kind() {
            TOKEN_STRING_CONTENT => out.push_str(part.as_token()?.text()),
            TOKEN_STRING_START | TOKEN_STRING_END => {}
            _ => return None,
        }
    }
    Some(out)
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
    model: &'a SemanticModel,
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

    pub fn bool_of(&self, node: &SyntaxNode) -> Option<bool> {
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
        match node.text().to_string().as_str() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the families look up is found by some word of the pass.
    #[test]
    fn every_looked_up_name_is_found_by_a_word() {
        let names = fetch::CONTENT_FETCHERS
            .iter()
            .chain(fetch::ALSO_LOOKED_UP)
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
}
