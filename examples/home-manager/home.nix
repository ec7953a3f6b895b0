{ pkgs, ... }:

{
  home = {
    username = "alice";
    homeDirectory = "/home/alice";
    stateVersion = "24.05";

    packages = with pkgs; [
      ripgrep
      fd
      jq
    ];

    file.".config/starship.toml".source = ./starship.toml;
  };

  programs = {
    git = {
      enable = true;
      settings = {
        user.name = "Alice Example";
        user.email = "alice@example.org";
        init.defaultBranch = "main";
        pull.rebase = true;
      };
    };

    tmux = {
      enable = true;
      clock24 = true;
      keyMode = "vi";
    };

    zsh = {
      enable = true;
      shellAliases = {
        ll = "ls -l";
        gs = "git status";
      };
    };

    home-manager.enable = true;
  };
}
