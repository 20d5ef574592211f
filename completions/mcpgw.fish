# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcpgw_global_optspecs
    string join \n profile= config= site= v/verbose log-file= ca-cert= bearer-token= token-command= allow-http timeout= H/header= allow-tool= deny-tool= read-only no-auto-login max-message-size= h/help V/version
end

function __fish_mcpgw_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcpgw_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcpgw_using_subcommand
    set -l cmd (__fish_mcpgw_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcpgw -n "__fish_mcpgw_needs_command" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l bearer-token -d 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l token-command -d 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l timeout -d 'Seconds one request may take upstream before it is answered with an error (0 = no limit)' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s H -l header -d 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l allow-tool -d 'Only expose tools whose name matches this glob, e.g. \'Describe*\' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l deny-tool -d 'Hide tools whose name matches this glob, e.g. \'Delete*\' (repeatable; wins over --allow-tool)' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l max-message-size -d 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on' -r
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l allow-http -d 'Allow a plain http:// upstream that is not on loopback'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l read-only -d 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l no-auto-login -d 'Never start a browser login from the relay; answer with an error instead'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s V -l version -d 'Print version'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "relay" -d 'Run the stdio relay for SERVICE (for aliases that share a command\'s name)'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "login" -d 'Sign in to Alibaba Cloud in the browser and store the tokens'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "status" -d 'Show who is logged in, token expiry and configured services'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "logout" -d 'Revoke and delete the stored tokens'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "services" -d 'List, add or remove service aliases'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "doctor" -d 'Check configuration, login, keychain and every service, with fixes'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "tools" -d 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "call" -d 'Call one tool of SERVICE and print its result'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "setup" -d 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "completions" -d 'Print a shell completion script (install.sh installs them for you)'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l bearer-token -d 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l token-command -d 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l timeout -d 'Seconds one request may take upstream before it is answered with an error (0 = no limit)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -s H -l header -d 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l allow-tool -d 'Only expose tools whose name matches this glob, e.g. \'Describe*\' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l deny-tool -d 'Hide tools whose name matches this glob, e.g. \'Delete*\' (repeatable; wins over --allow-tool)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l max-message-size -d 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l allow-http -d 'Allow a plain http:// upstream that is not on loopback'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l read-only -d 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -l no-auto-login -d 'Never start a browser login from the relay; answer with an error instead'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l timeout -d 'Seconds to wait for the browser to come back' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l redirect-uri -d 'Redirect URI registered on the OAuth app (loopback http only)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l no-browser -d 'Print the sign-in URL instead of opening a browser'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l paste -d 'Paste the redirected URL (or code) back into the terminal; for SSH sessions. Chosen automatically when no display is available'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l background -d 'Started by a relay that has no usable login: waits for any other login, never reads the terminal, reports progress on stdout one word per line'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l json -d 'Machine-readable output'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -l all -d 'Every profile that has a login or configuration'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l all -d 'Log out of every profile'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l no-revoke -d 'Delete the local tokens without revoking them at Alibaba Cloud'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -f -a "list" -d 'List service aliases with their resolved URLs'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -f -a "add" -d 'Add or replace an alias: the server\'s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -f -a "remove" -d 'Remove an alias from the configuration file'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and not __fish_seen_subcommand_from list add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable output'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -l names -d 'Aliases only, one per line (for shell completions)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from help" -f -a "list" -d 'List service aliases with their resolved URLs'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add or replace an alias: the server\'s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an alias from the configuration file'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -l json -d 'Machine-readable output'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l protocol -d 'Protocol era to speak to the server' -r -f -a "auto\t'`initialize` first (2025-11-25); the stateless era when the server refuses it'
session\t'The initialize/session era only'
stateless\t'The stateless 2026-07-28 era only (no initialize, an envelope per request)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l bearer-token -d 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l token-command -d 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l timeout -d 'Seconds one request may take upstream before it is answered with an error (0 = no limit)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s H -l header -d 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l allow-tool -d 'Only expose tools whose name matches this glob, e.g. \'Describe*\' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l deny-tool -d 'Hide tools whose name matches this glob, e.g. \'Delete*\' (repeatable; wins over --allow-tool)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l max-message-size -d 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l all -d 'Also list the tools the filter hides, with the rule that hides each'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l json -d 'Machine-readable output: the tools as the server described them, plus mcpgw\'s `access` and `hiddenBy` for each'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l allow-http -d 'Allow a plain http:// upstream that is not on loopback'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l read-only -d 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l no-auto-login -d 'Never start a browser login from the relay; answer with an error instead'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l protocol -d 'Protocol era to speak to the server' -r -f -a "auto\t'`initialize` first (2025-11-25); the stateless era when the server refuses it'
session\t'The initialize/session era only'
stateless\t'The stateless 2026-07-28 era only (no initialize, an envelope per request)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l bearer-token -d 'Bearer token to send instead of the stored login (prefer the env variable: arguments are visible to other local users)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l token-command -d 'Shell command that prints a bearer token on stdout; run again when the upstream rejects the token' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l timeout -d 'Seconds one request may take upstream before it is answered with an error (0 = no limit)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s H -l header -d 'Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is expanded from the environment (repeatable)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l allow-tool -d 'Only expose tools whose name matches this glob, e.g. \'Describe*\' (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l deny-tool -d 'Hide tools whose name matches this glob, e.g. \'Delete*\' (repeatable; wins over --allow-tool)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l max-message-size -d 'Largest message accepted from the client or the server, e.g. 64MiB, 500KB, 1048576; a larger one is answered with an error and the relay goes on' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l json -d 'Print the raw result as JSON'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l allow-http -d 'Allow a plain http:// upstream that is not on loopback'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l read-only -d 'Only expose tools that read: names starting with a read verb (Describe, List, Get, Query, Search, Check, ...) or tools annotated readOnlyHint'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l no-auto-login -d 'Never start a browser login from the relay; answer with an error instead'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "claude" -d 'Claude Code: runs `claude mcp add --scope user ...`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "gemini" -d 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "codex" -d 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "cursor" -d 'Cursor: edits ~/.cursor/mcp.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "vscode" -d 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "claude-desktop" -d 'Claude Desktop: edits claude_desktop_config.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "windsurf" -d 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude gemini codex cursor vscode claude-desktop windsurf help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from gemini" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from codex" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from cursor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from vscode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude-desktop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l file -d 'The file to edit instead of the client\'s user-level one (clients set up by file: cursor, vscode, claude-desktop, windsurf), e.g. a project\'s .vscode/mcp.json or .cursor/mcp.json' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -l apply -d 'Make the change (run the client\'s command, or write its file) instead of printing it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from windsurf" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "claude" -d 'Claude Code: runs `claude mcp add --scope user ...`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "gemini" -d 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "codex" -d 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "cursor" -d 'Cursor: edits ~/.cursor/mcp.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "vscode" -d 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "claude-desktop" -d 'Claude Desktop: edits claude_desktop_config.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "windsurf" -d 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "relay" -d 'Run the stdio relay for SERVICE (for aliases that share a command\'s name)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "login" -d 'Sign in to Alibaba Cloud in the browser and store the tokens'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "status" -d 'Show who is logged in, token expiry and configured services'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "logout" -d 'Revoke and delete the stored tokens'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "services" -d 'List, add or remove service aliases'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "doctor" -d 'Check configuration, login, keychain and every service, with fixes'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "tools" -d 'List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "call" -d 'Call one tool of SERVICE and print its result'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "setup" -d 'Register services with an MCP client (Claude Code, Cursor, VS Code, ...): prints what it would change, `--apply` does it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "completions" -d 'Print a shell completion script (install.sh installs them for you)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor tools call setup completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "list" -d 'List service aliases with their resolved URLs'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "add" -d 'Add or replace an alias: the server\'s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "remove" -d 'Remove an alias from the configuration file'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "claude" -d 'Claude Code: runs `claude mcp add --scope user ...`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "gemini" -d 'Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "codex" -d 'OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "cursor" -d 'Cursor: edits ~/.cursor/mcp.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "vscode" -d 'VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "claude-desktop" -d 'Claude Desktop: edits claude_desktop_config.json'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "windsurf" -d 'Windsurf: edits ~/.codeium/windsurf/mcp_config.json'

# Service aliases where a SERVICE goes (added by mcpgw to clap's script).
function __fish_mcpgw_aliases
    mcpgw services list --names 2>/dev/null
end
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -f -a "(__fish_mcpgw_aliases)" -d 'service'
