-- Drives `nccnav lsp` from Neovim (0.7 and later), headless: opens $SRC, asks at
-- ($LINE, $COL) (from 0) for the definition, the references and the incoming and
-- outgoing calls, and writes each answer as a line of JSON on standard output.
--
--   NCCNAV=... DB=... SRC=... LINE=19 COL=10 nvim --headless -u NONE -i NONE -n -c 'luafile tests/nvim/lsp.lua'
local function out(obj)
  io.stdout:write(vim.fn.json_encode(obj), "\n")
  io.stdout:flush()
end

local function finish(code)
  for _, c in pairs(vim.lsp.get_active_clients()) do
    c.stop()
  end
  vim.wait(2000, function() return #vim.lsp.get_active_clients() == 0 end, 20)
  if code == 0 then vim.cmd('qall!') else vim.cmd('cquit ' .. code) end
end

local function request(client, method, params, bufnr)
  local res, why = client.request_sync(method, params, 10000, bufnr)
  assert(res, method .. ': ' .. tostring(why))
  assert(not res.err, method .. ': ' .. vim.inspect(res.err))
  return res.result
end

local ok, err = pcall(function()
  local file = vim.fn.fnamemodify(os.getenv('SRC'), ':p')
  local id = assert(vim.lsp.start_client({
    name = 'nccnav',
    cmd = { os.getenv('NCCNAV'), 'lsp', os.getenv('DB') },
    root_dir = vim.fn.fnamemodify(file, ':h'),
    get_language_id = function() return 'c' end,
  }), 'start_client failed')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_client_by_id(id)
  vim.lsp.buf_attach_client(bufnr, id)
  assert(vim.wait(10000, function() return client.initialized == true end, 20), 'initialize timed out')
  local at = {
    textDocument = { uri = vim.uri_from_fname(file) },
    position = { line = tonumber(os.getenv('LINE')), character = tonumber(os.getenv('COL')) },
  }
  out({ definition = request(client, 'textDocument/definition', at, bufnr) })
  local refs = vim.deepcopy(at)
  refs.context = { includeDeclaration = false }
  out({ references = request(client, 'textDocument/references', refs, bufnr) })
  local items = request(client, 'textDocument/prepareCallHierarchy', at, bufnr)
  assert(type(items) == 'table' and items[1], 'no call hierarchy item')
  out({ incoming = request(client, 'callHierarchy/incomingCalls', { item = items[1] }, bufnr) })
  out({ outgoing = request(client, 'callHierarchy/outgoingCalls', { item = items[1] }, bufnr) })
end)
if not ok then
  io.stderr:write(tostring(err), '\n')
  finish(1)
else
  finish(0)
end
