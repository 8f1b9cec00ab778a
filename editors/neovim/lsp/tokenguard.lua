---@brief
---
--- https://github.com/tokenguard/tokenguard
---
--- Language server for Kubernetes manifests: reports pod specs that leave the
--- service-account token mounted (rule TG001), with a one-line quick fix, an
--- ignore comment, `source.fixAll.tokenguard` and hovers. ServiceAccounts,
--- Helm charts and kustomizations anywhere under the root are taken into
--- account.
---
--- Install the `tokenguard` binary on your `PATH`: a release archive from
--- https://github.com/tokenguard/tokenguard/releases, Mason
--- (`:MasonInstall tokenguard`), or cargo:
---
--- ```sh
--- cargo install --locked tokenguard
--- ```
---
--- Settings (section `tokenguard`, shown with their defaults):
---
--- ```lua
--- vim.lsp.config('tokenguard', {
---   settings = {
---     tokenguard = {
---       enable = true,          -- report anything at all
---       severity = 'warning',   -- TG001 severity: 'error' | 'warning' | 'information' | 'hint'
---       syntaxErrors = true,    -- report YAML syntax errors (TG000)
---       exclude = {},           -- globs, relative to the root or absolute, e.g. '**/charts/**'
---     },
---   },
--- })
--- ```
---
--- The server reads them at startup (they are sent as `initializationOptions`
--- unless you set `init_options` yourself) and again through
--- `workspace/configuration` whenever they change.
---
--- The root is the enclosing git repository when there is one, so that
--- ServiceAccounts declared anywhere in it are seen; otherwise the nearest
--- directory with a `kustomization.yaml` or a `Chart.yaml`.

---@type vim.lsp.Config
return {
  cmd = { 'tokenguard', 'server' },
  filetypes = { 'yaml', 'helm' },
  root_markers = { '.git', 'kustomization.yaml', 'Chart.yaml' },
  settings = {
    tokenguard = {
      enable = true,
      severity = 'warning',
      syntaxErrors = true,
      exclude = {},
    },
  },
  before_init = function(params, config)
    -- Hand the settings over with `initialize` as well, so that the first
    -- diagnostics already follow them.
    if params.initializationOptions == nil then
      params.initializationOptions = config.settings
    end
  end,
}
