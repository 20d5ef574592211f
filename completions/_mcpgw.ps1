
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mcpgw' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mcpgw'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mcpgw' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--bearer-token', '--bearer-token', [CompletionResultType]::ParameterName, 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)')
            [CompletionResult]::new('--token-command', '--token-command', [CompletionResultType]::ParameterName, 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds one request may take upstream before it is answered with an error (0 = no limit)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--allow-tool', '--allow-tool', [CompletionResultType]::ParameterName, 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)')
            [CompletionResult]::new('--deny-tool', '--deny-tool', [CompletionResultType]::ParameterName, 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow a plain http:// upstream that is not on loopback')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint')
            [CompletionResult]::new('--no-auto-login', '--no-auto-login', [CompletionResultType]::ParameterName, 'Never start a browser login from the relay; answer with an error instead')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Run the stdio relay for SERVICE (for aliases that share a command''s name)')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to Alibaba Cloud in the browser and store the tokens')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show who is logged in, token expiry and configured services')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke and delete the stored tokens')
            [CompletionResult]::new('services', 'services', [CompletionResultType]::ParameterValue, 'List, add or remove service aliases')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check configuration, login, keychain and every service, with fixes')
            [CompletionResult]::new('tools', 'tools', [CompletionResultType]::ParameterValue, 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call one tool of SERVICE and print its result')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (install.sh installs them for you)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;relay' {
            [CompletionResult]::new('--bearer-token', '--bearer-token', [CompletionResultType]::ParameterName, 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)')
            [CompletionResult]::new('--token-command', '--token-command', [CompletionResultType]::ParameterName, 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds one request may take upstream before it is answered with an error (0 = no limit)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--allow-tool', '--allow-tool', [CompletionResultType]::ParameterName, 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)')
            [CompletionResult]::new('--deny-tool', '--deny-tool', [CompletionResultType]::ParameterName, 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow a plain http:// upstream that is not on loopback')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint')
            [CompletionResult]::new('--no-auto-login', '--no-auto-login', [CompletionResultType]::ParameterName, 'Never start a browser login from the relay; answer with an error instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;login' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser to come back')
            [CompletionResult]::new('--redirect-uri', '--redirect-uri', [CompletionResultType]::ParameterName, 'Redirect URI registered on the OAuth app (loopback http only)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the sign-in URL instead of opening a browser')
            [CompletionResult]::new('--paste', '--paste', [CompletionResultType]::ParameterName, 'Paste the redirected URL (or code) back into the terminal; for SSH sessions. Chosen automatically when no display is available')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Started by a relay that has no usable login: waits for any other login, never reads the terminal, reports progress on stdout one word per line')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;status' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every profile that has a login or configuration')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Log out of every profile')
            [CompletionResult]::new('--no-revoke', '--no-revoke', [CompletionResultType]::ParameterName, 'Delete the local tokens without revoking them at Alibaba Cloud')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;services' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service aliases with their resolved URLs')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove an alias from the configuration file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;services;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Aliases only, one per line (for shell completions)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;services;add' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;services;remove' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;services;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service aliases with their resolved URLs')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove an alias from the configuration file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;services;help;list' {
            break
        }
        'mcpgw;services;help;add' {
            break
        }
        'mcpgw;services;help;remove' {
            break
        }
        'mcpgw;services;help;help' {
            break
        }
        'mcpgw;doctor' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;tools' {
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol era to speak to the server')
            [CompletionResult]::new('--bearer-token', '--bearer-token', [CompletionResultType]::ParameterName, 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)')
            [CompletionResult]::new('--token-command', '--token-command', [CompletionResultType]::ParameterName, 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds one request may take upstream before it is answered with an error (0 = no limit)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--allow-tool', '--allow-tool', [CompletionResultType]::ParameterName, 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)')
            [CompletionResult]::new('--deny-tool', '--deny-tool', [CompletionResultType]::ParameterName, 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also list the tools the filter hides, with the rule that hides each')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output: the tools as the server described them, plus mcpgw''s `access` and `hiddenBy` for each')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow a plain http:// upstream that is not on loopback')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint')
            [CompletionResult]::new('--no-auto-login', '--no-auto-login', [CompletionResultType]::ParameterName, 'Never start a browser login from the relay; answer with an error instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;call' {
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol era to speak to the server')
            [CompletionResult]::new('--bearer-token', '--bearer-token', [CompletionResultType]::ParameterName, 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)')
            [CompletionResult]::new('--token-command', '--token-command', [CompletionResultType]::ParameterName, 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds one request may take upstream before it is answered with an error (0 = no limit)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)')
            [CompletionResult]::new('--allow-tool', '--allow-tool', [CompletionResultType]::ParameterName, 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)')
            [CompletionResult]::new('--deny-tool', '--deny-tool', [CompletionResultType]::ParameterName, 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw result as JSON')
            [CompletionResult]::new('--allow-http', '--allow-http', [CompletionResultType]::ParameterName, 'Allow a plain http:// upstream that is not on loopback')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint')
            [CompletionResult]::new('--no-auto-login', '--no-auto-login', [CompletionResultType]::ParameterName, 'Never start a browser login from the relay; answer with an error instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('claude', 'claude', [CompletionResultType]::ParameterValue, 'Claude Code: runs `claude mcp add --scope user ...`')
            [CompletionResult]::new('gemini', 'gemini', [CompletionResultType]::ParameterValue, 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)')
            [CompletionResult]::new('cursor', 'cursor', [CompletionResultType]::ParameterValue, 'Cursor: edits ~/.cursor/mcp.json')
            [CompletionResult]::new('vscode', 'vscode', [CompletionResultType]::ParameterValue, 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)')
            [CompletionResult]::new('claude-desktop', 'claude-desktop', [CompletionResultType]::ParameterValue, 'Claude Desktop: edits claude_desktop_config.json')
            [CompletionResult]::new('windsurf', 'windsurf', [CompletionResultType]::ParameterValue, 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;setup;claude' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;gemini' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;codex' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;cursor' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;vscode' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;claude-desktop' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;windsurf' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Make the change (run the client''s command, or write its file) instead of printing it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;setup;help' {
            [CompletionResult]::new('claude', 'claude', [CompletionResultType]::ParameterValue, 'Claude Code: runs `claude mcp add --scope user ...`')
            [CompletionResult]::new('gemini', 'gemini', [CompletionResultType]::ParameterValue, 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)')
            [CompletionResult]::new('cursor', 'cursor', [CompletionResultType]::ParameterValue, 'Cursor: edits ~/.cursor/mcp.json')
            [CompletionResult]::new('vscode', 'vscode', [CompletionResultType]::ParameterValue, 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)')
            [CompletionResult]::new('claude-desktop', 'claude-desktop', [CompletionResultType]::ParameterValue, 'Claude Desktop: edits claude_desktop_config.json')
            [CompletionResult]::new('windsurf', 'windsurf', [CompletionResultType]::ParameterValue, 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;setup;help;claude' {
            break
        }
        'mcpgw;setup;help;gemini' {
            break
        }
        'mcpgw;setup;help;codex' {
            break
        }
        'mcpgw;setup;help;cursor' {
            break
        }
        'mcpgw;setup;help;vscode' {
            break
        }
        'mcpgw;setup;help;claude-desktop' {
            break
        }
        'mcpgw;setup;help;windsurf' {
            break
        }
        'mcpgw;setup;help;help' {
            break
        }
        'mcpgw;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Login profile to use; each profile has its own tokens and may override settings')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: <config dir>/mcpgw/config.json]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append logs to this file')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mcpgw;help' {
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Run the stdio relay for SERVICE (for aliases that share a command''s name)')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to Alibaba Cloud in the browser and store the tokens')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show who is logged in, token expiry and configured services')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke and delete the stored tokens')
            [CompletionResult]::new('services', 'services', [CompletionResultType]::ParameterValue, 'List, add or remove service aliases')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check configuration, login, keychain and every service, with fixes')
            [CompletionResult]::new('tools', 'tools', [CompletionResultType]::ParameterValue, 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`')
            [CompletionResult]::new('call', 'call', [CompletionResultType]::ParameterValue, 'Call one tool of SERVICE and print its result')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (install.sh installs them for you)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mcpgw;help;relay' {
            break
        }
        'mcpgw;help;login' {
            break
        }
        'mcpgw;help;status' {
            break
        }
        'mcpgw;help;logout' {
            break
        }
        'mcpgw;help;services' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List service aliases with their resolved URLs')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove an alias from the configuration file')
            break
        }
        'mcpgw;help;services;list' {
            break
        }
        'mcpgw;help;services;add' {
            break
        }
        'mcpgw;help;services;remove' {
            break
        }
        'mcpgw;help;doctor' {
            break
        }
        'mcpgw;help;tools' {
            break
        }
        'mcpgw;help;call' {
            break
        }
        'mcpgw;help;setup' {
            [CompletionResult]::new('claude', 'claude', [CompletionResultType]::ParameterValue, 'Claude Code: runs `claude mcp add --scope user ...`')
            [CompletionResult]::new('gemini', 'gemini', [CompletionResultType]::ParameterValue, 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)')
            [CompletionResult]::new('cursor', 'cursor', [CompletionResultType]::ParameterValue, 'Cursor: edits ~/.cursor/mcp.json')
            [CompletionResult]::new('vscode', 'vscode', [CompletionResultType]::ParameterValue, 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)')
            [CompletionResult]::new('claude-desktop', 'claude-desktop', [CompletionResultType]::ParameterValue, 'Claude Desktop: edits claude_desktop_config.json')
            [CompletionResult]::new('windsurf', 'windsurf', [CompletionResultType]::ParameterValue, 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json')
            break
        }
        'mcpgw;help;setup;claude' {
            break
        }
        'mcpgw;help;setup;gemini' {
            break
        }
        'mcpgw;help;setup;codex' {
            break
        }
        'mcpgw;help;setup;cursor' {
            break
        }
        'mcpgw;help;setup;vscode' {
            break
        }
        'mcpgw;help;setup;claude-desktop' {
            break
        }
        'mcpgw;help;setup;windsurf' {
            break
        }
        'mcpgw;help;completions' {
            break
        }
        'mcpgw;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
