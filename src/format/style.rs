//! Which style formats a file: the user's setting, else what the project
//! shows it uses, else nixpkgs-fmt.

use rnix::SyntaxKind;

use super::Style;
use crate::syntax;

/// What a project says about its formatter. The caller looks at the files;
/// this module only reads their text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectHints {
    /// An `.alejandra.toml` exists at or above the file.
    pub alejandra_toml: bool,
    /// The formatter named by the nearest flake.nix's `formatter` output.
    pub flake_formatter: Option<Style>,
}

/// The style and why it was chosen (shown in logs and `cim-nix fmt -v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StyleChoice {
    pub style: Style,
    pub reason: &'static str,
}

pub fn choose_style(setting: Option<Style>, hints: &ProjectHints) -> StyleChoice {
    if let Some(style) = setting {
        return StyleChoice {
            style,
            reason: "set by `formatting.style`",
        };
    }
    if hints.alejandra_toml {
        return StyleChoice {
            style: Style::Alejandra,
            reason: "the project has an .alejandra.toml",
        };
    }
    if let Some(style) = hints.flake_formatter {
        return StyleChoice {
            style,
            reason: "named by the `formatter` output of flake.nix",
        };
    }
    StyleChoice {
        style: Style::NixpkgsFmt,
        reason: "the default",
    }
}

/// The style a flake's `formatter` output names, e.g.
/// `formatter.x86_64-linux = nixpkgs.legacyPackages.x86_64-linux.alejandra;`
/// or `formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);`.
pub fn flake_formatter(flake_text: &str) -> Option<Style> {
    let parse = syntax::parse(flake_text);
    let root = parse.syntax()?;
    for node in root.descendants() {
        if node.kind() != SyntaxKind::NODE_ATTRPATH_VALUE {
            continue;
        }
        let Some(path) = node.first_child() else {
            continue;
        };
        let first = path
            .first_child()
            .map(|attr| attr.text().to_string())
            .unwrap_or_default();
        if first != "formatter" {
            continue;
        }
        // The last formatter-like name in the value decides:
        // `pkgs.nixfmt-rfc-style`, `alejandra.defaultPackage.${system}`.
        let mut found = None;
        for token in node
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
        {
            if token.kind() != SyntaxKind::TOKEN_IDENT {
                continue;
            }
            if let Some(style) = style_named(token.text()) {
                found = Some(style);
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
}

fn style_named(name: &str) -> Option<Style> {
    match name {
        "alejandra" => Some(Style::Alejandra),
        "nixpkgs-fmt" => Some(Style::NixpkgsFmt),
        n if n == "nixfmt" || n.starts_with("nixfmt-") => Some(Style::Nixfmt),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formatter_output_names_the_style() {
        let cases = [
            (
                "{ outputs = { nixpkgs, ... }: { formatter.x86_64-linux = nixpkgs.legacyPackages.x86_64-linux.alejandra; }; }",
                Some(Style::Alejandra),
            ),
            (
                "{ outputs = { self, nixpkgs }: let forAll = f: f; in { formatter = forAll (pkgs: pkgs.nixfmt-rfc-style); }; }",
                Some(Style::Nixfmt),
            ),
            (
                "{ outputs = inputs: { formatter = { x86_64-linux = inputs.nixpkgs.legacyPackages.x86_64-linux.nixpkgs-fmt; }; }; }",
                Some(Style::NixpkgsFmt),
            ),
            (
                "{ outputs = { alejandra, ... }: { packages.x86_64-linux.default = alejandra; }; }",
                None,
            ),
            ("{ outputs = _: { }; }", None),
            ("{ broken", None),
        ];
        for (text, expected) in cases {
            assert_eq!(flake_formatter(text), expected, "{text}");
        }
    }

    #[test]
    fn setting_beats_hints_beat_the_default() {
        let hints = ProjectHints {
            alejandra_toml: true,
            flake_formatter: Some(Style::Nixfmt),
        };
        assert_eq!(
            choose_style(Some(Style::NixpkgsFmt), &hints).style,
            Style::NixpkgsFmt
        );
        assert_eq!(choose_style(None, &hints).style, Style::Alejandra);
        let flake_only = ProjectHints {
            alejandra_toml: false,
            flake_formatter: Some(Style::Nixfmt),
        };
        assert_eq!(choose_style(None, &flake_only).style, Style::Nixfmt);
        assert_eq!(
            choose_style(None, &ProjectHints::default()).style,
            Style::NixpkgsFmt
        );
    }
}
