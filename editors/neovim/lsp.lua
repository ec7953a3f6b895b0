-- cim-nix for Nix files in Neovim 0.11 and newer, with the built-in
-- `vim.lsp.config`: put it in your config (for example
-- `~/.config/nvim/plugin/cim-nix.lua`).

vim.lsp.config('cim_nix', {
  cmd = { 'cim-nix' },
  filetypes = { 'nix' },
  root_markers = { 'flake.nix', 'cim-nix.toml', '.git' },
  -- Settings the server reads (doc/configuration.md); a project's
  -- cim-nix.toml applies too.
  settings = { ['cim-nix'] = { formatting = { style = 'nixpkgs-fmt' } } },
})
vim.lsp.enable('cim_nix')

-- Format on save, through the server.
vim.api.nvim_create_autocmd('BufWritePre', {
  pattern = '*.nix',
  callback = function(args)
    vim.lsp.buf.format({ bufnr = args.buf, name = 'cim_nix', timeout_ms = 2000 })
  end,
})
