//! Each rule's documentation page (doc/rules/NAME.md), built into the
//! binary for `cim-nix explain`.

/// Where cim-nix's source and documentation live.
pub const REPOSITORY: &str = "https://github.com/cim-nix/cim-nix";

/// The web address of a rule's page.
pub fn page_url(rule: &str) -> String {
    format!("{REPOSITORY}/blob/main/doc/rules/{rule}.md")
}

/// The doc page of the rule `name`.
pub fn page(name: &str) -> Option<&'static str> {
    Some(match name {
        "syntax-error" => include_str!("../../doc/rules/syntax-error.md"),
        "analysis-limit" => include_str!("../../doc/rules/analysis-limit.md"),
        "internal-error" => include_str!("../../doc/rules/internal-error.md"),
        "unused-let" => include_str!("../../doc/rules/unused-let.md"),
        "unused-lambda-arg" => include_str!("../../doc/rules/unused-lambda-arg.md"),
        "unused-pattern-field" => include_str!("../../doc/rules/unused-pattern-field.md"),
        "unused-pattern-bind" => include_str!("../../doc/rules/unused-pattern-bind.md"),
        "unused-with" => include_str!("../../doc/rules/unused-with.md"),
        "unused-rec" => include_str!("../../doc/rules/unused-rec.md"),
        "undefined-name" => include_str!("../../doc/rules/undefined-name.md"),
        "duplicate-key" => include_str!("../../doc/rules/duplicate-key.md"),
        "duplicate-param" => include_str!("../../doc/rules/duplicate-param.md"),
        "dynamic-attr-in-let" => include_str!("../../doc/rules/dynamic-attr-in-let.md"),
        "rec-merge" => include_str!("../../doc/rules/rec-merge.md"),
        "legacy-let" => include_str!("../../doc/rules/legacy-let.md"),
        "uri-literal" => include_str!("../../doc/rules/uri-literal.md"),
        "deprecated-to-path" => include_str!("../../doc/rules/deprecated-to-path.md"),
        "flake-input-not-locked" => include_str!("../../doc/rules/flake-input-not-locked.md"),
        "flake-lock-stale" => include_str!("../../doc/rules/flake-lock-stale.md"),
        "flake-lock-outdated" => include_str!("../../doc/rules/flake-lock-outdated.md"),
        "flake-lock-invalid" => include_str!("../../doc/rules/flake-lock-invalid.md"),
        "flake-outputs-missing-input" => {
            include_str!("../../doc/rules/flake-outputs-missing-input.md")
        }
        "flake-input-invalid" => include_str!("../../doc/rules/flake-input-invalid.md"),
        "flake-input-follows-nixpkgs" => {
            include_str!("../../doc/rules/flake-input-follows-nixpkgs.md")
        }
        "insecure-url" => include_str!("../../doc/rules/insecure-url.md"),
        "ssh-root-login" => include_str!("../../doc/rules/ssh-root-login.md"),
        "ssh-password-auth" => include_str!("../../doc/rules/ssh-password-auth.md"),
        "firewall-off" => include_str!("../../doc/rules/firewall-off.md"),
        "boot-editor" => include_str!("../../doc/rules/boot-editor.md"),
        "sudo-nopasswd" => include_str!("../../doc/rules/sudo-nopasswd.md"),
        "autologin-root" => include_str!("../../doc/rules/autologin-root.md"),
        "firewall-sensitive-port" => include_str!("../../doc/rules/firewall-sensitive-port.md"),
        "root-equivalent-group" => include_str!("../../doc/rules/root-equivalent-group.md"),
        "empty-password" => include_str!("../../doc/rules/empty-password.md"),
        "weak-kernel-params" => include_str!("../../doc/rules/weak-kernel-params.md"),
        "sandbox-escape" => include_str!("../../doc/rules/sandbox-escape.md"),
        "nix-trust" => include_str!("../../doc/rules/nix-trust.md"),
        "insecure-packages-allowed" => include_str!("../../doc/rules/insecure-packages-allowed.md"),
        "fetch-no-hash" => include_str!("../../doc/rules/fetch-no-hash.md"),
        "fetch-unpinned-ref" => include_str!("../../doc/rules/fetch-unpinned-ref.md"),
        "weak-hash" => include_str!("../../doc/rules/weak-hash.md"),
        "fake-hash" => include_str!("../../doc/rules/fake-hash.md"),
        "impure-eval" => include_str!("../../doc/rules/impure-eval.md"),
        "unsafe-native-eval" => include_str!("../../doc/rules/unsafe-native-eval.md"),
        "secret-in-store" => include_str!("../../doc/rules/secret-in-store.md"),
        "hashed-password-in-store" => include_str!("../../doc/rules/hashed-password-in-store.md"),
        "flake-input-unused" => include_str!("../../doc/rules/flake-input-unused.md"),
        "tls-verify-off" => include_str!("../../doc/rules/tls-verify-off.md"),
        "secret-readfile" => include_str!("../../doc/rules/secret-readfile.md"),
        "exposed-daemon" => include_str!("../../doc/rules/exposed-daemon.md"),
        "silenced-vulnerabilities" => include_str!("../../doc/rules/silenced-vulnerabilities.md"),
        "shell-injection" => include_str!("../../doc/rules/shell-injection.md"),
        "reimport-nixpkgs" => include_str!("../../doc/rules/reimport-nixpkgs.md"),
        "import-from-derivation" => include_str!("../../doc/rules/import-from-derivation.md"),
        "quadratic-fold" => include_str!("../../doc/rules/quadratic-fold.md"),
        "concat-map" => include_str!("../../doc/rules/concat-map.md"),
        "length-compare-zero" => include_str!("../../doc/rules/length-compare-zero.md"),
        "elem-attr-names" => include_str!("../../doc/rules/elem-attr-names.md"),
        "pkgs-path" => include_str!("../../doc/rules/pkgs-path.md"),
        "src-whole-dir" => include_str!("../../doc/rules/src-whole-dir.md"),
        "hm-unknown-option" => include_str!("../../doc/rules/hm-unknown-option.md"),
        "hm-renamed-option" => include_str!("../../doc/rules/hm-renamed-option.md"),
        "hm-removed-option" => include_str!("../../doc/rules/hm-removed-option.md"),
        "hm-changed-option" => include_str!("../../doc/rules/hm-changed-option.md"),
        "hm-deprecated-option" => include_str!("../../doc/rules/hm-deprecated-option.md"),
        "repeated-import" => include_str!("../../doc/rules/repeated-import.md"),
        "top-level-with" => include_str!("../../doc/rules/top-level-with.md"),
        "bool-comparison" => include_str!("../../doc/rules/bool-comparison.md"),
        "empty-let-in" => include_str!("../../doc/rules/empty-let-in.md"),
        "manual-inherit" => include_str!("../../doc/rules/manual-inherit.md"),
        "manual-inherit-from" => include_str!("../../doc/rules/manual-inherit-from.md"),
        "collapsible-let-in" => include_str!("../../doc/rules/collapsible-let-in.md"),
        "eta-reduction" => include_str!("../../doc/rules/eta-reduction.md"),
        "useless-parens" => include_str!("../../doc/rules/useless-parens.md"),
        "empty-pattern" => include_str!("../../doc/rules/empty-pattern.md"),
        "redundant-pattern-bind" => include_str!("../../doc/rules/redundant-pattern-bind.md"),
        "empty-inherit" => include_str!("../../doc/rules/empty-inherit.md"),
        "bool-simplification" => include_str!("../../doc/rules/bool-simplification.md"),
        "useless-has-attr" => include_str!("../../doc/rules/useless-has-attr.md"),
        "repeated-keys" => include_str!("../../doc/rules/repeated-keys.md"),
        "empty-list-concat" => include_str!("../../doc/rules/empty-list-concat.md"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_has_a_page_that_names_it() {
        for rule in super::super::registry::RULES {
            let page =
                super::page(rule.name).unwrap_or_else(|| panic!("no page for {}", rule.name));
            assert!(
                page.contains(rule.name),
                "the page of {} does not name it",
                rule.name
            );
            assert!(
                page.contains("## Bad")
                    || rule.name == "internal-error"
                    || rule.name == "analysis-limit",
                "{} has no bad example",
                rule.name
            );
        }
    }
}
