//! `cim-nix migrate` end to end on a folder of real-looking dotfiles
//! (tests/fixtures/dotfiles/home, used as `$HOME`): the Nix it prints
//! parses with Nix's own parser, has no cim-nix finding, and evaluates with
//! `nix-instantiate --eval --strict` against the Home Manager option index
//! (every option name exists, every value has its option's type). Then
//! `--into` a Home Manager file: the rest of the file is unchanged byte for
//! byte, and the result still evaluates.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The programs whose dotfiles tests/fixtures/dotfiles/home holds.
const PROGRAMS_IN_HOME: [&str; 14] = [
    "git",
    "ssh",
    "tmux",
    "readline",
    "starship",
    "alacritty",
    "kitty",
    "direnv",
    "htop",
    "bash",
    "zsh",
    "fish",
    "vim",
    "neovim",
];

fn home() -> PathBuf {
    Path::new(ROOT).join("tests/fixtures/dotfiles/home")
}

fn cim_nix(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cim-nix"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", home())
        .output()
        .expect("run cim-nix");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn nix_instantiate(args: &[&str], cwd: &Path) -> Result<String, String> {
    let out = Command::new("nix-instantiate")
        .args(args)
        .args(["--store", "dummy://"])
        .current_dir(cwd)
        .env("NIX_STATE_DIR", cwd.join(".nix-state"))
        .output()
        .expect("nix-instantiate is needed for this test: apt-get install nix-bin");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The option index as a tree: `{ programs = { git = { enable = { __type =
/// "bool"; }; ... } } }`, for tests/home/check-options.nix.
fn option_tree() -> Value {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("src/home/data/hm-options.tsv")).unwrap();
    let mut tree = Map::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let (Some(name), Some(kind)) = (fields.next(), fields.next()) else {
            continue;
        };
        if name.contains("_module") {
            continue;
        }
        let mut node = &mut tree;
        for part in name.split('.') {
            node = node
                .entry(part.to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
        }
        node.insert("__type".into(), json!(kind));
    }
    // Submodules with a `freeformType`, which the index cannot tell from
    // other submodules (Home Manager's modules/programs/ssh.nix: a host's
    // keys are any ssh_config directive).
    for pattern in ["programs.ssh.settings.<name>"] {
        let mut node = &mut tree;
        for part in pattern.split('.') {
            node = node.get_mut(part).unwrap().as_object_mut().unwrap();
        }
        node.insert("__freeform".into(), json!(true));
    }
    Value::Object(tree)
}

/// What the migrated Nix may use of `lib`, `pkgs` and `config`, with just
/// enough shape to evaluate: package sets answer any name they are asked.
fn stand_ins(nix: &str) -> String {
    let mut packages: Vec<(String, String)> = Vec::new();
    for set in ["tmuxPlugins", "vimPlugins"] {
        let needle = format!("pkgs.{set}.");
        for (at, _) in nix.match_indices(&needle) {
            let name: String = nix[at + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            packages.push((set.to_string(), name));
        }
    }
    let packages: String = packages
        .iter()
        .map(|(set, name)| {
            format!("{set}.\"{name}\" = {{ outPath = \"/nix/store/stand-in-{name}\"; pname = \"{name}\"; }};\n")
        })
        .collect();
    format!(
        r#"
  lib = {{
    mkBefore = x: x; mkAfter = x: x; mkOrder = _: x: x;
    mkMerge = xs: builtins.foldl' (a: b: if builtins.typeOf a == builtins.typeOf b then a else throw "mkMerge of mixed types") (builtins.head xs) xs; mkDefault = x: x; mkForce = x: x;
    hm.dag = {{ entryBefore = _: x: x; entryAfter = _: x: x; entryAnywhere = x: x; }};
    importTOML = _: {{ }}; importJSON = _: {{ }};
  }};
  pkgs = {{ {packages} }};
  config.lib.file.mkOutOfStoreSymlink = path: "/out-of-store" + toString path;
"#
    )
}

/// Parses, checks and evaluates `bindings` (what `migrate` printed) as the
/// body of a Home Manager module.
fn assert_valid_home_manager(bindings: &str, dir: &Path) {
    // The arguments the migration uses, as a user's module would take them.
    // `config.x`, not `xdg.config.x` nor `~/.config/x`.
    let uses = |arg: &str| {
        bindings.match_indices(&format!("{arg}.")).any(|(at, _)| {
            !bindings[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || "._-/'".contains(c))
        })
    };
    let used: Vec<&str> = ["config", "lib", "pkgs"]
        .into_iter()
        .filter(|arg| uses(arg))
        .collect();
    let formals = used.iter().map(|a| format!("{a}, ")).collect::<String>();
    let module = format!("{{ {formals}... }}:\n{{\n{bindings}}}\n");
    let file = dir.join("migrated.nix");
    std::fs::write(&file, &module).unwrap();
    nix_instantiate(&["--parse", "migrated.nix"], dir)
        .unwrap_or_else(|e| panic!("Nix does not parse the migration: {e}\n{module}"));
    let (code, out, err) = cim_nix(&["check", "--deny", "hint", "migrated.nix"], dir);
    assert_eq!(
        code, 0,
        "cim-nix finds problems in the migration:\n{out}{err}\n{module}"
    );
    evaluate(&module, dir).unwrap_or_else(|e| {
        panic!("the migration does not evaluate against the option index: {e}\n{module}")
    });
}

/// Evaluates the module in `dir`/migrated.nix against the option index.
fn evaluate(module: &str, dir: &Path) -> Result<(), String> {
    std::fs::write(dir.join("migrated.nix"), module).unwrap();
    std::fs::write(dir.join("tree.json"), option_tree().to_string()).unwrap();
    std::fs::copy(
        Path::new(ROOT).join("tests/home/check-options.nix"),
        dir.join("check-options.nix"),
    )
    .unwrap();
    let expr = format!(
        "let {} config' = import ./migrated.nix {{ inherit lib pkgs config; }}; in import ./check-options.nix {{ tree = builtins.fromJSON (builtins.readFile ./tree.json); config = config'; }}",
        stand_ins(module)
    );
    let result = nix_instantiate(&["--eval", "--strict", "--expr", &expr], dir)?;
    match result.trim() {
        "true" => Ok(()),
        other => Err(format!("the check said {other}")),
    }
}

/// The check above can fail: a misspelt option, a value of the wrong type
/// and a name below a typed option that has none are each refused.
#[test]
fn the_option_check_refuses_wrong_names_and_types() {
    let dir = tempfile::tempdir().unwrap();
    let good = "{ ... }:\n{\n  programs.git = { enable = true; settings.user.name = \"x\"; includes = [ { path = \"a\"; } ]; };\n  programs.tmux.baseIndex = 1;\n}\n";
    assert_eq!(evaluate(good, dir.path()), Ok(()));
    for (bad, says) in [
        (
            "programs.git.userNmae = \"x\";",
            "programs.git.userNmae: no such option",
        ),
        (
            "programs.git.enable = \"yes\";",
            "programs.git.enable: expected bool, got string",
        ),
        (
            "programs.tmux.baseIndex = \"1\";",
            "programs.tmux.baseIndex: expected unsignedInt, got string",
        ),
        (
            "programs.git.includes = [ { path = \"a\"; when = 1; } ];",
            "programs.git.includes.*.when: no such option",
        ),
    ] {
        let module = format!("{{ ... }}:\n{{\n  {bad}\n}}\n");
        let err = evaluate(&module, dir.path()).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn a_folder_of_dotfiles_becomes_valid_home_manager_options() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cim_nix(&["migrate", home().to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{err}");
    // Every known dotfile of the folder has its block.
    assert!(out.starts_with("programs = {\n"), "{out}");
    for program in PROGRAMS_IN_HOME {
        assert!(
            out.contains(&format!("\n  {program} = {{\n")),
            "{program}:\n{out}"
        );
    }
    // The secret stayed out, with a warning that names it and its line.
    assert!(!out.contains("correct-horse"), "{out}");
    assert!(
        err.contains(".gitconfig:48: warning: `sendemail.smtpPass` looks like a secret"),
        "{err}"
    );
    // The excludes file was read (through $HOME) into `ignores`.
    assert!(
        out.contains("ignores = [ \"*.swp\" \".idea/\" \"result\" \"result-*\" \".direnv/\" ];"),
        "{out}"
    );
    assert_valid_home_manager(&out, dir.path());
}

#[test]
fn each_release_gets_its_own_option_names() {
    let dir = tempfile::tempdir().unwrap();
    let gitconfig = home().join(".gitconfig");
    let (code, old, err) = cim_nix(
        &[
            "migrate",
            "--hm-release",
            "25.05",
            gitconfig.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(old.contains("userName = \"Grace Hopper\";"), "{old}");
    assert!(old.contains("aliases = {"), "{old}");
    let (_, new, _) = cim_nix(&["migrate", gitconfig.to_str().unwrap()], dir.path());
    assert!(new.contains("name = \"Grace Hopper\";"), "{new}");
    assert!(!new.contains("userName"), "{new}");
    // 25.05's names are valid in 26.11's index too (as renamed options),
    // except that the index no longer types them: check only the newest.
    assert_valid_home_manager(&new, dir.path());
    let (code, _, err) = cim_nix(&["migrate", "--hm-release", "25.06", "x"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("not a Home Manager release"), "{err}");
}

#[test]
fn into_a_home_manager_file_keeps_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let before = "# My home.\n{ pkgs, ... }:\n\n{\n  home.stateVersion = \"25.11\";\n  home.packages = with pkgs; [ ripgrep fd ];\n\n  programs.git.enable = true; # already on\n}\n";
    let file = dir.path().join("home.nix");
    std::fs::write(&file, before).unwrap();
    let gitconfig = home().join(".gitconfig");
    let (code, out, err) = cim_nix(
        &["migrate", gitconfig.to_str().unwrap(), "--into", "home.nix"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("kept `programs.git.enable`"), "{err}");
    assert!(err.contains("home.nix: added programs.git"), "{err}");
    let after = std::fs::read_to_string(&file).unwrap();
    // One block, before the dotted `programs.git.enable` (Nix refuses a
    // block after it), with the secret's warning as a comment above it;
    // without them, the file is byte for byte what it was.
    let block = after
        .find("  programs.git = {\n")
        .unwrap_or_else(|| panic!("{after}"));
    let start = after
        .find("  # cim-nix: ")
        .unwrap_or_else(|| panic!("{after}"));
    assert!(start < block, "{after}");
    assert!(
        after[start..block].contains("`sendemail.smtpPass` looks like a secret"),
        "{after}"
    );
    assert!(!after.contains("correct-horse"), "{after}");
    let end = start + after[start..].find("\n  };\n").unwrap() + "\n  };\n".len();
    assert_eq!(format!("{}{}", &after[..start], &after[end..]), before);
    assert!(!after[start..end].contains("\n    enable = "), "{after}");
    let (code, out, err) = cim_nix(&["check", "--deny", "hint", "home.nix"], dir.path());
    assert_eq!(code, 0, "{out}{err}\n{after}");
    nix_instantiate(&["--parse", "home.nix"], dir.path()).unwrap();

    // A file that is not a module is refused and left alone.
    std::fs::write(&file, "import ./other.nix\n").unwrap();
    let (code, _, err) = cim_nix(
        &["migrate", gitconfig.to_str().unwrap(), "--into", "home.nix"],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(err.contains("does not return an attribute set"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "import ./other.nix\n"
    );
}

#[test]
fn a_dotfile_git_refuses_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gitconfig"), "[user\n  name = x\n").unwrap();
    std::fs::write(dir.path().join("home.nix"), "{ }\n").unwrap();
    let (code, out, err) = cim_nix(&["migrate", "gitconfig", "--into", "home.nix"], dir.path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("gitconfig: line 1: bad section header"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("home.nix")).unwrap(),
        "{ }\n"
    );
}

/// The README shows what its migration command prints (the Nix on
/// stdout), and the dotfiles' secret is not in it.
#[test]
fn the_readme_shows_what_migrating_the_example_dotfiles_prints() {
    let root = Path::new(ROOT);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let marker = "cargo run --release -- migrate examples/home-manager/dotfiles\n```\n\n```nix\n";
    let start = readme.find(marker).expect("the README's migrate command") + marker.len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let (code, out, err) = cim_nix(&["migrate", "examples/home-manager/dotfiles"], root);
    assert_eq!(code, 0, "{err}");
    assert_eq!(shown, out);
    assert!(err.contains("`github.token` looks like a secret"), "{err}");
    assert!(!out.contains("ghp_"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    assert_valid_home_manager(&out, dir.path());
}

/// A dotfile no converter knows becomes `xdg.configFile` / `home.file`
/// text, which evaluates against the index too.
#[test]
fn any_other_file_becomes_home_file_text() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".config/app");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("app.conf"),
        "# app\ncolor = \"auto\"\npath = ${HOME}/x\n",
    )
    .unwrap();
    let (code, out, err) = cim_nix(
        &["migrate", "--as", "file", ".config/app/app.conf"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "xdg.configFile.\"app/app.conf\".text = ''\n  # app\n  color = \"auto\"\n  path = ''${HOME}/x\n'';\n"
    );
    assert_valid_home_manager(&out, dir.path());
}
