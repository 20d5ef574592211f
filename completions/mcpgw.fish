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
complete -c mcpgw -n "__fish_mcpgw_needs_command" -a "setup" -d 'Print (or run) the commands that register services with an MCP client'
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
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -f -a "claude" -d 'Register services with Claude Code (`claude mcp add --scope user ...`)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and not __fish_seen_subcommand_from claude help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -l apply -d 'Run the commands instead of printing them'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "claude" -d 'Register services with Claude Code (`claude mcp add --scope user ...`)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l profile -d 'Login profile to use; each profile has its own tokens and may override settings' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l config -d 'Configuration file [default: <config dir>/mcpgw/config.json]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l site -d 'Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]' -r -f -a "intl\t'International site (alibabacloud.com)'
cn\t'China site (aliyun.com)'"
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l log-file -d 'Also append logs to this file' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l ca-cert -d 'Extra PEM CA certificate to trust for every HTTPS connection (e.g. a corporate TLS-inspecting proxy\'s root)' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a tracing filter such as `mcpgw=debug`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "relay" -d 'Run the stdio relay for SERVICE (for aliases that share a command\'s name)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "login" -d 'Sign in to Alibaba Cloud in the browser and store the tokens'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "status" -d 'Show who is logged in, token expiry and configured services'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "logout" -d 'Revoke and delete the stored tokens'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "services" -d 'List, add or remove service aliases'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "doctor" -d 'Check configuration, login, keychain and every service, with fixes'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "setup" -d 'Print (or run) the commands that register services with an MCP client'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "completions" -d 'Print a shell completion script (install.sh installs them for you)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from relay login status logout services doctor setup completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "list" -d 'List service aliases with their resolved URLs'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "add" -d 'Add or replace an alias: the server\'s URL from the Alibaba Cloud MCP console (…/mcp), or a path under the MCP base URL'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from services" -f -a "remove" -d 'Remove an alias from the configuration file'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "claude" -d 'Register services with Claude Code (`claude mcp add --scope user ...`)'

# Service aliases where a SERVICE goes (added by mcpgw to clap's script).
function __fish_mcpgw_aliases
    mcpgw services list --names 2>/dev/null
end
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -f -a "(__fish_mcpgw_aliases)" -d 'service'
