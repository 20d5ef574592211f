//! `mcpgw completions SHELL`: completion scripts generated from the one clap
//! definition in `cli.rs`.
//!
//! The same scripts, and man pages (clap_mangen), are committed under
//! `completions/` and `man/`. A unit test regenerates them and fails when the
//! committed files are stale; `MCPGW_UPDATE_GENERATED=1 cargo test --bin mcpgw
//! generated_files` rewrites them. The generators stay test-only, so users see no
//! extra command or flag.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell as ClapShell;

use crate::cli::{Cli, clap_complete_shell::Shell};
use crate::error::CliResult;
use crate::output::Out;

pub const BIN_NAME: &str = "mcpgw";

fn clap_shell(shell: Shell) -> ClapShell {
    match shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
        Shell::Powershell => ClapShell::PowerShell,
        Shell::Elvish => ClapShell::Elvish,
    }
}

/// The completion script for `shell`, as bytes: clap_complete's, plus service
/// aliases (from the hidden `mcpgw services list --names`) where a SERVICE goes,
/// for bash and fish.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(clap_shell(shell), &mut Cli::command(), BIN_NAME, &mut out);
    match shell {
        Shell::Bash => bash_aliases(out),
        Shell::Fish => {
            out.extend_from_slice(FISH_ALIASES.as_bytes());
            out
        }
        Shell::Zsh | Shell::Powershell | Shell::Elvish => out,
    }
}

/// Wraps clap's `_mcpgw`: after it, aliases are added at the first word, after
/// `relay`, `services remove` and `setup claude`. `--profile`/`--config` typed on
/// the line are passed on, so the aliases are the ones that line would see.
const BASH_ALIASES: &str = r#"
# Service aliases where a SERVICE goes (added by mcpgw to clap's script).
_mcpgw_aliases() {
    local i skip="" words=() pass=() cur="${COMP_WORDS[COMP_CWORD]}"
    [[ $cur == -* ]] && return
    for i in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        if [[ -n $skip ]]; then
            [[ $skip == pass ]] && pass+=("$i")
            skip=""
            continue
        fi
        case "$i" in
            --profile|--config) pass+=("$i"); skip=pass ;;
            --site|--log-file|--bearer-token|--token-command|--timeout|-H|--header|--ca-cert|--allow-tool|--deny-tool) skip=1 ;;
            -*) ;;
            *) words+=("$i") ;;
        esac
    done
    case "${words[*]}" in
        ""|relay|"services remove"|"setup claude"*) ;;
        *) return ;;
    esac
    local aliases kept=() w
    aliases="$("${COMP_WORDS[0]}" "${pass[@]}" services list --names 2>/dev/null)" || return
    # Real aliases replace clap's `[SERVICE]`/`<SERVICE>` placeholders.
    for w in "${COMPREPLY[@]}"; do
        case "$w" in
            "[SERVICE]"*|"<SERVICE>") ;;
            *) kept+=("$w") ;;
        esac
    done
    COMPREPLY=("${kept[@]}")
    COMPREPLY+=($(compgen -W "$aliases" -- "$cur"))
}

_mcpgw_with_aliases() {
    _mcpgw "$@"
    _mcpgw_aliases
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _mcpgw_with_aliases -o nosort -o bashdefault -o default mcpgw
else
    complete -F _mcpgw_with_aliases -o bashdefault -o default mcpgw
fi
"#;

const FISH_ALIASES: &str = r#"
# Service aliases where a SERVICE goes (added by mcpgw to clap's script).
function __fish_mcpgw_aliases
    mcpgw services list --names 2>/dev/null
end
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand relay" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand services; and __fish_seen_subcommand_from remove" -f -a "(__fish_mcpgw_aliases)" -d 'service'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand setup; and __fish_seen_subcommand_from claude" -f -a "(__fish_mcpgw_aliases)" -d 'service'
"#;

/// Appends [`BASH_ALIASES`], which registers the wrapper instead of `_mcpgw`.
fn bash_aliases(generated: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(generated).expect("clap_complete writes UTF-8");
    // clap's own `complete -F _mcpgw ...` block is the script's tail; the wrapper's
    // registration replaces it.
    let cut = text
        .rfind("\nif [[ \"${BASH_VERSINFO[0]}\"")
        .expect("clap's bash script ends with its `complete` block");
    let mut out = text[..cut].to_owned();
    out.push_str(BASH_ALIASES);
    out.into_bytes()
}

pub fn run(shell: Shell) -> CliResult {
    let mut out = Out::default();
    out.write_all(&script(shell))?;
    Ok(out.print()?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::*;

    /// File name under `completions/` for each shell: what the shells' loaders expect.
    const FILES: [(Shell, &str); 5] = [
        (Shell::Bash, "mcpgw.bash"),
        (Shell::Zsh, "_mcpgw"),
        (Shell::Fish, "mcpgw.fish"),
        (Shell::Powershell, "_mcpgw.ps1"),
        (Shell::Elvish, "mcpgw.elv"),
    ];

    /// Man pages: `mcpgw.1` and one per subcommand (`mcpgw-services-add.1`), git style.
    fn man_pages() -> BTreeMap<String, Vec<u8>> {
        fn collect(cmd: &clap::Command, out: &mut BTreeMap<String, Vec<u8>>) {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                collect(sub, out);
            }
            let man = clap_mangen::Man::new(cmd.clone());
            let mut page = Vec::new();
            man.render(&mut page).expect("render to memory");
            out.insert(man.get_filename(), page);
        }
        let mut cmd = Cli::command().disable_help_subcommand(true);
        cmd.build();
        let mut out = BTreeMap::new();
        collect(&cmd, &mut out);
        out
    }

    fn expected() -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for (shell, name) in FILES {
            files.insert(Path::new("completions").join(name), script(shell));
        }
        for (name, page) in man_pages() {
            files.insert(Path::new("man").join(name), page);
        }
        files
    }

    #[test]
    fn generated_files_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let update = std::env::var_os("MCPGW_UPDATE_GENERATED").is_some_and(|v| v == "1");
        let expected = expected();
        let mut stale = Vec::new();
        for (relative, content) in &expected {
            let path = root.join(relative);
            if std::fs::read(&path).ok().as_deref() != Some(content.as_slice()) {
                if update {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, content).unwrap();
                }
                stale.push(relative.display().to_string());
            }
        }
        // Pages of commands that no longer exist.
        for dir in ["completions", "man"] {
            for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten() {
                let relative = Path::new(dir).join(entry.unwrap().file_name());
                if !expected.contains_key(&relative) {
                    if update {
                        std::fs::remove_file(root.join(&relative)).unwrap();
                    }
                    stale.push(format!("{} (no longer generated)", relative.display()));
                }
            }
        }
        assert!(
            update || stale.is_empty(),
            "generated files are stale: {}\nrefresh them with: MCPGW_UPDATE_GENERATED=1 cargo test --bin mcpgw generated_files",
            stale.join(", ")
        );
    }

    #[test]
    fn scripts_know_the_commands_and_flags() {
        for (shell, _) in FILES {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in [
                "services",
                "doctor",
                "completions",
                "read-only",
                "allow-tool",
            ] {
                assert!(text.contains(word), "{shell:?} script lacks {word}");
            }
        }
        let pages = man_pages();
        assert!(
            pages.contains_key("mcpgw.1") && pages.contains_key("mcpgw-services-add.1"),
            "{:?}",
            pages.keys()
        );
        let main = String::from_utf8(pages["mcpgw.1"].clone()).unwrap();
        assert!(
            main.contains("read\\-only"),
            "man page lists the relay options"
        );
    }
}
