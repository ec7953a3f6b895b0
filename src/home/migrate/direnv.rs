//! direnv's two files into `programs.direnv`, told apart by name:
//! `direnv.toml` becomes `config` (TOML read as starship's is, see
//! [`super::starship`]), `direnvrc` (or `~/.direnvrc`) becomes `stdlib`, its
//! text. In `direnvrc`, loading nix-direnv (`source .../nix-direnv/direnvrc`,
//! or `source_url` of its direnvrc, alone or in the `if ! has
//! nix_direnv_version ...; then ... fi` block of its README) becomes
//! `nix-direnv.enable = true`: Home Manager then puts nix-direnv in
//! `direnv/lib/`, which direnv loads before `direnvrc`.
//!
//! `enable` is always set: direnv's shell hook comes with it
//! (`enable{Bash,Zsh,Fish,Nushell}Integration`).

use super::nix::{Attrs, Value};
use super::starship::{read_toml, Strings};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// Where the secrets left out of `direnvrc` go: a file Home Manager does
/// not manage, which the migrated `stdlib` sources when it exists.
pub const SECRETS_FILE: &str = "~/.config/direnv/secrets";

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    let name = source.path.rsplit(['/', '\\']).next().unwrap_or("");
    let warnings = if name.ends_with(".toml") {
        let toml = read_toml(
            source,
            Strings::AsIs,
            "direnv.toml has no include: keep it out of the configuration",
        )?;
        if !toml.settings.is_empty() {
            out.set(&["config"], Value::Attrs(toml.settings));
        }
        toml.warnings
    } else {
        stdlib(source.text, &mut out)
    };
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// `direnvrc` into `stdlib`, but for the lines that load nix-direnv and
/// those that set a secret.
fn stdlib(text: &str, out: &mut Attrs) -> Vec<Warning> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut kept = String::new();
    let mut warnings = Vec::new();
    let mut nix_direnv = false;
    let mut secrets = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(length) = nix_direnv_loader(&lines[i..]) {
            nix_direnv = true;
            i += length;
            continue;
        }
        if let Some(name) = secret_assignment(line) {
            if !secrets {
                // Sourced where the first secret was set, so later lines
                // see the variables as before.
                kept.push_str(&format!(
                    "if [[ -f \"$HOME/{0}\" ]]; then source \"$HOME/{0}\"; fi\n",
                    SECRETS_FILE.trim_start_matches("~/")
                ));
                secrets = true;
            }
            warnings.push(Warning {
                line: Some(i + 1),
                message: format!(
                    "`{name}` looks like a secret: left out, because what Home Manager writes is readable by every user in /nix/store; move the line to {SECRETS_FILE} (not managed by Home Manager), which the migrated direnvrc sources"
                ),
            });
            i += 1;
            continue;
        }
        // A line of only spaces or tabs is written empty: the Nix string
        // writer cannot keep it, and bash reads both alike.
        if line.trim().is_empty() {
            kept.push_str(&line[line.trim_end_matches(['\n', '\r']).len()..]);
        } else {
            kept.push_str(line);
        }
        i += 1;
    }
    if nix_direnv {
        out.set(&["nix-direnv", "enable"], Value::Bool(true));
    }
    if !kept.trim().is_empty() {
        out.set(&["stdlib"], Value::Str(kept));
    }
    warnings
}

/// How many lines at the start of `lines` load nix-direnv: one `source`
/// or `source_url` line, or the three-line block of nix-direnv's README
/// that loads it when it is missing.
fn nix_direnv_loader(lines: &[&str]) -> Option<usize> {
    let words = |line: &str| -> Vec<String> {
        line.split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_string())
            .collect()
    };
    let loads = |line: &str| match words(line).as_slice() {
        [command, path, ..] if command == "source" || command == "." || command == "source_url" => {
            path.contains("nix-direnv") && path.ends_with("direnvrc")
        }
        _ => false,
    };
    if loads(lines.first()?) {
        return Some(1);
    }
    let first = lines.first()?.trim();
    let guarded =
        first.starts_with("if ") && first.contains("nix_direnv_version") && first.ends_with("then");
    (guarded && lines.len() >= 3 && loads(lines[1]) && lines[2].trim() == "fi").then_some(3)
}

/// `export NAME=value` or `NAME=value` that looks like a secret: its name.
fn secret_assignment(line: &str) -> Option<&str> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let (name, value) = line.split_once('=')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (valid && looks_secret(name, value.trim_matches(['"', '\'']))).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::super::starship::tests::assert_round_trip;
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    const DIRENVRC: &str = r#"# Loaded by every .envrc
if ! has nix_direnv_version || ! nix_direnv_version 3.0.6; then
  source_url "https://raw.githubusercontent.com/nix-community/nix-direnv/3.0.6/direnvrc" "sha256-RYcUJaRMf8oF5LznDrlCXbkOQrywm0HDv1VjYGaJGdM="
fi

: "${XDG_CACHE_HOME:="${HOME}/.cache"}"
declare -A direnv_layout_dirs
direnv_layout_dir() {
  local hash path
  echo "${direnv_layout_dirs[$PWD]:=$(
    hash="$(sha1sum - <<< "$PWD" | head -c40)"
    path="${PWD//[^a-zA-Z0-9]/-}"
    echo "${XDG_CACHE_HOME}/direnv/layouts/${hash}${path}"
  )}"
}
  
export OPENAI_API_KEY="sk-proj-0123456789"
use_flake_quiet() { use flake "$@" 2>/dev/null; }
"#;

    #[test]
    fn direnvrc_is_stdlib_and_nix_direnv_is_enabled() {
        let m = migrate(
            Source {
                path: "~/.config/direnv/direnvrc",
                text: DIRENVRC,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.direnv = {
              enable = true;
              nix-direnv.enable = true;
              stdlib = ''
                # Loaded by every .envrc

                : "''${XDG_CACHE_HOME:="''${HOME}/.cache"}"
                declare -A direnv_layout_dirs
                direnv_layout_dir() {
                  local hash path
                  echo "''${direnv_layout_dirs[$PWD]:=$(
                    hash="$(sha1sum - <<< "$PWD" | head -c40)"
                    path="''${PWD//[^a-zA-Z0-9]/-}"
                    echo "''${XDG_CACHE_HOME}/direnv/layouts/''${hash}''${path}"
                  )}"
                }

                if [[ -f "$HOME/.config/direnv/secrets" ]]; then source "$HOME/.config/direnv/secrets"; fi
                use_flake_quiet() { use flake "$@" 2>/dev/null; }
              '';
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert_eq!(m.warnings[0].line, Some(17));
        assert!(m.warnings[0]
            .message
            .contains("`OPENAI_API_KEY` looks like a secret"));
    }

    #[test]
    fn only_loading_nix_direnv_leaves_no_stdlib() {
        for text in [
            "source $HOME/.nix-profile/share/nix-direnv/direnvrc\n",
            ". \"/run/current-system/sw/share/nix-direnv/direnvrc\"\n",
        ] {
            let m = migrate(
                Source {
                    path: "~/.direnvrc",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            )
            .unwrap();
            assert_eq!(
                m.to_nix(0),
                "programs.direnv = {\n  enable = true;\n  nix-direnv.enable = true;\n};\n",
                "{text}"
            );
        }
        // Another library's direnvrc stays.
        let text = "source ~/.config/direnv/other/direnvrc\n";
        let m = migrate(
            Source {
                path: "direnvrc",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert!(m
            .to_nix(0)
            .contains("stdlib = \"source ~/.config/direnv/other/direnvrc\\n\";"));
    }

    const DIRENV_TOML: &str = r#"[global]
# quiet, and no env diff
hide_env_diff = true
warn_timeout = "30s"
load_dotenv = true

[whitelist]
prefix = [ "/home/ada/src/trusted" ]
exact = [ "/home/ada/notes/.envrc" ]
"#;

    #[test]
    fn direnv_toml_is_config() {
        let m = migrate(
            Source {
                path: "~/.config/direnv/direnv.toml",
                text: DIRENV_TOML,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.direnv = {
              enable = true;
              config = {
                global = {
                  # quiet, and no env diff
                  hide_env_diff = true;
                  warn_timeout = "30s";
                  load_dotenv = true;
                };
                whitelist = {
                  prefix = [ "/home/ada/src/trusted" ];
                  exact = [ "/home/ada/notes/.envrc" ];
                };
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert!(m.warnings.is_empty());
        assert_round_trip(DIRENV_TOML, m.options.get("config").unwrap());
    }

    #[test]
    fn bad_toml_is_refused() {
        let err = migrate(
            Source {
                path: "direnv.toml",
                text: "[global]\nload_dotenv = yes\n",
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap_err();
        assert!(matches!(err, MigrateError::Syntax { line: 2, .. }), "{err}");
    }
}
