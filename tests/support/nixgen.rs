//! A seeded generator of realistic Nix: packages with `callPackage` and
//! `mkDerivation`, NixOS modules with options and `mkIf`, Home Manager
//! configurations and flakes. Deterministic for a seed, so benchmarks and
//! tests see the same code every run.

use super::rng::Rng;

const WORDS: &[&str] = &[
    "hello",
    "ripgrep",
    "nginx",
    "postgres",
    "redis",
    "grafana",
    "prometheus",
    "git",
    "tmux",
    "neovim",
    "firefox",
    "openssl",
    "zlib",
    "curl",
    "python3",
    "nodejs",
    "rustc",
    "cargo",
    "systemd",
    "docker",
    "podman",
    "wireguard",
    "tailscale",
    "borgbackup",
    "syncthing",
    "caddy",
];

const LICENSES: &[&str] = &["mit", "asl20", "gpl3Plus", "bsd3", "mpl20", "lgpl21Plus"];

fn word(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(WORDS)
}

fn ident(rng: &mut Rng) -> String {
    let w = word(rng);
    if rng.chance(30) {
        format!("{w}-{}", word(rng))
    } else {
        w.to_string()
    }
}

fn hash(rng: &mut Rng) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let s: String = (0..43).map(|_| B64[rng.below(64)] as char).collect();
    format!("sha256-{s}=")
}

/// A package expression, as in pkgs/by-name.
pub fn package(rng: &mut Rng) -> String {
    let name = ident(rng);
    let deps: Vec<&str> = (0..rng.below(5)).map(|_| word(rng)).collect();
    let mut s = format!(
        "{{ lib, stdenv, fetchFromGitHub{}{} }}:\n\nstdenv.mkDerivation (finalAttrs: {{\n  pname = \"{name}\";\n  version = \"{}.{}.{}\";\n\n",
        if deps.is_empty() { "" } else { ", " },
        deps.join(", "),
        rng.below(5),
        rng.below(20),
        rng.below(10)
    );
    s.push_str(&format!(
        "  src = fetchFromGitHub {{\n    owner = \"{}\";\n    repo = \"{name}\";\n    rev = \"v${{finalAttrs.version}}\";\n    hash = \"{}\";\n  }};\n\n",
        word(rng),
        hash(rng)
    ));
    if !deps.is_empty() {
        s.push_str(&format!("  buildInputs = [ {} ];\n", deps.join(" ")));
    }
    if rng.chance(50) {
        s.push_str("  nativeBuildInputs = lib.optionals stdenv.isLinux [ ];\n");
    }
    if rng.chance(40) {
        s.push_str(&format!(
            "\n  postPatch = ''\n    substituteInPlace Makefile \\\n      --replace-fail \"/usr/bin/{0}\" \"${{lib.getExe {0}}}\"\n  '';\n",
            word(rng)
        ));
    }
    s.push_str(&format!(
        "\n  meta = {{\n    description = \"The {} tool for {}\";\n    homepage = \"https://github.com/{}/{name}\";\n    license = lib.licenses.{};\n    maintainers = with lib.maintainers; [ {} ];\n    platforms = lib.platforms.unix;\n  }};\n}})\n",
        word(rng),
        word(rng),
        word(rng),
        rng.pick(LICENSES),
        word(rng)
    ));
    s
}

/// A NixOS module with options and config, about `lines` long.
pub fn module(rng: &mut Rng, lines: usize) -> String {
    let service = ident(rng);
    let mut s = format!(
        "{{ config, lib, pkgs, ... }}:\n\nlet\n  cfg = config.services.{service};\n  inherit (lib) mkIf mkOption mkEnableOption types;\nin\n{{\n  options.services.{service} = {{\n    enable = mkEnableOption \"the {service} service\";\n"
    );
    let mut options = Vec::new();
    while s.lines().count() < lines / 2 {
        let opt = format!("{}{}", word(rng), rng.below(100));
        let (ty, default) = match rng.below(4) {
            0 => ("types.port", format!("{}", 1024 + rng.below(60000))),
            1 => ("types.str", format!("\"{}\"", word(rng))),
            2 => ("types.bool", "false".to_string()),
            _ => (
                "types.listOf types.str",
                format!("[ \"{}\" \"{}\" ]", word(rng), word(rng)),
            ),
        };
        s.push_str(&format!(
            "\n    {opt} = mkOption {{\n      type = {ty};\n      default = {default};\n      description = ''\n        How {service} uses {opt}.\n      '';\n    }};\n"
        ));
        options.push(opt);
    }
    s.push_str("  };\n\n  config = mkIf cfg.enable {\n");
    s.push_str(&format!(
        "    systemd.services.{service} = {{\n      description = \"{service}\";\n      wantedBy = [ \"multi-user.target\" ];\n      after = [ \"network.target\" ];\n      serviceConfig = {{\n        ExecStart = \"${{pkgs.{}}}/bin/{service} --config ${{pkgs.writeText \"{service}.conf\" (builtins.toJSON cfg)}}\";\n        DynamicUser = true;\n        Restart = \"on-failure\";\n      }};\n    }};\n",
        word(rng)
    ));
    let mut i = 0;
    while s.lines().count() < lines.saturating_sub(3) {
        let opt = &options[i % options.len().max(1)];
        s.push_str(&format!(
            "\n    environment.etc.\"{service}/{opt}-{i}\".text = lib.optionalString (cfg.{opt} != null) ''\n      {opt} = ${{toString cfg.{opt}}}\n    '';\n"
        ));
        i += 1;
    }
    s.push_str("  };\n}\n");
    s
}

/// A Home Manager configuration.
pub fn home(rng: &mut Rng) -> String {
    let mut s = String::from(
        "{ config, pkgs, ... }:\n\n{\n  home.username = \"alice\";\n  home.homeDirectory = \"/home/alice\";\n  home.stateVersion = \"24.05\";\n\n  home.packages = with pkgs; [\n",
    );
    for _ in 0..3 + rng.below(8) {
        s.push_str(&format!("    {}\n", word(rng)));
    }
    s.push_str("  ];\n\n  programs.git = {\n    enable = true;\n    userName = \"Alice\";\n    userEmail = \"alice@example.org\";\n    aliases = {\n      co = \"checkout\";\n      st = \"status\";\n    };\n  };\n");
    s.push_str("\n  programs.zsh = {\n    enable = true;\n    shellAliases.ll = \"ls -l\";\n    initExtra = ''\n      bindkey -e\n    '';\n  };\n}\n");
    s
}

/// A flake with inputs and per-system outputs.
pub fn flake(rng: &mut Rng) -> String {
    format!(
        "{{\n  description = \"{} {}\";\n\n  inputs = {{\n    nixpkgs.url = \"github:NixOS/nixpkgs/nixos-unstable\";\n    flake-utils.url = \"github:numtide/flake-utils\";\n    {}.url = \"github:{}/{}\";\n  }};\n\n  outputs = {{ self, nixpkgs, flake-utils, ... }}@inputs:\n    flake-utils.lib.eachDefaultSystem (system:\n      let pkgs = nixpkgs.legacyPackages.${{system}};\n      in {{\n        packages.default = pkgs.callPackage ./package.nix {{ }};\n        devShells.default = pkgs.mkShell {{ packages = [ pkgs.{} pkgs.{} ]; }};\n      }});\n}}\n",
        word(rng),
        word(rng),
        word(rng),
        word(rng),
        word(rng),
        word(rng),
        word(rng)
    )
}

/// A set of `callPackage` lines, like all-packages.nix, `lines` long.
pub fn package_set(rng: &mut Rng, lines: usize) -> String {
    let mut s = String::from("{ lib, pkgs, callPackage }:\n\n{\n");
    let mut i = 0;
    while s.lines().count() < lines.saturating_sub(1) {
        let name = format!("{}-{i}", ident(rng));
        match rng.below(4) {
            0 => s.push_str(&format!("  {name} = callPackage ../by-name/{name} {{ }};\n")),
            1 => s.push_str(&format!(
                "  {name} = callPackage ../tools/{name} {{\n    inherit (pkgs) {} {};\n  }};\n",
                word(rng),
                word(rng)
            )),
            2 => s.push_str(&format!("  {name} = pkgs.{}.override {{ withX = false; }};\n", word(rng))),
            _ => s.push_str(&format!("\n  # {} support\n  {name} = lib.recurseIntoAttrs (callPackage ./{name}.nix {{ }});\n", word(rng))),
        }
        i += 1;
    }
    s.push_str("}\n");
    s
}

/// A deterministic tree of files totalling at least `bytes`: (path, text).
pub fn tree(seed: u64, bytes: usize) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    let mut total = 0;
    let mut i = 0;
    while total < bytes {
        let (path, text) = match rng.below(6) {
            0 | 1 => (format!("pkgs/p{i}/default.nix"), package(&mut rng)),
            2 => {
                let lines = 60 + rng.below(400);
                (format!("modules/m{i}.nix"), module(&mut rng, lines))
            }
            3 => (format!("home/h{i}.nix"), home(&mut rng)),
            4 => (format!("flakes/f{i}/flake.nix"), flake(&mut rng)),
            _ => {
                let lines = 100 + rng.below(900);
                (format!("sets/s{i}.nix"), package_set(&mut rng, lines))
            }
        };
        total += text.len();
        files.push((path, text));
        i += 1;
    }
    files
}
