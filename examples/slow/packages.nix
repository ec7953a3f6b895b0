# A package set with the mistakes cim-nix's performance rules catch: each
# one makes every evaluation of it slower. `cim-nix check examples/`
# reports them where they are.
{ lib, pkgs, stdenv, fetchFromGitHub, ... }:

let
  # A second nixpkgs, instantiated on every evaluation of this file.
  unstable = import <nixpkgs> { config.allowUnfree = true; };

  # Evaluation waits for a download and a build before it can go on.
  upstream = fetchFromGitHub {
    owner = "example";
    repo = "tools";
    rev = "v1.4.0";
    hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
  versions = lib.importJSON (pkgs.runCommand "versions.json" { } ''
    echo '{ "tool": "1.4.0" }' > $out
  '');
  tools = pkgs.callPackage (fetchFromGitHub {
    owner = "example";
    repo = "more-tools";
    rev = "v2.0.0";
    hash = "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
  }) { };

  # Each step copies the whole set built so far.
  byName = lib.foldl' (acc: p: acc // { ${p.pname} = p; }) { } [ tool tools ];

  tool = stdenv.mkDerivation {
    pname = "tool";
    version = versions.tool;
    # The whole directory, `.git` and `result` links included.
    src = ./.;
    nativeBuildInputs = lib.concatLists (map (p: [ p ]) [ unstable.jq pkgs.yq ]);
    passthru.nixpkgsSource = "${pkgs.path}";
    meta.upstream = upstream;
  };
in
byName
