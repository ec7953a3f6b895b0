-- The setup users copy (editors/neovim/cim-nix.lua), in a real Neovim:
-- opening a `nix` file starts cim-nix (diagnostics arrive), and saving
-- formats it. Writes what it saw as JSON to $OUT. Run by
-- tests/editor_neovim.rs.
local bin, file, out, setup = os.getenv('CIM_NIX'), os.getenv('NIX_FILE'), os.getenv('OUT'), os.getenv('SETUP')
local seen = {}

local ok, err = pcall(function()
  vim.cmd('filetype on')
  local cim = dofile(setup)
  cim.setup({ cmd = bin })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  seen.filetype = vim.bo[buf].filetype
  vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  seen.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp
    table.insert(seen.diagnostics, { lnum = d.lnum, code = d.code or (lsp and lsp.code) })
  end
  vim.cmd('write')
  seen.written = table.concat(vim.fn.readfile(file), '\n')
end)
if not ok then seen.error = tostring(err) end
local f = io.open(out, 'w')
f:write(vim.fn.json_encode(seen))
f:close()
vim.cmd('qa!')
