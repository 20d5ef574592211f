//! Tool filtering for the relay: `--allow-tool`/`--deny-tool` globs, `--read-only`,
//! and the same keys per service in the config (`allowTools`, `denyTools`,
//! `readOnly`).
//!
//! A tool is exposed only when it passes every rule that is set:
//! 1. no deny glob matches it (deny always wins);
//! 2. when allow globs are given, at least one matches it;
//! 3. in read-only mode, its name starts with a read verb ([`READ_VERBS`]) or the
//!    server annotated it `readOnlyHint: true`.
//!
//! Globs match the whole tool name, ignoring ASCII case (so `delete*` also hides
//! `DeleteInstance`): `*` any run of characters, `?` one character, `[abc]` a class,
//! `{a,b}` alternatives. Config and command-line globs are merged (union).
//!
//! `readOnlyHint` is only known from `tools/list`. [`ToolPolicy::check_call`] for a
//! tool that was never listed decides by its name alone, so in read-only mode an
//! annotated tool whose name has no read verb is refused until a `tools/list`
//! result has shown the annotation. That errs on the side of blocking, which is
//! what a read-only mode is for.

use std::collections::HashSet;
use std::sync::RwLock;

use globset::{Candidate, GlobBuilder, GlobMatcher};
use serde_json::Value;

use crate::cli::RelayArgs;
use crate::config::ToolFilter;
use crate::error::{CliError, CliResult};
use crate::relay::message::Message;

/// Verbs that start the name of an operation that only reads. Alibaba Cloud API
/// names are `VerbNoun` (`DescribeInstances`); other MCP servers use `list_items`.
/// Verbs that often start jobs or write (Export, Download, Diagnose, Scan, Test,
/// Analyze, Run, Start) are left out on purpose.
pub const READ_VERBS: &[&str] = &[
    "Describe", "List", "Get", "Query", "Search", "Check", "Show", "View", "Read", "Fetch", "Find",
    "Lookup", "Retrieve", "Count", "Inspect", "Preview", "Validate", "Verify", "Estimate",
];

/// Where a rule came from, named in the error a blocked call gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Cli,
    Config,
}

#[derive(Debug)]
struct Rule {
    glob: String,
    matcher: GlobMatcher,
    origin: Origin,
}

impl Rule {
    fn matches(&self, name: &str) -> bool {
        self.matcher
            .is_match_candidate(&Candidate::from_bytes(name.as_bytes()))
    }

    fn describe(&self, kind: &str) -> String {
        match self.origin {
            Origin::Cli => format!("--{kind}-tool `{}`", self.glob),
            Origin::Config => format!("{kind}Tools `{}` in the config", self.glob),
        }
    }
}

/// The merged filter of one relay. Built once at start-up; cheap to consult.
#[derive(Debug)]
pub struct ToolPolicy {
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    /// `Some(origin)` when read-only mode is on.
    read_only: Option<Origin>,
    /// Tools a `tools/list` result annotated `readOnlyHint: true`; they pass the
    /// read-only rule whatever their name.
    annotated_read_only: RwLock<HashSet<String>>,
}

impl ToolPolicy {
    /// Merges the service's config filter with the command line's. `None` when
    /// nothing is filtered, so the relay's hot path does no work at all.
    pub fn new(config: &ToolFilter, cli: &RelayArgs) -> CliResult<Option<ToolPolicy>> {
        let mut allow = Vec::new();
        let mut deny = Vec::new();
        compile(&config.allow, "allowTools", Origin::Config, &mut allow)?;
        compile(&cli.allow_tool, "--allow-tool", Origin::Cli, &mut allow)?;
        compile(&config.deny, "denyTools", Origin::Config, &mut deny)?;
        compile(&cli.deny_tool, "--deny-tool", Origin::Cli, &mut deny)?;
        let read_only = if cli.read_only {
            Some(Origin::Cli)
        } else if config.read_only {
            Some(Origin::Config)
        } else {
            None
        };
        if allow.is_empty() && deny.is_empty() && read_only.is_none() {
            return Ok(None);
        }
        Ok(Some(ToolPolicy {
            allow,
            deny,
            read_only,
            annotated_read_only: RwLock::new(HashSet::new()),
        }))
    }

    /// Removes filtered tools from a `tools/list` *result* object in place; every
    /// other field (`nextCursor`, `_meta`, ...) is kept, so pagination still works
    /// even when a whole page is filtered away.
    pub fn filter_tools_list(&self, result: &mut Value) {
        let Some(tools) = result.get_mut("tools").and_then(Value::as_array_mut) else {
            return;
        };
        if self.read_only.is_some() {
            let annotated: Vec<&str> = tools
                .iter()
                .filter(|tool| {
                    tool.pointer("/annotations/readOnlyHint") == Some(&Value::Bool(true))
                })
                .filter_map(|tool| tool.get("name").and_then(Value::as_str))
                .collect();
            if !annotated.is_empty() {
                let mut set = self
                    .annotated_read_only
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                set.extend(annotated.into_iter().map(str::to_owned));
            }
        }
        tools.retain(|tool| match tool.get("name").and_then(Value::as_str) {
            Some(name) => self.check_call(name).is_ok(),
            // A tool without a name cannot be called or matched; leave it to the client.
            None => true,
        });
    }

    /// Whether a client message may go upstream: anything but a `tools/call`, or a
    /// call of a tool the rules let through. A call whose tool name cannot be read
    /// (params too deep or of the wrong shape) is blocked: the filter fails closed.
    pub fn check_message(&self, message: &Message) -> Result<(), String> {
        if message.method.as_deref() != Some("tools/call") {
            return Ok(());
        }
        match message.tool_name() {
            Some(name) => self.check_call(name),
            None => Err(
                "this tools/call is blocked: mcpgw cannot tell which tool it names, so the tool filter cannot allow it (mcpgw)"
                    .to_owned(),
            ),
        }
    }

    /// Whether a `tools/call` of `tool_name` may go upstream. The error names the
    /// rule that blocks it, for a JSON-RPC error message.
    pub fn check_call(&self, tool_name: &str) -> Result<(), String> {
        match self.explain(tool_name) {
            Some(rule) => Err(format!("tool `{tool_name}` is {rule} (mcpgw)")),
            None => Ok(()),
        }
    }

    /// The rule that hides `tool_name`, e.g. "blocked by --read-only"; `None`
    /// when the tool passes.
    pub fn explain(&self, tool_name: &str) -> Option<String> {
        if let Some(rule) = self.deny.iter().find(|rule| rule.matches(tool_name)) {
            return Some(format!("blocked by {}", rule.describe("deny")));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|rule| rule.matches(tool_name)) {
            let globs: Vec<String> = self
                .allow
                .iter()
                .map(|rule| rule.describe("allow"))
                .collect();
            return Some(format!("not matched by any of {}", globs.join(", ")));
        }
        if let Some(origin) = self.read_only
            && !is_read_name(tool_name)
            && !self
                .annotated_read_only
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(tool_name)
        {
            let rule = match origin {
                Origin::Cli => "--read-only",
                Origin::Config => "readOnly in the config",
            };
            return Some(format!("blocked by {rule}"));
        }
        None
    }
}

fn compile(globs: &[String], key: &str, origin: Origin, out: &mut Vec<Rule>) -> CliResult {
    for glob in globs {
        let matcher = GlobBuilder::new(glob)
            .case_insensitive(true)
            .literal_separator(false)
            .build()
            .map_err(|err| {
                match origin {
                    Origin::Cli => CliError::usage(format!("{key} `{glob}` is not a valid glob")),
                    Origin::Config => {
                        CliError::user(format!("{key} `{glob}` in the config is not a valid glob"))
                    }
                }
                .with_hint("globs take `*`, `?`, `[ab]` and `{a,b}`, e.g. 'Describe*'")
                .with_source(err)
            })?
            .compile_matcher();
        out.push(Rule {
            glob: glob.clone(),
            matcher,
            origin,
        });
    }
    Ok(())
}

/// True when the tool's operation starts with a read verb: the first part of the
/// name (`DescribeInstances`, `list_buckets`) or, after a product prefix, a
/// CamelCase last part (`ECS_DescribeInstances`, `ecs-20140526-DescribeInstances`).
pub fn is_read_name(name: &str) -> bool {
    let mut parts = name
        .split(['_', '-', '.', '/', ':', ' '])
        .filter(|part| !part.is_empty());
    let Some(first) = parts.next() else {
        return false;
    };
    if starts_with_read_verb(first) {
        return true;
    }
    match parts.next_back() {
        Some(last) if last.starts_with(|c: char| c.is_ascii_uppercase()) => {
            starts_with_read_verb(last)
        }
        _ => false,
    }
}

/// `Describe`, `DescribeX`, `describe`, `DESCRIBE_...` match; `Listen`, `Gets` do not
/// (the verb must end at a word boundary: the end, or anything but a lowercase letter).
fn starts_with_read_verb(word: &str) -> bool {
    READ_VERBS.iter().any(|verb| {
        word.len() >= verb.len()
            && word.is_char_boundary(verb.len())
            && word[..verb.len()].eq_ignore_ascii_case(verb)
            && !word[verb.len()..].starts_with(|c: char| c.is_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cli(allow: &[&str], deny: &[&str], read_only: bool) -> RelayArgs {
        RelayArgs {
            allow_tool: allow.iter().map(|s| s.to_string()).collect(),
            deny_tool: deny.iter().map(|s| s.to_string()).collect(),
            read_only,
            ..Default::default()
        }
    }

    fn config(allow: &[&str], deny: &[&str], read_only: bool) -> ToolFilter {
        ToolFilter {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            read_only,
        }
    }

    fn policy(config: ToolFilter, cli: RelayArgs) -> ToolPolicy {
        ToolPolicy::new(&config, &cli).unwrap().expect("a policy")
    }

    fn names(result: &Value) -> Vec<&str> {
        result["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn nothing_to_filter_is_none() {
        assert!(
            ToolPolicy::new(&ToolFilter::default(), &RelayArgs::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn read_verbs_by_name() {
        for name in [
            "DescribeInstances",
            "ListBuckets",
            "Get",
            "list_buckets",
            "get-user",
            "ECS_DescribeInstances",
            "CMS_GetCpuUsageData",
            "ecs-20140526-DescribeInstances",
            "ecs.QueryPrice",
            "LookupEvents",
            "LookUpEvents",
            "DESCRIBE_REGIONS",
        ] {
            assert!(is_read_name(name), "{name} should read");
        }
        for name in [
            "DeleteInstance",
            "RunInstances",
            "OOS_RunCommand",
            "ListenerCreate",
            "Gets",
            "create_list",
            "StartInstances",
            "ModifyInstanceAttribute",
            "",
            "_",
        ] {
            assert!(!is_read_name(name), "{name} should not read");
        }
    }

    #[test]
    fn read_only_hides_writers_and_names_the_rule() {
        let policy = policy(ToolFilter::default(), cli(&[], &[], true));
        assert!(policy.check_call("DescribeInstances").is_ok());
        let err = policy.check_call("DeleteInstance").unwrap_err();
        assert_eq!(
            err,
            "tool `DeleteInstance` is blocked by --read-only (mcpgw)"
        );
        let policy = self::policy(config(&[], &[], true), RelayArgs::default());
        assert_eq!(
            policy.check_call("DeleteInstance").unwrap_err(),
            "tool `DeleteInstance` is blocked by readOnly in the config (mcpgw)"
        );
    }

    #[test]
    fn deny_wins_over_allow_and_is_case_insensitive() {
        let policy = policy(config(&["*"], &[], false), cli(&[], &["delete*"], false));
        assert!(policy.check_call("DescribeInstances").is_ok());
        let err = policy.check_call("DeleteInstance").unwrap_err();
        assert!(err.contains("--deny-tool `delete*`"), "{err}");
    }

    #[test]
    fn allow_lists_merge_from_config_and_cli() {
        let policy = policy(
            config(&["Describe*"], &[], false),
            cli(&["List{Buckets,Objects}"], &[], false),
        );
        assert!(policy.check_call("DescribeRegions").is_ok());
        assert!(policy.check_call("ListObjects").is_ok());
        let err = policy.check_call("ListUsers").unwrap_err();
        assert!(
            err.contains("allowTools `Describe*` in the config"),
            "{err}"
        );
        assert!(
            err.contains("--allow-tool `List{Buckets,Objects}`"),
            "{err}"
        );
        let err = self::policy(config(&[], &["Run*"], false), RelayArgs::default())
            .check_call("RunCommand")
            .unwrap_err();
        assert!(err.contains("denyTools `Run*` in the config"), "{err}");
    }

    #[test]
    fn globs_match_the_whole_name() {
        let policy = policy(ToolFilter::default(), cli(&["Get?ser", "a/*"], &[], false));
        assert!(policy.check_call("GetUser").is_ok());
        assert!(
            policy.check_call("a/b/c").is_ok(),
            "* crosses slashes in tool names"
        );
        assert!(policy.check_call("GetUsers").is_err());
        assert!(policy.check_call("XGetUser").is_err());
    }

    #[test]
    fn bad_glob_is_a_usage_error_naming_the_flag() {
        let err = ToolPolicy::new(&ToolFilter::default(), &cli(&["[a"], &[], false)).unwrap_err();
        let cli_error = &err;
        assert_eq!(cli_error.exit_code, crate::error::EXIT_USAGE);
        assert!(
            cli_error.message.contains("--allow-tool `[a`"),
            "{}",
            cli_error.message
        );
        let err = ToolPolicy::new(&config(&[], &["{"], false), &RelayArgs::default()).unwrap_err();
        assert_eq!(err.exit_code, crate::error::EXIT_FAILURE);
    }

    #[test]
    fn tools_list_is_filtered_in_place_keeping_other_fields() {
        let policy = policy(ToolFilter::default(), cli(&[], &["*Secret*"], true));
        let mut result = json!({
            "tools": [
                {"name": "DescribeInstances", "inputSchema": {"type": "object"}},
                {"name": "DeleteInstance", "inputSchema": {"type": "object"}},
                {"name": "RunCommand", "annotations": {"readOnlyHint": true}},
                {"name": "StopInstance", "annotations": {"readOnlyHint": false, "destructiveHint": true}},
                {"name": "GetSecretValue"},
                {"title": "nameless"}
            ],
            "nextCursor": "page-2",
            "_meta": {"x": 1}
        });
        policy.filter_tools_list(&mut result);
        assert_eq!(
            names_with_nameless(&result),
            ["DescribeInstances", "RunCommand", "<none>"]
        );
        assert_eq!(result["nextCursor"], "page-2");
        assert_eq!(result["_meta"]["x"], 1);
        assert_eq!(
            result["tools"][0]["inputSchema"]["type"], "object",
            "kept tools are unchanged"
        );
        // The annotation seen in tools/list now lets the call through.
        assert!(policy.check_call("RunCommand").is_ok());
        assert!(policy.check_call("StopInstance").is_err());
    }

    fn names_with_nameless(result: &Value) -> Vec<&str> {
        result["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap_or("<none>"))
            .collect()
    }

    #[test]
    fn annotated_tool_never_listed_is_decided_by_name() {
        let policy = policy(ToolFilter::default(), cli(&[], &[], true));
        assert!(policy.check_call("RunCommand").is_err());
    }

    #[test]
    fn empty_page_keeps_cursor_and_odd_results_are_left_alone() {
        let policy = policy(ToolFilter::default(), cli(&["List*"], &[], false));
        let mut result = json!({"tools": [{"name": "RunCommand"}], "nextCursor": "c"});
        policy.filter_tools_list(&mut result);
        assert_eq!(result, json!({"tools": [], "nextCursor": "c"}));
        let mut odd = json!({"tools": "not a list"});
        policy.filter_tools_list(&mut odd);
        assert_eq!(odd, json!({"tools": "not a list"}));
        let mut page = json!({"tools": [{"name": "ListA"}, {"name": "ListB"}]});
        policy.filter_tools_list(&mut page);
        assert_eq!(names(&page), ["ListA", "ListB"]);
    }
}
