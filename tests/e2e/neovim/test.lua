-- End-to-end test of editors/neovim/lsp/tokenguard.lua in a real Neovim (0.11+).
--
-- Run through tests/e2e/neovim/run.sh, which starts
--   nvim --headless --clean -n --cmd 'set rtp+=editors/neovim' -l tests/e2e/neovim/test.lua
-- from the repository root with `tokenguard` first on PATH. The server is
-- started by the shipped config through vim.lsp.enable('tokenguard'). The
-- main cases override only the didChange debounce (0 instead of 150 ms); the
-- last two restart the server with a client capability (UTF-16 positions
-- only) and with user settings merged in by vim.lsp.config.
--
-- Output goes to stdout: one line per case, `PASS name (N ms)`,
-- `FAIL name (N ms): reason`, then `N passed, N failed`. Exit status 1 on any failure.

local uv = vim.uv

local repo = assert(uv.fs_realpath(assert(uv.cwd())))
local fixtures = repo .. '/tests/e2e/neovim/fixtures'
local TIMEOUT = tonumber(vim.env.TOKENGUARD_E2E_TIMEOUT_MS or '') or 10000

local function out(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

local passed, failed = 0, 0

--- A failed expectation: a message, no traceback.
local function fail(fmt, ...)
  error({ message = fmt:format(...) }, 0)
end

local function run(fn)
  local start = uv.hrtime()
  local ok, err = xpcall(fn, function(e)
    if type(e) == 'table' and e.message then
      return e.message
    end
    return debug.traceback(tostring(e), 2)
  end)
  return ok, err, (uv.hrtime() - start) / 1e6
end

--- Runs one case; an error inside it is its failure.
local function case(name, fn)
  local ok, err, ms = run(fn)
  if ok then
    passed = passed + 1
    out(('PASS %s (%.0f ms)'):format(name, ms))
  else
    failed = failed + 1
    out(('FAIL %s (%.0f ms): %s'):format(name, ms, err))
  end
end

local function finish()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'tokenguard' })) do
    client:stop()
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients({ name = 'tokenguard' }) == 0
  end, 10)
  out(('%d passed, %d failed'):format(passed, failed))
  vim.cmd(failed == 0 and 'cquit 0' or 'cquit 1')
end

local function expect_eq(what, got, want)
  if got ~= want then
    fail('%s: got %s, want %s', what, vim.inspect(got), vim.inspect(want))
  end
end

local function wait_for(what, cond)
  if not vim.wait(TIMEOUT, cond, 5) then
    fail('timed out after %d ms waiting for %s', TIMEOUT, what)
  end
end

local function read_file(path)
  local f = assert(io.open(path, 'rb'))
  local data = f:read('*a')
  f:close()
  return data
end

local function write_file(path, data)
  local f = assert(io.open(path, 'wb'))
  f:write(data)
  f:close()
end

--- The buffer's text as it would be written (LF, final newline per 'eol').
local function buf_text(buf)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, true), '\n')
  if vim.bo[buf].eol then
    text = text .. '\n'
  end
  return text
end

--- Where two texts first differ, for a readable failure.
local function first_difference(got, want)
  if got == want then
    return nil
  end
  local got_lines = vim.split(got, '\n', { plain = true })
  local want_lines = vim.split(want, '\n', { plain = true })
  for i = 1, math.max(#got_lines, #want_lines) do
    if got_lines[i] ~= want_lines[i] then
      return ('line %d: got %s, want %s'):format(i, vim.inspect(got_lines[i]), vim.inspect(want_lines[i]))
    end
  end
  return 'texts differ'
end

local function expect_text(buf, want)
  local diff = first_difference(buf_text(buf), want)
  if diff then
    fail('buffer text differs from the expected text at %s', diff)
  end
end

--- tokenguard's diagnostics of a buffer, sorted by position.
local function diags(buf)
  local found = vim.tbl_filter(function(d)
    return d.source == 'tokenguard'
  end, vim.diagnostic.get(buf))
  table.sort(found, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  return found
end

local function positions(list)
  return vim.tbl_map(function(d)
    return ('%d:%d'):format(d.lnum, d.col)
  end, list)
end

--- Waits until the buffer's diagnostics start exactly at `want`
--- ({ {lnum, col}, ... }, 0-based, col in bytes).
local function wait_diags(buf, want, timeout)
  timeout = timeout or TIMEOUT
  local wanted = positions(vim.tbl_map(function(p)
    return { lnum = p[1], col = p[2] }
  end, want))
  local ok = vim.wait(timeout, function()
    return vim.deep_equal(positions(diags(buf)), wanted)
  end, 5)
  if not ok then
    fail(
      'timed out after %d ms waiting for diagnostics at [%s]; have [%s]',
      timeout,
      table.concat(wanted, ' '),
      table.concat(positions(diags(buf)), ' ')
    )
  end
  return diags(buf)
end

--- Asks the server for the buffer's diagnostics again, when it serves pull
--- diagnostics (with pushed ones there is nothing to ask for). Uses the
--- function Neovim 0.11 itself calls after a didChange.
local function repull(buf)
  if #vim.lsp.get_clients({ bufnr = buf, method = 'textDocument/diagnostic' }) > 0 then
    vim.lsp.util._refresh('textDocument/diagnostic', { bufnr = buf })
  end
end

local function client_of(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'tokenguard' })[1]
end

--- Opens a file in the current window and waits for tokenguard to attach.
local function open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  wait_for('tokenguard to attach to ' .. path, function()
    local client = client_of(buf)
    return client ~= nil and client.initialized == true
  end)
  return buf, client_of(buf)
end

local function show(buf)
  vim.api.nvim_win_set_buf(0, buf)
end

--- Runs vim.lsp.buf.code_action with `opts` on the current buffer, cursor at
--- (lnum, col), and waits for the buffer to change.
local function apply_code_action(buf, lnum, col, opts)
  show(buf)
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
  local tick = vim.b[buf].changedtick
  vim.lsp.buf.code_action(opts)
  wait_for('the code action to change the buffer', function()
    return vim.b[buf].changedtick ~= tick
  end)
end

local function quick_fix(buf, d)
  apply_code_action(buf, d.lnum, d.col, {
    filter = function(a)
      return a.isPreferred == true
    end,
    apply = true,
  })
end

local function hover_at(buf, lnum, col)
  show(buf)
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
  local client = assert(client_of(buf))
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, TIMEOUT)
  local response = responses and responses[client.id]
  if not response then
    fail('no hover response within %d ms', TIMEOUT)
  end
  if response.err then
    fail('hover failed: %s', vim.inspect(response.err))
  end
  return response.result
end

local function expect_markdown_hover(result, needle)
  if type(result) ~= 'table' or type(result.contents) ~= 'table' then
    fail('hover returned %s', vim.inspect(result))
  end
  expect_eq('hover contents kind', result.contents.kind, 'markdown')
  if not result.contents.value:find(needle, 1, true) then
    fail('hover text lacks %q: %s', needle, result.contents.value)
  end
end

--- Byte column (0-based) of the first `needle` in a buffer line.
local function byte_col(buf, lnum, needle)
  local line = vim.api.nvim_buf_get_lines(buf, lnum, lnum + 1, true)[1]
  local at = line:find(needle, 1, true)
  if not at then
    fail('line %d has no %q: %s', lnum, needle, line)
  end
  return at - 1, line
end

if vim.env.TOKENGUARD_E2E_LSP_LOG then
  -- e.g. 'debug': every message in $XDG_STATE_HOME/nvim/lsp.log
  vim.lsp.log.set_level(vim.env.TOKENGUARD_E2E_LSP_LOG)
end

-- How many diagnostic results (pulled or pushed) each buffer has received.
local results = {}
vim.api.nvim_create_autocmd('LspRequest', {
  callback = function(args)
    local request = args.data.request
    if request.type == 'complete' and request.method == 'textDocument/diagnostic' then
      results[request.bufnr] = (results[request.bufnr] or 0) + 1
    end
  end,
})
local publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
  if result then
    local buf = vim.uri_to_bufnr(result.uri)
    results[buf] = (results[buf] or 0) + 1
  end
  return publish(err, result, ctx, config)
end

-- A prompt would block a headless run: no test may need one.
vim.ui.select = function(items, _, on_choice)
  out(('note: vim.ui.select was asked to choose among %d items'):format(#items))
  on_choice(nil)
end

---------------------------------------------------------------------------
-- The workspace: a copy of the fixtures in a fresh folder that holds `.git`,
-- so the shipped root_markers make it the root and nothing else is indexed.
---------------------------------------------------------------------------

local work = vim.env.TOKENGUARD_E2E_WORKSPACE or vim.fn.tempname()
vim.fn.mkdir(work .. '/.git', 'p')
for _, name in ipairs({
  'deployment.yaml',
  'unicode.yaml',
  'workloads.yaml',
  'accounts.yaml',
  'web.yaml',
  'nav-accounts.yaml',
  'nav-workloads.yaml',
  'nav-role.yaml',
}) do
  write_file(work .. '/' .. name, read_file(fixtures .. '/' .. name))
end
write_file(work .. '/unicode16.yaml', read_file(fixtures .. '/unicode.yaml'))
work = assert(uv.fs_realpath(work))

local setup_start = uv.hrtime()
local fatal = false

case('the shipped config is the one on the runtimepath', function()
  local files = vim.api.nvim_get_runtime_file('lsp/tokenguard.lua', true)
  expect_eq('lsp/tokenguard.lua files on the runtimepath', #files, 1)
  expect_eq('its path', assert(uv.fs_realpath(files[1])), repo .. '/editors/neovim/lsp/tokenguard.lua')
  if vim.fn.executable('tokenguard') ~= 1 then
    fatal = true
    fail('`tokenguard` is not on PATH (%s): vim.lsp.enable would start nothing', vim.env.PATH)
  end
  vim.lsp.config('tokenguard', { flags = { debounce_text_changes = 0 } })
  local config = vim.lsp.config.tokenguard
  expect_eq('cmd', table.concat(config.cmd, ' '), 'tokenguard server')
  expect_eq('filetypes', table.concat(config.filetypes, ','), 'yaml,helm')
  expect_eq('debounce', config.flags.debounce_text_changes, 0)
  vim.lsp.enable('tokenguard')
end)
if fatal then
  finish()
end

local deployment, unicode, workloads

case('opening a manifest starts the server with the workspace root and UTF-8 positions', function()
  local client
  deployment, client = open(work .. '/deployment.yaml')
  expect_eq('filetype', vim.bo[deployment].filetype, 'yaml')
  expect_eq('root_dir', client.root_dir, work)
  expect_eq('server name', client.server_info and client.server_info.name, 'tokenguard')
  expect_eq('negotiated position encoding', client.offset_encoding, 'utf-8')
  out(('setup: server attached in %.0f ms'):format((uv.hrtime() - setup_start) / 1e6))
end)
if not deployment or not client_of(deployment) then
  fatal = true
  finish()
end

-- (a) diagnostics at the exact place ----------------------------------------

case('a: Deployment without the field is reported on its pod spec key', function()
  local d = wait_diags(deployment, { { 14, 4 } })[1]
  expect_eq('end', ('%d:%d'):format(d.end_lnum, d.end_col), '14:8')
  expect_eq('code', d.code, 'TG001')
  expect_eq('severity (default setting)', d.severity, vim.diagnostic.severity.WARN)
  if not d.message:find('Deployment "web"', 1, true) then
    fail('message does not name the workload: %s', d.message)
  end
end)

local unicode_col
case('a: non-ASCII text before the key on the same line: byte column is exact', function()
  unicode = open(work .. '/unicode.yaml')
  local col, line = byte_col(unicode, 7, 'spec:')
  -- 'é' is 2 bytes and '😀' is 4 bytes (2 UTF-16 units): a server that counts
  -- characters or UTF-16 units here would land 4 or 3 bytes too early.
  expect_eq('byte column of `spec` on that line', col, 51)
  expect_eq('characters before it', vim.str_utfindex(line, 'utf-32', col), 47)
  local d = wait_diags(unicode, { { 7, col } })[1]
  expect_eq('end column', d.end_col, col + 4)
  unicode_col = col
end)

-- (c) edits move the finding ---------------------------------------------------

case('c: text inserted inside the non-ASCII line moves the column', function()
  -- Incremental sync: the change starts after the emoji.
  local at = byte_col(unicode, 7, '😀') + #'😀'
  vim.api.nvim_buf_set_text(unicode, 7, at, 7, at, { '🎉ü' })
  wait_diags(unicode, { { 7, unicode_col + #'🎉ü' } })
  unicode_col = unicode_col + #'🎉ü'
end)

-- (e) hover -------------------------------------------------------------------

case('e: hover on the reported key after non-ASCII text returns the TG001 explanation', function()
  expect_markdown_hover(hover_at(unicode, 7, unicode_col + 1), 'TG001')
end)

-- (b) the quick fix -------------------------------------------------------------

case('b: preferred quick fix (flow pod spec, non-ASCII line) gives the exact text', function()
  quick_fix(unicode, diags(unicode)[1])
  local want = read_file(fixtures .. '/unicode.fixed.yaml'):gsub('café😀', 'café😀🎉ü')
  expect_text(unicode, want)
  wait_diags(unicode, {})
end)

case('b: preferred quick fix (block pod spec) inserts the field before `containers:`', function()
  quick_fix(deployment, diags(deployment)[1])
  expect_text(deployment, read_file(fixtures .. '/deployment.fixed.yaml'))
  wait_diags(deployment, {})
end)

case('b: the fixed buffer has no quick fix left', function()
  show(deployment)
  vim.api.nvim_win_set_cursor(0, { 15, 6 })
  local client = assert(client_of(deployment))
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {}, only = { 'quickfix' } }
  local responses = vim.lsp.buf_request_sync(deployment, 'textDocument/codeAction', params, TIMEOUT)
  local result = responses and responses[client.id] and responses[client.id].result
  expect_eq('code actions', result == nil or #result == 0, true)
end)

case('c: lines inserted above findings move them to the new lines', function()
  workloads = open(work .. '/workloads.yaml')
  -- Pod (explicit true, on the value), CronJob (4th spec), StatefulSet (flow).
  wait_diags(workloads, { { 5, 32 }, { 19, 8 }, { 35, 4 } })
  vim.api.nvim_buf_set_lines(workloads, 10, 10, true, { '# inserted above the CronJob', '# second line' })
  wait_diags(workloads, { { 5, 32 }, { 21, 8 }, { 37, 4 } })
end)

case('e: hover on a reported `spec` key returns markdown', function()
  expect_markdown_hover(hover_at(workloads, 21, 9), 'TG001')
end)

case('e: hover away from any finding returns nothing', function()
  local result = hover_at(workloads, 0, 2)
  expect_eq('hover result', result, nil)
end)

case('b: the quick-fix menu offers the fix, the ignore comment, nothing else', function()
  show(workloads)
  vim.api.nvim_win_set_cursor(0, { 22, 8 })
  local client = assert(client_of(workloads))
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {}, only = { 'quickfix' } }
  local responses = vim.lsp.buf_request_sync(workloads, 'textDocument/codeAction', params, TIMEOUT)
  local result = (responses and responses[client.id] and responses[client.id].result) or {}
  local titles = vim.tbl_map(function(a)
    return (a.isPreferred and '*' or '') .. a.title
  end, result)
  expect_eq('number of quick fixes', #result, 2)
  if not titles[1]:find('^%*') or titles[2]:find('^%*') or not titles[2]:find('tokenguard%-ignore') then
    fail('unexpected quick fixes: %s', vim.inspect(titles))
  end
end)

-- (d) fix-all ---------------------------------------------------------------------

case('d: source.fixAll fixes every finding of the buffer, byte for byte', function()
  apply_code_action(workloads, 0, 0, { context = { only = { 'source.fixAll' } }, apply = true })
  local want = vim.split(read_file(fixtures .. '/workloads.fixed.yaml'), '\n', { plain = true })
  table.insert(want, 11, '# inserted above the CronJob')
  table.insert(want, 12, '# second line')
  expect_text(workloads, table.concat(want, '\n'))
  wait_diags(workloads, {})
end)

case('e: hover on the inserted field explains it', function()
  local col = byte_col(workloads, 23, 'automountServiceAccountToken')
  expect_markdown_hover(hover_at(workloads, 23, col + 3), '### `automountServiceAccountToken`')
end)

-- A ServiceAccount in another file -----------------------------------------------

local web, accounts
case('workspace: the ServiceAccount in another file is found; its fix edits that file', function()
  web = open(work .. '/web.yaml')
  local d = wait_diags(web, { { 13, 4 } })[1]
  if not d.message:find('ServiceAccount "web" (namespace "shop") explicitly enables', 1, true) then
    fail('message does not mention the enabling ServiceAccount: %s', d.message)
  end
  if not (d.relatedInformation or (d.user_data and d.user_data.lsp and d.user_data.lsp.relatedInformation)) then
    fail('no related information pointing at the ServiceAccount')
  end
  show(web)
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  vim.lsp.buf.code_action({
    filter = function(a)
      return vim.startswith(a.title, 'Disable automounting on ServiceAccount')
    end,
    apply = true,
  })
  local want = read_file(fixtures .. '/accounts.fixed.yaml')
  wait_for('the edit to load and change accounts.yaml', function()
    accounts = vim.fn.bufnr(work .. '/accounts.yaml')
    return accounts > 0 and vim.api.nvim_buf_is_loaded(accounts) and buf_text(accounts) == want
  end)
  expect_text(web, read_file(fixtures .. '/web.yaml'))
end)

case('workspace: disabling it on the ServiceAccount clears the Deployment (no edit there)', function()
  -- The server re-publishes the Deployment once the account changes; asking
  -- again as well (a pull, where the server uses pull diagnostics) is harmless.
  wait_for('the Deployment in web.yaml to be clean', function()
    repull(web)
    vim.wait(50)
    return #diags(web) == 0
  end)
end)

-- Results that depend on other files ---------------------------------------------
-- Neovim 0.11 cannot be asked to pull again, so the server pushes to it: a
-- buffer follows edits of another file, and a result computed before the
-- workspace index was built is replaced once it is.

case('workspace: a Deployment in another window follows edits of its ServiceAccount', function()
  -- web.yaml is clean: its ServiceAccount is disabled in the accounts.yaml buffer.
  -- Turn automounting back on there, in a window of its own.
  show(web)
  vim.cmd('split')
  vim.api.nvim_win_set_buf(0, accounts)
  local col = byte_col(accounts, 5, 'false')
  vim.api.nvim_buf_set_text(accounts, 5, col, 5, col + #'false', { 'true' })
  wait_diags(web, { { 13, 4 } }, 3000)
end)
vim.cmd('silent! only')

case(
  'workspace: on the first open, a ServiceAccount in another file already counts',
  function()
    local work2 = vim.fn.tempname()
    vim.fn.mkdir(work2 .. '/.git', 'p')
    vim.fn.mkdir(work2 .. '/more', 'p')
    local web_text = read_file(fixtures .. '/web.yaml')
    for i = 1, 200 do
      write_file(('%s/more/app%d.yaml'):format(work2, i), (web_text:gsub('storefront', 'app' .. i)))
    end
    write_file(work2 .. '/accounts.yaml', read_file(fixtures .. '/accounts.fixed.yaml'))
    write_file(work2 .. '/web.yaml', web_text)
    work2 = assert(uv.fs_realpath(work2))
    local buf, client = open(work2 .. '/web.yaml')
    expect_eq('root_dir (a second server)', client.root_dir, work2)
    wait_for('the first diagnostics of web.yaml', function()
      return (results[buf] or 0) > 0
    end)
    if not vim.wait(3000, function()
      return #diags(buf) == 0
    end, 5) then
      fail('still reported 3 s after the first result: %s', diags(buf)[1].message)
    end
  end
)

-- Navigation: definition, references, completion -------------------------------
-- nav-accounts.yaml declares ServiceAccount `builder` (namespace ci) after
-- non-ASCII text on its line; nav-workloads.yaml runs a Deployment and a Job
-- (its name after non-ASCII text too) as it, and a RoleBinding grants it the
-- Role of nav-role.yaml. The accounts file is not open before the jump: the
-- server reads it from the workspace.

local nav_workloads, nav_accounts

--- The first `textDocument/*` result of tokenguard for the current window's
--- position, asked until `accept` takes it (the workspace index may still be
--- reading the file).
local function request_at(buf, lnum, col, method, extra, accept)
  show(buf)
  vim.api.nvim_win_set_cursor(0, { lnum + 1, col })
  local client = assert(client_of(buf))
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params = vim.tbl_extend('force', params, extra or {})
  local result
  wait_for(method .. ' to answer', function()
    local responses = vim.lsp.buf_request_sync(buf, method, params, TIMEOUT)
    local response = responses and responses[client.id]
    if response and response.err then
      fail('%s failed: %s', method, vim.inspect(response.err))
    end
    result = response and response.result
    return accept(result)
  end)
  return result
end

case('navigation: go to definition from serviceAccountName jumps to the ServiceAccount in a file not open', function()
  nav_workloads = open(work .. '/nav-workloads.yaml')
  local target = work .. '/nav-accounts.yaml'
  expect_eq('nav-accounts.yaml loaded before the jump', vim.fn.bufloaded(target), 0)
  local col = byte_col(nav_workloads, 12, 'builder')
  -- The server answers with the account's place (asked until the index has it).
  request_at(nav_workloads, 12, col + 2, 'textDocument/definition', nil, function(result)
    return type(result) == 'table' and #result > 0
  end)
  -- The real command jumps there.
  show(nav_workloads)
  vim.api.nvim_win_set_cursor(0, { 13, col + 2 })
  vim.lsp.buf.definition()
  wait_for('the jump to nav-accounts.yaml', function()
    return vim.api.nvim_buf_get_name(0) == target
  end)
  nav_accounts = vim.api.nvim_get_current_buf()
  -- `builder` follows "équipe 😀" (multibyte) on line 3: the byte column is exact.
  local want = byte_col(nav_accounts, 2, 'builder')
  expect_eq('cursor after the jump', table.concat(vim.api.nvim_win_get_cursor(0), ':'), ('3:%d'):format(want))
end)

case('navigation: go to definition from the Job (non-ASCII text before the name) finds the same account', function()
  local col = byte_col(nav_workloads, 24, 'builder')
  local result = request_at(nav_workloads, 24, col, 'textDocument/definition', nil, function(result)
    return type(result) == 'table' and #result > 0
  end)
  expect_eq('locations', #result, 1)
  expect_eq('uri', result[1].uri, vim.uri_from_fname(work .. '/nav-accounts.yaml'))
  expect_eq('line', result[1].range.start.line, 2)
  expect_eq('byte column (utf-8)', result[1].range.start.character, byte_col(nav_accounts, 2, 'builder'))
end)

case('navigation: references from the ServiceAccount list the workloads that run as it', function()
  show(nav_accounts)
  vim.api.nvim_win_set_cursor(0, { 3, byte_col(nav_accounts, 2, 'builder') + 1 })
  local items
  vim.lsp.buf.references({ includeDeclaration = false }, {
    on_list = function(list)
      items = list.items
    end,
  })
  wait_for('the references list', function()
    return items ~= nil
  end)
  local got = vim.tbl_map(function(item)
    return ('%s:%d:%d'):format(vim.fn.fnamemodify(item.filename, ':t'), item.lnum, item.col)
  end, items)
  table.sort(got)
  local want = {
    ('nav-accounts.yaml:23:%d'):format(byte_col(nav_accounts, 22, 'builder') + 1),
    ('nav-workloads.yaml:13:%d'):format(byte_col(nav_workloads, 12, 'builder') + 1),
    ('nav-workloads.yaml:25:%d'):format(byte_col(nav_workloads, 24, 'builder') + 1),
  }
  -- The two workloads and the RoleBinding's subject.
  expect_eq('references', table.concat(got, ' '), table.concat(want, ' '))
  -- With the declaration (Neovim's default context).
  local all
  vim.lsp.buf.references(nil, {
    on_list = function(list)
      all = list.items
    end,
  })
  wait_for('the references list with the declaration', function()
    return all ~= nil
  end)
  expect_eq('references with the declaration', #all, 4)
end)

case("navigation: go to definition from a RoleBinding's roleRef jumps to the Role in a file not open", function()
  local target = work .. '/nav-role.yaml'
  expect_eq('nav-role.yaml loaded before the jump', vim.fn.bufloaded(target), 0)
  local col = byte_col(nav_accounts, 19, 'deployer')
  show(nav_accounts)
  vim.api.nvim_win_set_cursor(0, { 20, col + 3 })
  vim.lsp.buf.definition()
  wait_for('the jump to nav-role.yaml', function()
    return vim.api.nvim_buf_get_name(0) == target
  end)
  local role = vim.api.nvim_get_current_buf()
  expect_eq('cursor after the jump', table.concat(vim.api.nvim_win_get_cursor(0), ':'), ('4:%d'):format(byte_col(role, 3, 'deployer')))
end)

case("navigation: go to definition from a RoleBinding's subject jumps to the ServiceAccount", function()
  show(nav_accounts)
  vim.api.nvim_win_set_cursor(0, { 23, (byte_col(nav_accounts, 22, 'builder')) })
  vim.lsp.buf.definition()
  wait_for('the jump to the account', function()
    local cursor = vim.api.nvim_win_get_cursor(0)
    return vim.api.nvim_get_current_buf() == nav_accounts and cursor[1] == 3
  end)
  expect_eq('column', vim.api.nvim_win_get_cursor(0)[2], byte_col(nav_accounts, 2, 'builder'))
end)

case('navigation: completion at serviceAccountName offers the accounts of the namespace', function()
  local col = byte_col(nav_workloads, 12, 'builder') + #'builder'
  local result = request_at(nav_workloads, 12, col, 'textDocument/completion', nil, function(result)
    return type(result) == 'table'
  end)
  local items = result.items or result
  local labels = vim.tbl_map(function(item)
    return item.label .. '=' .. (item.detail or '')
  end, items)
  table.sort(labels)
  expect_eq('candidates', table.concat(labels, ' | '), table.concat({
    'builder=ServiceAccount · automountServiceAccountToken: false',
    "default=ServiceAccount · the namespace's default (not declared in the workspace)",
    'runner=ServiceAccount · automountServiceAccountToken not set (token mounted)',
  }, ' | '))
end)

-- Inlay hints -----------------------------------------------------------------------
-- Neovim shows the server's inlay hints once enabled for a buffer
-- (vim.lsp.inlay_hint.enable); vim.lsp.inlay_hint.get lists what it shows.

--- The inlay hints Neovim shows in `buf`, as 'line:col label', sorted.
local function shown_hints(buf, count)
  local hints
  wait_for(('%d inlay hints in %s'):format(count, vim.api.nvim_buf_get_name(buf)), function()
    hints = vim.lsp.inlay_hint.get({ bufnr = buf })
    return #hints == count
  end)
  local got = vim.tbl_map(function(h)
    local label = h.inlay_hint.label
    if type(label) == 'table' then
      label = table.concat(vim.tbl_map(function(part)
        return part.value
      end, label))
    end
    return ('%d:%d %s'):format(h.inlay_hint.position.line, h.inlay_hint.position.character, label)
  end, hints)
  table.sort(got)
  return got
end

case('inlay hint: each pod spec that leaves the field to its account shows the effective value', function()
  show(nav_workloads)
  vim.lsp.inlay_hint.enable(true, { bufnr = nav_workloads })
  -- At the end of each `spec:` line; the Job's line holds non-ASCII text
  -- (byte columns, UTF-8 negotiated).
  local job_line = vim.api.nvim_buf_get_lines(nav_workloads, 24, 25, true)[1]
  local want = {
    '11:9 token off: ServiceAccount builder',
    ('24:%d token off: ServiceAccount builder'):format(#job_line),
  }
  table.sort(want)
  expect_eq('hints', table.concat(shown_hints(nav_workloads, 2), ' | '), table.concat(want, ' | '))
end)

case('inlay hint: an account in another buffer that mounts the token says so', function()
  -- web.yaml runs as ServiceAccount web, which accounts.yaml (its buffer)
  -- set back to `true` above.
  show(web)
  vim.lsp.inlay_hint.enable(true, { bufnr = web })
  expect_eq('hints', table.concat(shown_hints(web, 1), ' | '), '13:9 token mounted: ServiceAccount web')
end)

-- The same server through UTF-16 positions ---------------------------------------
-- A client that does not offer UTF-8 (many editors) gets UTF-16: Neovim then
-- converts the server's UTF-16 columns to bytes. The emoji is 2 UTF-16 units.

case('utf-16: a client without UTF-8 gets UTF-16 columns that land on the same byte', function()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'tokenguard' })) do
    client:stop()
  end
  wait_for('the UTF-8 server to stop', function()
    return #vim.lsp.get_clients({ name = 'tokenguard' }) == 0
  end)
  vim.lsp.config('tokenguard', { capabilities = { general = { positionEncodings = { 'utf-16', 'utf-32' } } } })
  local buf, client = open(work .. '/unicode16.yaml')
  expect_eq('offered encodings', table.concat(client.capabilities.general.positionEncodings, ','), 'utf-16,utf-32')
  expect_eq('negotiated position encoding', client.offset_encoding, 'utf-16')
  local col = byte_col(buf, 7, 'spec:')
  wait_diags(buf, { { 7, col } })
  local at = byte_col(buf, 7, '😀') + #'😀'
  vim.api.nvim_buf_set_text(buf, 7, at, 7, at, { '🎉ü' })
  col = col + #'🎉ü'
  local d = wait_diags(buf, { { 7, col } })[1]
  expect_eq('end column', d.end_col, col + 4)
  expect_markdown_hover(hover_at(buf, 7, col + 2), 'TG001')
  quick_fix(buf, d)
  expect_text(buf, (read_file(fixtures .. '/unicode.fixed.yaml'):gsub('café😀', 'café😀🎉ü')))
  wait_diags(buf, {})
end)

-- Settings from the user's vim.lsp.config -------------------------------------

case('settings: severity and exclude from vim.lsp.config reach the server', function()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'tokenguard' })) do
    client:stop()
  end
  wait_for('the previous server to stop', function()
    return #vim.lsp.get_clients({ name = 'tokenguard' }) == 0
  end)
  vim.lsp.config('tokenguard', {
    capabilities = { general = { positionEncodings = { 'utf-8', 'utf-16', 'utf-32' } } },
    settings = { tokenguard = { severity = 'error', exclude = { 'skipped/**' } } },
  })
  vim.fn.mkdir(work .. '/skipped', 'p')
  write_file(work .. '/skipped/deployment.yaml', read_file(fixtures .. '/deployment.yaml'))
  write_file(work .. '/settings.yaml', read_file(fixtures .. '/deployment.yaml'))
  local buf = open(work .. '/settings.yaml')
  local d = wait_diags(buf, { { 14, 4 } })[1]
  expect_eq('severity', d.severity, vim.diagnostic.severity.ERROR)
  local skipped = open(work .. '/skipped/deployment.yaml')
  wait_for('the first diagnostics of the excluded file', function()
    return (results[skipped] or 0) > 0
  end)
  expect_eq('diagnostics of the excluded file', #diags(skipped), 0)
end)

finish()
