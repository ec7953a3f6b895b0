{
  description = "cim-nix: a language server, checker and formatter for Nix";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      manifest = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).package;

      # Only what the build reads, so editing the README or the tests does
      # not rebuild the package. doc/rules holds the rule pages the binary
      # embeds; benches/ must exist because Cargo.toml names its targets.
      cim-nix = { lib, rustPlatform }:
        rustPlatform.buildRustPackage {
          pname = manifest.name;
          inherit (manifest) version;
          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [
              ./Cargo.toml
              ./Cargo.lock
              ./src
              ./doc/rules
              ./benches
            ];
          };
          cargoLock.lockFile = ./Cargo.lock;
          # The unit tests are pure; the integration tests need nats-server,
          # Neovim and Python clients, which CI installs (scripts/test).
          cargoTestFlags = [ "--lib" ];
          meta = {
            inherit (manifest) description;
            homepage = "https://github.com/cim-nix/cim-nix";
            license = with lib.licenses; [ mit asl20 ];
            mainProgram = "cim-nix";
          };
        };
    in
    {
      packages = forAllSystems (pkgs: {
        cim-nix = pkgs.callPackage cim-nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.cim-nix;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      });

      overlays.default = final: _prev: {
        cim-nix = final.callPackage cim-nix { };
      };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          # What scripts/test installs elsewhere: the tools the tests drive.
          packages = [
            pkgs.clippy
            pkgs.rustfmt
            pkgs.rust-analyzer
            pkgs.nats-server
            pkgs.neovim
            pkgs.nodejs
            pkgs.python3
            pkgs.nixpkgs-fmt
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);
    };
}
