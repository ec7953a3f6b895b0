-- Drives cim-nix from a real Neovim (0.7+), as a user would: open a file,
-- wait for diagnostics, type a fix, format. Writes what it saw as JSON to
-- $OUT and quits. Run by tests/editor_neovim.rs.
local bin, file, out = os.getenv('CIM_NIX'), os.getenv('NIX_FILE'), os.getenv('OUT')
local seen = { steps = {} }

local function record(step, value)
  table.insert(seen.steps, { step = step, value = value })
end

local function diagnostics(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(list, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code),
      message = d.message,
    })
  end
  return list
end

local function finish()
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(seen))
  f:close()
  vim.cmd('qa!')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client = vim.lsp.start_client({
    name = 'cim-nix',
    cmd = { bin },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  assert(client, 'cim-nix did not start')
  vim.lsp.buf_attach_client(buf, client)

  -- 1. The file as it is on disk: one syntax error.
  vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  record('opened', diagnostics(buf))

  -- 2. Type the missing value, one character at a time.
  local line = vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1]
  local at = line:find(';', 1, true)
  for i, ch in ipairs({ '4', '2' }) do
    vim.api.nvim_buf_set_text(buf, 2, at - 2 + i, 2, at - 2 + i, { ch })
  end
  vim.wait(20000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.severity == vim.diagnostic.severity.ERROR then return false end
    end
    return true
  end, 20)
  vim.wait(300, function() return false end, 20)
  record('typed', diagnostics(buf))

  -- 3. The unused binding's quick fix, as `:lua vim.lsp.buf.code_action()`
  -- would offer it, applied to the buffer.
  -- Back to an LSP diagnostic, as Neovim's own code_action() does.
  local unused
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp
    if lsp and lsp.code == 'unused-let' then
      unused = {
        range = {
          start = { line = d.lnum, character = d.col },
          ['end'] = { line = d.end_lnum, character = d.end_col },
        },
        severity = d.severity,
        message = d.message,
        source = d.source,
        code = lsp.code,
        tags = lsp.tags,
      }
    end
  end
  assert(unused, 'no unused-let diagnostic to fix')
  record('unused_tags', unused.tags or {})
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = unused.range,
    context = { diagnostics = { unused }, only = { 'quickfix' } },
  }
  local replies = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000)
  local chosen
  for _, reply in pairs(replies or {}) do
    for _, action in ipairs(reply.result or {}) do
      if action.isPreferred and action.edit then chosen = action end
    end
  end
  assert(chosen, 'no preferred quick fix with an edit: ' .. vim.inspect(replies))
  record('quickfix_title', chosen.title)
  vim.lsp.util.apply_workspace_edit(chosen.edit, 'utf-16')
  vim.wait(20000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      local lsp = d.user_data and d.user_data.lsp
      if lsp and lsp.code == 'unused-let' then return false end
    end
    return true
  end, 20)
  record('fixed', diagnostics(buf))

  -- 4. Format the buffer through the server.
  -- `vim.lsp.buf.format` from 0.8 on (`formatting_sync` is gone in 0.10).
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = buf, timeout_ms = 10000 })
  else
    vim.lsp.buf.formatting_sync(nil, 10000)
  end
  record('formatted', vim.api.nvim_buf_get_lines(buf, 0, -1, false))
end)
if not ok then seen.error = tostring(err) end
finish()
