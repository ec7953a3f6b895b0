-- cim-nix for Nix files in Neovim 0.7 and newer, with no plugin: starts the
-- server for each `nix` buffer and formats on save. Put it in your config
-- (`~/.config/nvim/lua/cim-nix.lua`, then `require('cim-nix')`), or
-- `:luafile` it. Neovim 0.11 users can use `lsp.lua` instead, and
-- nvim-lspconfig users `lspconfig.lua`.

local M = {}

-- The project's root: the nearest directory with a flake, a cim-nix.toml
-- or a git repository (walked by hand: `vim.fs` is 0.8+).
local function root(file)
  local dir = vim.fn.fnamemodify(file, ':p:h')
  while true do
    for _, marker in ipairs({ 'flake.nix', 'cim-nix.toml', '.git' }) do
      if vim.loop.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return vim.fn.fnamemodify(file, ':p:h')
    end
    dir = parent
  end
end

-- Formats the buffer through the server, waiting for the answer:
-- `vim.lsp.buf.format` from 0.8 on, `formatting_sync` before.
function M.format(buf)
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = buf, timeout_ms = 2000, name = 'cim-nix' })
  else
    vim.lsp.buf.formatting_sync(nil, 2000)
  end
end

function M.start(buf)
  local file = vim.api.nvim_buf_get_name(buf)
  local client = vim.lsp.start_client({
    name = 'cim-nix',
    cmd = { M.cmd or 'cim-nix' },
    root_dir = root(file),
  })
  if client then
    vim.lsp.buf_attach_client(buf, client)
  end
  return client
end

function M.setup(opts)
  opts = opts or {}
  M.cmd = opts.cmd
  local group = vim.api.nvim_create_augroup('cim-nix', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'nix',
    callback = function(args)
      M.start(args.buf)
    end,
  })
  if opts.format_on_save ~= false then
    vim.api.nvim_create_autocmd('BufWritePre', {
      group = group,
      pattern = '*.nix',
      callback = function(args)
        M.format(args.buf)
      end,
    })
  end
end

return M
