
use builtin;
use str;

set edit:completion:arg-completer[mcpgw] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcpgw'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcpgw'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --bearer-token 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)'
            cand --token-command 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token'
            cand --timeout 'Seconds one request may take upstream before it is answered with an error (0 = no limit)'
            cand -H 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --header 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --allow-tool 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)'
            cand --deny-tool 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)'
            cand --max-message-size 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --allow-http 'Allow a plain http:// upstream that is not on loopback'
            cand --read-only 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
            cand --no-auto-login 'Never start a browser login from the relay; answer with an error instead'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand relay 'Run the stdio relay for SERVICE (for aliases that share a command''s name)'
            cand login 'Sign in to Alibaba Cloud in the browser and store the tokens'
            cand status 'Show who is logged in, token expiry and configured services'
            cand logout 'Revoke and delete the stored tokens'
            cand services 'List, add or remove service aliases'
            cand doctor 'Check configuration, login, keychain and every service, with fixes'
            cand tools 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`'
            cand call 'Call one tool of SERVICE and print its result'
            cand setup 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it'
            cand completions 'Print a shell completion script (install.sh installs them for you)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;relay'= {
            cand --bearer-token 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)'
            cand --token-command 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token'
            cand --timeout 'Seconds one request may take upstream before it is answered with an error (0 = no limit)'
            cand -H 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --header 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --allow-tool 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)'
            cand --deny-tool 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)'
            cand --max-message-size 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --allow-http 'Allow a plain http:// upstream that is not on loopback'
            cand --read-only 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
            cand --no-auto-login 'Never start a browser login from the relay; answer with an error instead'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;login'= {
            cand --timeout 'Seconds to wait for the browser to come back'
            cand --redirect-uri 'Redirect URI registered on the OAuth app (loopback http only)'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --no-browser 'Print the sign-in URL instead of opening a browser'
            cand --paste 'Paste the redirected URL (or code) back into the terminal; for SSH sessions. Chosen automatically when no display is available'
            cand --background 'Started by a relay that has no usable login: waits for any other login, never reads the terminal, reports progress on stdout one word per line'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;status'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --json 'Machine-readable output'
            cand --all 'Every profile that has a login or configuration'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;logout'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --all 'Log out of every profile'
            cand --no-revoke 'Delete the local tokens without revoking them at Alibaba Cloud'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;services'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List service aliases with their resolved URLs'
            cand add 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
            cand remove 'Remove an alias from the configuration file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;services;list'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --json 'Machine-readable output'
            cand --names 'Aliases only, one per line (for shell completions)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;services;add'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;services;remove'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;services;help'= {
            cand list 'List service aliases with their resolved URLs'
            cand add 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
            cand remove 'Remove an alias from the configuration file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;services;help;list'= {
        }
        &'mcpgw;services;help;add'= {
        }
        &'mcpgw;services;help;remove'= {
        }
        &'mcpgw;services;help;help'= {
        }
        &'mcpgw;doctor'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --json 'Machine-readable output'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;tools'= {
            cand --protocol 'Protocol era to speak to the server'
            cand --bearer-token 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)'
            cand --token-command 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token'
            cand --timeout 'Seconds one request may take upstream before it is answered with an error (0 = no limit)'
            cand -H 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --header 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --allow-tool 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)'
            cand --deny-tool 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)'
            cand --max-message-size 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --all 'Also list the tools the filter hides, with the rule that hides each'
            cand --json 'Machine-readable output: the tools as the server described them, plus mcpgw''s `access` and `hiddenBy` for each'
            cand --allow-http 'Allow a plain http:// upstream that is not on loopback'
            cand --read-only 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
            cand --no-auto-login 'Never start a browser login from the relay; answer with an error instead'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;call'= {
            cand --protocol 'Protocol era to speak to the server'
            cand --bearer-token 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)'
            cand --token-command 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token'
            cand --timeout 'Seconds one request may take upstream before it is answered with an error (0 = no limit)'
            cand -H 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --header 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)'
            cand --allow-tool 'Only expose tools whose name matches this glob, e.g. ''Describe*'' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)'
            cand --deny-tool 'Hide tools whose name matches this glob, e.g. ''Delete*'' (repeatable; wins over --allow-tool)'
            cand --max-message-size 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --json 'Print the raw result as JSON'
            cand --allow-http 'Allow a plain http:// upstream that is not on loopback'
            cand --read-only 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
            cand --no-auto-login 'Never start a browser login from the relay; answer with an error instead'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand claude 'Claude Code: runs `claude mcp add --scope user ...`'
            cand gemini 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
            cand codex 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
            cand cursor 'Cursor: edits ~/.cursor/mcp.json'
            cand vscode 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
            cand claude-desktop 'Claude Desktop: edits claude_desktop_config.json'
            cand windsurf 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;setup;claude'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;gemini'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;codex'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;cursor'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;vscode'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;claude-desktop'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;windsurf'= {
            cand --file 'The file to edit instead of the client''s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project''s .vscode/mcp.json or .cursor/mcp.json'
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand --apply 'Make the change (run the client''s command, or write its file) instead of printing it'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;setup;help'= {
            cand claude 'Claude Code: runs `claude mcp add --scope user ...`'
            cand gemini 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
            cand codex 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
            cand cursor 'Cursor: edits ~/.cursor/mcp.json'
            cand vscode 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
            cand claude-desktop 'Claude Desktop: edits claude_desktop_config.json'
            cand windsurf 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;setup;help;claude'= {
        }
        &'mcpgw;setup;help;gemini'= {
        }
        &'mcpgw;setup;help;codex'= {
        }
        &'mcpgw;setup;help;cursor'= {
        }
        &'mcpgw;setup;help;vscode'= {
        }
        &'mcpgw;setup;help;claude-desktop'= {
        }
        &'mcpgw;setup;help;windsurf'= {
        }
        &'mcpgw;setup;help;help'= {
        }
        &'mcpgw;completions'= {
            cand --profile 'Login profile to use; each profile has its own tokens and may override settings'
            cand --config 'Configuration file [default: <config dir>/mcpgw/config.json]'
            cand --site 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]'
            cand --log-file 'Also append logs to this file'
            cand --ca-cert 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy''s root)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mcpgw;help'= {
            cand relay 'Run the stdio relay for SERVICE (for aliases that share a command''s name)'
            cand login 'Sign in to Alibaba Cloud in the browser and store the tokens'
            cand status 'Show who is logged in, token expiry and configured services'
            cand logout 'Revoke and delete the stored tokens'
            cand services 'List, add or remove service aliases'
            cand doctor 'Check configuration, login, keychain and every service, with fixes'
            cand tools 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`'
            cand call 'Call one tool of SERVICE and print its result'
            cand setup 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it'
            cand completions 'Print a shell completion script (install.sh installs them for you)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;help;relay'= {
        }
        &'mcpgw;help;login'= {
        }
        &'mcpgw;help;status'= {
        }
        &'mcpgw;help;logout'= {
        }
        &'mcpgw;help;services'= {
            cand list 'List service aliases with their resolved URLs'
            cand add 'Add or replace an alias: the server''s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
            cand remove 'Remove an alias from the configuration file'
        }
        &'mcpgw;help;services;list'= {
        }
        &'mcpgw;help;services;add'= {
        }
        &'mcpgw;help;services;remove'= {
        }
        &'mcpgw;help;doctor'= {
        }
        &'mcpgw;help;tools'= {
        }
        &'mcpgw;help;call'= {
        }
        &'mcpgw;help;setup'= {
            cand claude 'Claude Code: runs `claude mcp add --scope user ...`'
            cand gemini 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
            cand codex 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
            cand cursor 'Cursor: edits ~/.cursor/mcp.json'
            cand vscode 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
            cand claude-desktop 'Claude Desktop: edits claude_desktop_config.json'
            cand windsurf 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'
        }
        &'mcpgw;help;setup;claude'= {
        }
        &'mcpgw;help;setup;gemini'= {
        }
        &'mcpgw;help;setup;codex'= {
        }
        &'mcpgw;help;setup;cursor'= {
        }
        &'mcpgw;help;setup;vscode'= {
        }
        &'mcpgw;help;setup;claude-desktop'= {
        }
        &'mcpgw;help;setup;windsurf'= {
        }
        &'mcpgw;help;completions'= {
        }
        &'mcpgw;help;help'= {
        }
    ]
    $completions[$command]
}
