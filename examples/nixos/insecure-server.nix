# A server configuration with the mistakes cim-nix's security rules catch:
# `cim-nix check examples/` reports each one at its value.
{ lib, pkgs, ... }:

with lib;
{
  imports = [ ./hardware.nix ];

  boot.loader.systemd-boot = {
    enable = true;
    editor = true;
  };

  networking = {
    hostName = "build-server";
    firewall.enable = mkForce false;
    firewall.allowedTCPPorts = [ 22 6379 ];
  };

  security.sudo.wheelNeedsPassword = false;

  services.openssh = {
    enable = true;
    settings = {
      PermitRootLogin = "yes";
      PasswordAuthentication = true;
      X11Forwarding = true;
    };
  };

  users.users.ci = {
    isNormalUser = true;
    extraGroups = [ "wheel" "docker" ];
    openssh.authorizedKeys.keys = [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq5b3nVt8c ci@runner"
    ];
  };

  environment.systemPackages = with pkgs; [ git ];
}
