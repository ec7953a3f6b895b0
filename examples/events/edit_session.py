#!/usr/bin/env python3
"""Drive cim-nix over LSP as an editor would, to make it emit domain events.

    edit_session.py CIM_NIX WORKSPACE NATS_URL

Writes a small flake.nix and home.nix into WORKSPACE, opens them (their
state is the baseline), then makes two edits, each followed by a save:
an input added to the flake, then a program enabled and a package added in
home.nix. Standard library only; cim-nix's log goes to this script's stderr.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

FLAKE = """{
  description = "Workstation and home configuration";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-24.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { nixpkgs, home-manager, ... }: {
    homeConfigurations.alice = home-manager.lib.homeManagerConfiguration {
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      modules = [ ./home.nix ];
    };
  };
}
"""

HOME = """{ pkgs, ... }:

{
  home.username = "alice";
  home.homeDirectory = "/home/alice";
  home.stateVersion = "24.05";

  home.packages = with pkgs; [ ripgrep fd ];

  programs.git = {
    enable = true;
    userName = "Alice Example";
  };
}
"""

# The two edits: (file, what the user does, old text, new text).
EDITS = [
    ("flake.nix", "add the input flake-utils",
     '    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";\n',
     '    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";\n'
     '    flake-utils.url = "github:numtide/flake-utils";\n'),
    ("home.nix", "enable direnv and add the package jq",
     "[ ripgrep fd ];\n",
     "[ ripgrep fd jq ];\n\n  programs.direnv.enable = true;\n"),
]


class Server:
    """cim-nix over stdio: JSON-RPC with Content-Length framing."""

    def __init__(self, command):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0
        self.replies = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while (line := out.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                return  # the server closed its output
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                # A request from the server (registerCapability, ...): accept.
                self._send({"id": message["id"], "result": None})
            elif "id" in message:
                with self.cond:
                    self.replies[message["id"]] = message
                    self.cond.notify_all()

    def request(self, method, params=None, timeout=30):
        self.next_id += 1
        request_id = self.next_id
        self._send({"id": request_id, "method": method, "params": params})
        with self.cond:
            if not self.cond.wait_for(lambda: request_id in self.replies, timeout):
                sys.exit(f"no reply to {method} in {timeout} s")
            reply = self.replies.pop(request_id)
        if "error" in reply:
            sys.exit(f"{method} failed: {reply['error']}")
        return reply.get("result")

    def notify(self, method, params):
        self._send({"method": method, "params": params})


def main():
    cim_nix, workspace, url = sys.argv[1], Path(sys.argv[2]).resolve(), sys.argv[3]
    texts = {"flake.nix": FLAKE, "home.nix": HOME}
    versions = {}
    for name, text in texts.items():
        (workspace / name).write_text(text)

    server = Server([cim_nix, "lsp"])
    server.request("initialize", {
        "processId": None,
        "rootUri": workspace.as_uri(),
        "capabilities": {},
        "initializationOptions": {"nats": {"url": url}},
    })
    server.notify("initialized", {})

    for name, text in texts.items():
        print(f"editor: open {name}", flush=True)
        versions[name] = 1
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": (workspace / name).as_uri(), "languageId": "nix", "version": 1, "text": text}})
    time.sleep(0.5)

    for name, what, old, new in EDITS:
        print(f"editor: {what} in {name}, save", flush=True)
        texts[name] = texts[name].replace(old, new, 1)
        versions[name] += 1
        uri = (workspace / name).as_uri()
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": versions[name]},
            "contentChanges": [{"text": texts[name]}]})
        (workspace / name).write_text(texts[name])
        server.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        time.sleep(0.5)

    time.sleep(1)
    status = server.request("cim-nix/eventStatus")
    print(f"editor: cim-nix/eventStatus = {json.dumps(status)}", flush=True)
    server.request("shutdown")
    server.notify("exit", None)
    sys.exit(server.proc.wait(timeout=10))


if __name__ == "__main__":
    main()
