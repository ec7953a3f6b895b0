-- Drives cim-nix's editor features from a real Neovim (0.7+): go to
-- definition into another file, references, highlight, hover, completion
-- with its documentation, rename applied to the buffer, symbols, folding,
-- selection ranges, semantic tokens (full, delta, range), links, inlay
-- hints, a rewrite, range formatting and fix-all applied to the buffer, and
-- the syntax tree request. It also records which capabilities the server
-- advertised to this Neovim, so the test can hold each to a step here. Requests go through Neovim's own LSP client
-- (`buf_request_sync`, `util.apply_workspace_edit`, `util.jump_to_location`)
-- with the capabilities it declares. Writes what it saw as JSON to $OUT.
-- Run by tests/editor_neovim.rs.
local bin, file, out = os.getenv('CIM_NIX'), os.getenv('NIX_FILE'), os.getenv('OUT')
local seen = { steps = {} }

local function record(step, value)
  table.insert(seen.steps, { step = step, value = value })
end

local function finish()
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(seen))
  f:close()
  vim.cmd('qa!')
end

-- The one result of a request to the one client.
local function ask(buf, method, params)
  local replies, err = vim.lsp.buf_request_sync(buf, method, params, 10000)
  assert(replies, method .. ' failed: ' .. tostring(err))
  for _, reply in pairs(replies) do
    assert(not reply.err, method .. ': ' .. vim.inspect(reply.err))
    return reply.result
  end
end

-- Cursor on the first `needle` (1-based line of the buffer), plus `skip`.
local function cursor_on(buf, needle, skip)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local at = line:find(needle, 1, true)
    if at then
      vim.api.nvim_win_set_cursor(0, { i, at - 1 + (skip or 0) })
      return vim.lsp.util.make_position_params()
    end
  end
  error('no ' .. needle .. ' in the buffer')
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
  vim.wait(20000, function()
    local c = vim.lsp.get_client_by_id(client)
    return c ~= nil and c.initialized
  end, 20)
  local uri = vim.uri_from_bufnr(buf)
  local doc = { textDocument = { uri = uri } }
  local advertised = {}
  for key, value in pairs(vim.lsp.get_client_by_id(client).server_capabilities) do
    if value ~= false and value ~= vim.NIL then table.insert(advertised, key) end
  end
  table.sort(advertised)
  record('advertised', advertised)

  -- Hover on a builtin.
  local hover = ask(buf, 'textDocument/hover', cursor_on(buf, 'map'))
  record('hover', vim.split(hover.contents.value, '\n')[2])

  -- Highlight and references of a `let` binding.
  local highlights = ask(buf, 'textDocument/documentHighlight', cursor_on(buf, 'name =')) or {}
  local kinds = {}
  for _, h in ipairs(highlights) do table.insert(kinds, h.kind) end
  record('highlight_kinds', kinds)
  local params = cursor_on(buf, 'name =')
  params.context = { includeDeclaration = true }
  local refs = ask(buf, 'textDocument/references', params) or {}
  local lines = {}
  for _, r in ipairs(refs) do table.insert(lines, r.range.start.line) end
  table.sort(lines)
  record('references', lines)

  -- Completion of `lib.toUp`, and its documentation.
  local items = ask(buf, 'textDocument/completion', cursor_on(buf, 'toUpper', 4))
  items = items.items or items
  local labels, chosen = {}, nil
  for _, item in ipairs(items) do
    table.insert(labels, item.label)
    if item.label == 'toUpper' then chosen = item end
  end
  record('completion', labels)
  local resolved = ask(buf, 'completionItem/resolve', chosen)
  record('completion_doc', resolved.documentation and resolved.documentation.value:find('toUpper', 1, true) ~= nil)

  -- Symbols, folds, selection ranges, tokens, links, hints.
  local symbols = ask(buf, 'textDocument/documentSymbol', doc) or {}
  local names = {}
  for _, s in ipairs(symbols) do table.insert(names, s.name) end
  record('symbols', names)
  local folds = ask(buf, 'textDocument/foldingRange', doc) or {}
  local ranges = {}
  for _, f in ipairs(folds) do table.insert(ranges, { f.startLine, f.endLine }) end
  record('folds', ranges)
  local selection = ask(buf, 'textDocument/selectionRange', {
    textDocument = doc.textDocument,
    positions = { cursor_on(buf, 'demo').position },
  })
  local depth, at = 0, selection[1]
  while at do depth = depth + 1; at = at.parent end
  record('selection_depth', depth)
  local tokens = ask(buf, 'textDocument/semanticTokens/full', doc)
  record('tokens_first', { unpack(tokens.data, 1, 5) })
  local delta = ask(buf, 'textDocument/semanticTokens/full/delta', {
    textDocument = doc.textDocument,
    previousResultId = tokens.resultId,
  })
  record('tokens_delta_edits', #delta.edits)
  local in_range = ask(buf, 'textDocument/semanticTokens/range', {
    textDocument = doc.textDocument,
    range = { start = { line = 8, character = 0 }, ['end'] = { line = 9, character = 0 } },
  })
  record('tokens_in_range', #in_range.data / 5)
  local links = ask(buf, 'textDocument/documentLink', doc) or {}
  local targets = {}
  for _, l in ipairs(links) do table.insert(targets, vim.fn.fnamemodify(vim.uri_to_fname(l.target), ':t')) end
  record('links', targets)
  local hints = ask(buf, 'textDocument/inlayHint', {
    textDocument = doc.textDocument,
    range = { start = { line = 0, character = 0 }, ['end'] = { line = 100, character = 0 } },
  }) or {}
  record('hints', #hints)
  local found = ask(buf, 'workspace/symbol', { query = 'double' }) or {}
  record('workspace_symbol', found[1] and vim.fn.fnamemodify(vim.uri_to_fname(found[1].location.uri), ':t'))

  -- A rewrite, applied by Neovim.
  local range_params = cursor_on(buf, 'demo')
  local actions = ask(buf, 'textDocument/codeAction', {
    textDocument = doc.textDocument,
    range = { start = range_params.position, ['end'] = range_params.position },
    context = { diagnostics = {}, only = { 'refactor.rewrite' } },
  }) or {}
  for _, action in ipairs(actions) do
    if action.title:find('indented', 1, true) then
      -- As Neovim's code_action() does: resolve an action sent without
      -- its edit.
      if not action.edit then
        action = ask(buf, 'codeAction/resolve', action)
      end
      vim.lsp.util.apply_workspace_edit(action.edit, 'utf-16')
    end
  end
  record('rewritten', vim.api.nvim_buf_get_lines(buf, 3, 4, false)[1])

  -- Rename, applied by Neovim, after asking whether it may.
  local prepared = ask(buf, 'textDocument/prepareRename', cursor_on(buf, 'name ='))
  record('prepare_rename', prepared.placeholder)
  local rename = cursor_on(buf, 'name =')
  rename.newName = 'label2'
  local edit = ask(buf, 'textDocument/rename', rename)
  vim.lsp.util.apply_workspace_edit(edit, 'utf-16')
  record('renamed', vim.api.nvim_buf_get_lines(buf, 0, -1, false))

  -- Go to definition, into the imported file.
  local definition = ask(buf, 'textDocument/definition', cursor_on(buf, 'double', 1))
  local location = definition[1] or definition
  vim.lsp.util.jump_to_location(location, 'utf-16')
  local here = vim.api.nvim_win_get_cursor(0)
  record('definition', {
    file = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ':t'),
    line = here[1],
    col = here[2],
  })

  -- Back in main.nix: the server's syntax tree (the `cim-nix/syntaxTree`
  -- request the VS Code command sends).
  vim.cmd('buffer ' .. buf)
  local tree = ask(buf, 'cim-nix/syntaxTree', doc)
  record('syntax_tree', vim.split(tree, '\n')[1])

  -- Range formatting of one badly spaced line, applied by Neovim.
  vim.api.nvim_buf_set_lines(buf, 8, 9, false, { '  items   =   map (x: x) [  ];' })
  local edits = ask(buf, 'textDocument/rangeFormatting', {
    textDocument = doc.textDocument,
    range = { start = { line = 8, character = 0 }, ['end'] = { line = 8, character = 30 } },
    options = { tabSize = 2, insertSpaces = true },
  }) or {}
  vim.lsp.util.apply_text_edits(edits, buf, 'utf-16')
  record('range_formatted', vim.api.nvim_buf_get_lines(buf, 8, 9, false)[1])

  -- Fix all: two unused bindings go in one action.
  vim.api.nvim_buf_set_lines(buf, 2, 2, false, { '  spare = 1;', '  other = 2;' })
  vim.wait(5000, function()
    return #vim.diagnostic.get(buf) >= 2
  end, 20)
  local fixes = ask(buf, 'textDocument/codeAction', {
    textDocument = doc.textDocument,
    range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } },
    context = { diagnostics = {}, only = { 'source.fixAll' } },
  }) or {}
  local kinds = {}
  for _, action in ipairs(fixes) do
    table.insert(kinds, action.kind)
    if not action.edit then action = ask(buf, 'codeAction/resolve', action) end
    vim.lsp.util.apply_workspace_edit(action.edit, 'utf-16')
  end
  record('fix_all_kinds', kinds)
  record('fixed_all', vim.api.nvim_buf_get_lines(buf, 1, 4, false))

  -- A dotfile migrated by the server's command; Neovim applies the edit
  -- the server sends back (workspace/applyEdit).
  local result = ask(buf, 'workspace/executeCommand', {
    command = 'cim-nix.migrateDotfile',
    arguments = { { dotfile = vim.fn.fnamemodify(file, ':h') .. '/gitconfig', target = uri } },
  })
  record('migrate_result', result.option)
  local migrated = {}
  for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find('programs.git', 1, true) or line:find('name = ', 1, true) then
      table.insert(migrated, line)
    end
  end
  record('migrated', migrated)
end)
if not ok then seen.error = tostring(err) end
finish()
