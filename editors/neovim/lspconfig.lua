-- cim-nix for Nix files with nvim-lspconfig (which does not ship it yet):
-- defines the server the way lspconfig's own definitions do, then sets it
-- up with format-on-save.

local configs = require('lspconfig.configs')
local util = require('lspconfig.util')

if not configs.cim_nix then
  configs.cim_nix = {
    default_config = {
      cmd = { 'cim-nix' },
      filetypes = { 'nix' },
      root_dir = util.root_pattern('flake.nix', 'cim-nix.toml', '.git'),
      single_file_support = true,
      settings = {},
    },
    docs = {
      description = 'cim-nix: a language server and checker for Nix (diagnostics, quick fixes, formatting).',
    },
  }
end

require('lspconfig').cim_nix.setup({
  on_attach = function(_, buf)
    vim.api.nvim_create_autocmd('BufWritePre', {
      buffer = buf,
      callback = function()
        vim.lsp.buf.format({ bufnr = buf, name = 'cim_nix', timeout_ms = 2000 })
      end,
    })
  end,
})
