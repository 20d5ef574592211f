//! `mcpgw services list|add|remove`: the service aliases of the config file.
//!
//! Edits go through a concrete syntax tree (jsonc-parser's CST), so the file keeps
//! its key order, indentation, number spelling and every key mcpgw does not own;
//! only the one service entry changes. The old gateway's layouts are kept as
//! found: `{"ecs": "/path"}`, `{"ecs": {"url": ...}}` or a list of
//! `{"name", "path"|"url"}`. The new file is written next to the old one and
//! renamed over it, so a crash never leaves half a config.
//!
//! `/sse` URLs are refused: that is the legacy HTTP+SSE transport, which the relay
//! does not speak. The error offers the same server's Streamable HTTP (`/mcp`) URL.

use std::io::Write;
use std::path::Path;

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::{Value, json};
use url::Url;

use crate::cli::ServicesCommand;
use crate::config::{self, Config, Source};
use crate::error::{CliError, CliResult, Context};
use crate::output::Out;

pub fn run(command: &ServicesCommand, config: &Config) -> CliResult {
    match command {
        ServicesCommand::List { names: true, .. } => {
            let mut out = Out::default();
            for name in config.services.keys() {
                writeln!(out, "{name}")?;
            }
            Ok(out.print()?)
        }
        ServicesCommand::List { json, .. } => list(config, *json),
        ServicesCommand::Add { name, target } => add(config, name, target),
        ServicesCommand::Remove { name } => remove(config, name),
    }
}

// ---- list ------------------------------------------------------------------

fn list(config: &Config, json: bool) -> CliResult {
    let mut out = Out::default();
    list_into(&mut out, config, json)?;
    Ok(out.print()?)
}

fn list_into(out: &mut Out, config: &Config, json: bool) -> std::io::Result<()> {
    let rows: Vec<Row> = config
        .services
        .keys()
        .map(|name| Row::new(config, name))
        .collect();
    if json {
        let services: Vec<Value> = rows.iter().map(Row::to_json).collect();
        let doc = json!({
            "profile": config.profile,
            "config": config.path,
            "configFound": config.file_found,
            "services": services,
        });
        let text = serde_json::to_string_pretty(&doc).expect("a Value serialises");
        writeln!(out, "{text}")?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(
            out,
            "No services configured (config file: {}).",
            config.path.display()
        )?;
        writeln!(
            out,
            "Add one with `mcpgw services add NAME <URL from the Alibaba Cloud MCP console>`."
        )?;
        return Ok(());
    }
    let header = ["NAME", "URL", "SOURCE", "TOOLS"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            let url = match &row.url {
                Ok(url) => url.to_string(),
                Err(err) => format!("(invalid: {err})"),
            };
            [
                row.name.clone(),
                url,
                source_name(row.source).to_owned(),
                row.tools_summary(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cols: [&str; 4]| {
        let mut text = String::new();
        for (i, col) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                text.push_str(col);
            } else {
                text.push_str(&format!("{col:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header))?;
    for c in &cells {
        writeln!(out, "{}", line([&c[0], &c[1], &c[2], &c[3]]))?;
    }
    Ok(())
}

struct Row {
    name: String,
    target: String,
    url: Result<Url, String>,
    source: Source,
    filter: config::ToolFilter,
}

impl Row {
    fn new(config: &Config, name: &str) -> Self {
        let service = &config.services[name];
        Row {
            name: name.to_owned(),
            target: service.target.clone(),
            // Listing shows where an alias points even when the relay would refuse it.
            url: config
                .resolve_service(name, true)
                .map(|s| s.url)
                .map_err(|e| e.message),
            source: service.source,
            filter: service.filter.clone(),
        }
    }

    fn tools_summary(&self) -> String {
        let mut parts = Vec::new();
        if self.filter.read_only {
            parts.push("read-only".to_owned());
        }
        if !self.filter.allow.is_empty() {
            parts.push(format!("allow {}", self.filter.allow.join(" ")));
        }
        if !self.filter.deny.is_empty() {
            parts.push(format!("deny {}", self.filter.deny.join(" ")));
        }
        if parts.is_empty() {
            "all".to_owned()
        } else {
            parts.join("; ")
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "target": self.target,
            "url": self.url.as_ref().ok().map(Url::as_str),
            "error": self.url.as_ref().err(),
            "source": self.source,
            "allowTools": self.filter.allow,
            "denyTools": self.filter.deny,
            "readOnly": self.filter.read_only,
        })
    }
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Config => "config",
        Source::Env => "env",
    }
}

// ---- validation -------------------------------------------------------------

fn validate_name(name: &str) -> Result<(), CliError> {
    if name.contains("://") {
        return Err(
            CliError::usage(format!("`{name}` is a URL, not a service name"))
                .with_hint("the name comes first: `mcpgw services add NAME URL`"),
        );
    }
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(CliError::usage(format!("`{name}` is not a valid service name"))
            .with_hint("use letters, digits, `-` and `_` (at most 64, starting with a letter or digit), e.g. `ecs`"));
    }
    Ok(())
}

/// A target that passed validation: the text to store and the URL it resolves to.
#[derive(Debug)]
struct Target {
    stored: String,
    url: Url,
    notes: Vec<String>,
}

fn validate_target(name: &str, target: &str, base_url: &str) -> Result<Target, CliError> {
    let stored = target.trim().to_owned();
    if stored.is_empty() {
        return Err(CliError::usage("the service path or URL is empty"));
    }
    let is_url = stored.contains("://");
    let url = if is_url {
        Url::parse(&stored)
            .map_err(|err| CliError::user(format!("`{stored}` is not a valid URL: {err}")))?
    } else {
        config::join_url(base_url, &stored)?
    };
    config::check_url(&url, false).map_err(|problem| {
        let hint = match problem {
            config::UrlProblem::Credentials => {
                "mcpgw signs requests with your OAuth login; remove the `user:password@` part"
            }
            _ => "use the https:// URL from the Alibaba Cloud MCP console",
        };
        CliError::user(format!("refusing {url}: {problem}")).with_hint(hint)
    })?;
    if let Some(rewritten) = sse_to_mcp(&stored) {
        return Err(CliError::user(format!(
            "`{stored}` is the legacy HTTP+SSE endpoint, which mcpgw does not support; \
             it speaks the Streamable HTTP transport, served by the same server at `/mcp`"
        ))
        .with_hint(format!("mcpgw services add {name} {rewritten}")));
    }
    let mut notes = Vec::new();
    if let Some(host) = url.host_str() {
        let alibaba = host.starts_with("openapi-mcp") && host.ends_with(".aliyuncs.com");
        if alibaba && !is_console_mcp_path(url.path()) {
            notes.push(format!(
                "{url} does not look like an MCP server URL from the console \
                 (…/accounts/<uid>/custom/<name>/id/<id>/mcp); check it with `mcpgw doctor`"
            ));
        }
        if host.ends_with(".vpc-proxy.aliyuncs.com") {
            notes.push(format!(
                "{host} is a VPC-internal endpoint: it works only from inside an Alibaba Cloud VPC"
            ));
        }
    }
    Ok(Target { stored, url, notes })
}

/// `…/sse` (with or without a trailing slash, query kept) → `…/mcp`.
fn sse_to_mcp(target: &str) -> Option<String> {
    let (path_part, rest) = match target.find(['?', '#']) {
        Some(i) => target.split_at(i),
        None => (target, ""),
    };
    let trimmed = path_part.trim_end_matches('/');
    let stem = trimmed
        .strip_suffix("/sse")
        .or_else(|| (trimmed == "sse").then_some(""))?;
    let slash = if stem.is_empty() && !trimmed.starts_with('/') {
        ""
    } else {
        "/"
    };
    Some(format!("{stem}{slash}mcp{rest}"))
}

/// `/accounts/{uid}/custom/{name}/id/{id}/mcp` or `/id/{id}/mcp` (the console's URL forms).
fn is_console_mcp_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match parts.as_slice() {
        ["accounts", uid, "custom", name, "id", id, "mcp"] => {
            ![uid, name, id].iter().any(|p| p.is_empty())
        }
        ["id", id, "mcp"] => !id.is_empty(),
        _ => false,
    }
}

// ---- add / remove -------------------------------------------------------------

fn add(config: &Config, name: &str, target: &str) -> CliResult {
    validate_name(name)?;
    let target = validate_target(name, target, &config.mcp_base_url)?;
    for note in &target.notes {
        eprintln!("mcpgw: note: {note}");
    }
    if !config.login_may_go_to(&target.url) {
        let hint = config.untrusted_host(&target.url).hint.unwrap_or_default();
        eprintln!(
            "mcpgw: note: the relay will not send your Alibaba Cloud login to {}; {hint}",
            target.url.host_str().unwrap_or("this host")
        );
    }
    let profile = config.profile.as_str();
    let mut previous = None;
    let mut section = String::new();
    edit_config_file(&config.path, |root| {
        let top = root
            .object_value_or_create()
            .ok_or_else(|| CliError::user("the config file's top level is not a JSON object"))?;
        let in_profile = profile_services(&top, profile).is_some_and(|s| s.find(name).is_some());
        let services = if in_profile || profile != "default" {
            section = format!("profiles.{profile}.mcpServer.services");
            let profiles = object_child(&top, "profiles", "profiles")?;
            let layer = object_child(&profiles, profile, &format!("profiles.{profile}"))?;
            services_of(&layer, &section)?
        } else {
            section = "mcpServer.services".to_owned();
            services_of(&top, &section)?
        };
        previous = services.set(name, &target.stored);
        Ok(())
    })?;

    let mut out = Out::default();
    match previous {
        Some(old) if old == target.stored => {
            writeln!(out, "Service `{name}` already points to {}", target.url)?
        }
        Some(old) => writeln!(out, "Replaced service `{name}`: {} (was {old})", target.url)?,
        None => writeln!(out, "Added service `{name}`: {}", target.url)?,
    }
    writeln!(out, "  saved in {section} of {}", config.path.display())?;
    let relay = if crate::cli::is_command_name(name) {
        format!("relay {name}")
    } else {
        name.to_owned()
    };
    writeln!(
        out,
        "  try it: mcpgw doctor, then `mcpgw setup claude {name}` (runs `mcpgw {relay}`)"
    )?;
    out.print()?;
    if config
        .services
        .get(name)
        .is_some_and(|s| s.source == Source::Env)
    {
        eprintln!(
            "mcpgw: note: MCPGW_SERVICES also defines `{name}` and takes precedence over the config file"
        );
    }
    if crate::cli::is_command_name(name) {
        eprintln!(
            "mcpgw: note: `{name}` is also a mcpgw command; run the relay as `mcpgw relay {name}`"
        );
    }
    Ok(())
}

fn remove(config: &Config, name: &str) -> CliResult {
    let profile = config.profile.as_str();
    let from_env = config
        .services
        .get(name)
        .is_some_and(|s| s.source == Source::Env);
    let mut removed = Vec::new();
    if config.file_found {
        edit_config_file(&config.path, |root| {
            let Some(top) = root.object_value() else {
                return Ok(());
            };
            if let Some(services) = profile_services(&top, profile)
                && services.remove(name)
            {
                removed.push(format!("profiles.{profile}.mcpServer.services"));
            }
            if let Some(services) = top_services(&top)
                && services.remove(name)
            {
                removed.push("mcpServer.services".to_owned());
            }
            Ok(())
        })?;
    }
    if removed.is_empty() {
        if from_env {
            return Err(CliError::user(format!(
                "service `{name}` comes from MCPGW_SERVICES, not the config file"
            ))
            .with_hint("remove it from the MCPGW_SERVICES environment variable"));
        }
        let known: Vec<&str> = config.services.keys().map(String::as_str).collect();
        let known = if known.is_empty() {
            "none are configured".to_owned()
        } else {
            known.join(", ")
        };
        return Err(CliError::user(format!(
            "no service `{name}` in {} ({known})",
            config.path.display()
        ))
        .with_hint("`mcpgw services list` shows the configured services"));
    }
    let mut out = Out::default();
    writeln!(
        out,
        "Removed service `{name}` from {} of {}",
        removed.join(" and "),
        config.path.display()
    )?;
    out.print()?;
    if from_env {
        eprintln!("mcpgw: note: MCPGW_SERVICES still defines `{name}`");
    }
    Ok(())
}

// ---- the CST side -------------------------------------------------------------

/// `mcpServer.services` in either layout the loader accepts.
enum Services {
    Object(CstObject),
    Array(CstArray),
}

/// Keys the loader reads an entry's name and target from, in its order.
const NAME_KEYS: [&str; 3] = ["name", "alias", "id"];
const TARGET_KEYS: [&str; 3] = ["url", "path", "endpoint"];

impl Services {
    fn from_node(node: CstNode, section: &str) -> Result<Self, CliError> {
        if let Some(object) = node.as_object() {
            Ok(Services::Object(object))
        } else if let Some(array) = node.as_array() {
            Ok(Services::Array(array))
        } else {
            Err(CliError::user(format!(
                "{section} in the config file is neither an object nor a list"
            ))
            .with_hint("fix it by hand: it should map each alias to a path or URL"))
        }
    }

    fn find(&self, name: &str) -> Option<CstNode> {
        match self {
            Services::Object(object) => object.get(name).and_then(|prop| prop.value()),
            Services::Array(array) => array.elements().into_iter().find(|element| {
                element.as_object().is_some_and(|entry| {
                    NAME_KEYS
                        .iter()
                        .find_map(|key| string_prop(&entry, key))
                        .is_some_and(|n| n == name)
                })
            }),
        }
    }

    /// Points `name` at `target`, keeping the entry's shape and other keys.
    /// Returns the previous target, if there was one.
    fn set(&self, name: &str, target: &str) -> Option<String> {
        let new_key = if target.contains("://") {
            "url"
        } else {
            "path"
        };
        if let Some(node) = self.find(name) {
            if let Some(entry) = node.as_object() {
                if let Some(key) = TARGET_KEYS.iter().find(|key| entry.get(key).is_some()) {
                    let prop = entry.get(key).expect("just found");
                    let old = prop
                        .value()
                        .and_then(|v| v.to_serde_value())
                        .and_then(|v| v.as_str().map(str::to_owned));
                    prop.set_value(target.into());
                    return old;
                }
                entry.append(new_key, target.into());
                return None;
            }
            let old = node
                .to_serde_value()
                .and_then(|v| v.as_str().map(str::to_owned));
            if let Services::Object(object) = self
                && let Some(prop) = object.get(name)
            {
                prop.set_value(target.into());
            }
            return old;
        }
        match self {
            Services::Object(object) => {
                object.append(name, target.into());
            }
            Services::Array(array) => {
                array.append(CstInputValue::Object(vec![
                    ("name".to_owned(), name.into()),
                    (new_key.to_owned(), target.into()),
                ]));
            }
        }
        None
    }

    fn remove(&self, name: &str) -> bool {
        match (self, self.find(name)) {
            (_, None) => false,
            (Services::Object(object), Some(_)) => {
                object.get(name).expect("found above").remove();
                true
            }
            (Services::Array(_), Some(node)) => {
                node.remove();
                true
            }
        }
    }
}

fn string_prop(object: &CstObject, key: &str) -> Option<String> {
    object
        .get(key)?
        .value()?
        .to_serde_value()?
        .as_str()
        .map(str::to_owned)
}

fn top_services(top: &CstObject) -> Option<Services> {
    let node = top.object_value("mcpServer")?.get("services")?.value()?;
    Services::from_node(node, "mcpServer.services").ok()
}

fn profile_services(top: &CstObject, profile: &str) -> Option<Services> {
    let layer = top.object_value("profiles")?.object_value(profile)?;
    let node = layer.object_value("mcpServer")?.get("services")?.value()?;
    Services::from_node(node, "profile services").ok()
}

/// The object under `key`, created when missing; an error when it is something else.
fn object_child(parent: &CstObject, key: &str, section: &str) -> Result<CstObject, CliError> {
    parent.object_value_or_create(key).ok_or_else(|| {
        CliError::user(format!("`{section}` in the config file is not an object"))
            .with_hint("fix it by hand")
    })
}

/// `mcpServer.services` of a layer, created (as an object) when missing.
fn services_of(layer: &CstObject, section: &str) -> Result<Services, CliError> {
    let server_section = section.trim_end_matches(".services");
    let server = object_child(layer, "mcpServer", server_section)?;
    match server.get("services").and_then(|prop| prop.value()) {
        Some(node) => Services::from_node(node, section),
        None => {
            server.append("services", CstInputValue::Object(Vec::new()));
            let node = server
                .get("services")
                .and_then(|p| p.value())
                .expect("just added");
            Services::from_node(node, section)
        }
    }
}

// ---- the file -------------------------------------------------------------------

/// Reads the config (missing = empty), applies `edit` to its syntax tree and writes
/// it back atomically, only when something changed. The file must be valid JSON
/// first: mcpgw never rewrites a file it cannot read itself.
fn edit_config_file(
    path: &Path,
    edit: impl FnOnce(&CstRootNode) -> Result<(), CliError>,
) -> CliResult {
    // Write through a symlink (dotfile managers) instead of replacing it.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let original = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(
                CliError::user(format!("cannot read config file {}", path.display()))
                    .with_source(err),
            );
        }
    };
    let text = original
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("{}\n");
    if let Err(err) = serde_json::from_str::<Value>(text) {
        return Err(CliError::user(format!(
            "config file {} is not valid JSON: {err}",
            path.display()
        ))
        .with_hint("fix it first; mcpgw does not rewrite a file it cannot read"));
    }
    let root = CstRootNode::parse(text, &ParseOptions::default()).map_err(|err| {
        CliError::user(format!(
            "config file {} cannot be parsed: {err}",
            path.display()
        ))
    })?;
    edit(&root)?;
    let mut updated = root.to_string();
    if !updated.ends_with('\n')
        && original
            .as_deref()
            .is_none_or(|t| t.ends_with('\n') || t.trim().is_empty())
    {
        updated.push('\n');
    }
    if original.as_deref() == Some(updated.as_str()) {
        return Ok(());
    }
    // A last guard against a broken edit: what we write must load.
    serde_json::from_str::<Value>(&updated)
        .context("internal error: the edited config is not valid JSON")?;
    crate::fs::write_atomic(&path, updated.as_bytes(), crate::fs::Access::KeepExisting)
        .user_context(format!("cannot write config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://openapi-mcp.cn-hangzhou.aliyuncs.com";
    const CONSOLE: &str = "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1234567890/custom/ecs-ops/id/AbC123/mcp";

    fn edit(text: &str, f: impl FnOnce(&CstRootNode) -> Result<(), CliError>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, text).unwrap();
        edit_config_file(&path, f).unwrap();
        std::fs::read_to_string(&path).unwrap()
    }

    fn set_top(
        name: &'static str,
        target: &'static str,
    ) -> impl FnOnce(&CstRootNode) -> Result<(), CliError> {
        move |root| {
            let top = root.object_value_or_create().unwrap();
            services_of(&top, "mcpServer.services")?.set(name, target);
            Ok(())
        }
    }

    #[test]
    fn console_url_is_accepted_as_is() {
        let target = validate_target("ecs", CONSOLE, BASE).unwrap();
        assert_eq!(target.stored, CONSOLE);
        assert_eq!(target.url.as_str(), CONSOLE);
        assert!(target.notes.is_empty(), "{:?}", target.notes);
        let path = validate_target("ecs", "/accounts/1/custom/x/id/y/mcp", BASE).unwrap();
        assert_eq!(
            path.url.as_str(),
            "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1/custom/x/id/y/mcp"
        );
        assert_eq!(path.stored, "/accounts/1/custom/x/id/y/mcp");
    }

    #[test]
    fn sse_url_is_refused_with_the_mcp_url() {
        let sse = CONSOLE.replace("/mcp", "/sse");
        let err = validate_target("ecs", &sse, BASE).unwrap_err();
        assert!(err.message.contains("legacy HTTP+SSE"), "{}", err.message);
        assert_eq!(
            err.hint.unwrap(),
            format!("mcpgw services add ecs {CONSOLE}")
        );
        assert_eq!(
            sse_to_mcp("/accounts/1/custom/x/id/y/sse/").unwrap(),
            "/accounts/1/custom/x/id/y/mcp"
        );
        assert_eq!(
            sse_to_mcp("http://127.0.0.1:9/sse?x=1").unwrap(),
            "http://127.0.0.1:9/mcp?x=1"
        );
        assert_eq!(sse_to_mcp("sse").unwrap(), "mcp");
        assert_eq!(sse_to_mcp("/messages"), None);
        assert_eq!(sse_to_mcp("https://h/ssexyz"), None);
    }

    #[test]
    fn bad_targets_and_names() {
        assert!(
            validate_target("x", "http://example.com/mcp", BASE)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("https")
        );
        assert!(validate_target("x", "http://127.0.0.1:8/mcp", BASE).is_ok());
        assert!(validate_target("x", "ftp://h/mcp", BASE).is_err());
        assert!(validate_target("x", "https://u:p@h/mcp", BASE).is_err());
        assert!(validate_target("x", "  ", BASE).is_err());
        assert!(validate_name("ecs-prod_2").is_ok());
        assert!(validate_name("-x").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("").is_err());
        assert!(
            validate_name(CONSOLE)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("NAME URL")
        );
    }

    #[test]
    fn odd_alibaba_urls_get_notes() {
        let target = validate_target(
            "x",
            "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1/mcp",
            BASE,
        )
        .unwrap();
        assert!(
            target.notes[0].contains("does not look like"),
            "{:?}",
            target.notes
        );
        let vpc = "https://openapi-mcp-cn-hangzhou.vpc-proxy.aliyuncs.com/id/abc/mcp";
        let target = validate_target("x", vpc, BASE).unwrap();
        assert!(
            target.notes.iter().any(|n| n.contains("VPC")),
            "{:?}",
            target.notes
        );
        assert!(is_console_mcp_path("/id/abc/mcp"));
        assert!(!is_console_mcp_path("/accounts//custom/x/id/y/mcp"));
    }

    #[test]
    fn old_gateway_file_keeps_its_layout_numbers_and_unknown_keys() {
        let old = r#"{
    "port": 3000,
    "gatewayBaseUrl": "http://localhost:3000",
    "oauth": {
        "clientId": 4103531455503354461,
        "scope": "openid /acs/mcp-server"
    },
    "mcpServer": {
        "baseUrl": "https://openapi-mcp.cn-hangzhou.aliyuncs.com",
        "services": {
            "ecs": "/accounts/1/custom/ecs/id/abc/mcp"
        }
    },
    "zzz": [1.50, 2e3]
}
"#;
        let updated = edit(old, set_top("oss", "https://example.com/oss/mcp"));
        let expected = old.replace(
            r#""ecs": "/accounts/1/custom/ecs/id/abc/mcp""#,
            "\"ecs\": \"/accounts/1/custom/ecs/id/abc/mcp\",\n            \"oss\": \"https://example.com/oss/mcp\"",
        );
        assert_eq!(updated, expected);
        // Replacing keeps the position; removing restores the original text.
        let replaced = edit(
            &updated,
            set_top("ecs", "/accounts/1/custom/ecs/id/new/mcp"),
        );
        assert_eq!(replaced, expected.replace("id/abc", "id/new"));
        let removed = edit(&updated, |root| {
            assert!(
                top_services(&root.object_value().unwrap())
                    .unwrap()
                    .remove("oss")
            );
            Ok(())
        });
        assert_eq!(removed, old);
    }

    #[test]
    fn list_layout_and_detailed_entries_are_kept() {
        let text = r#"{"mcpServer": {"services": [
  {"name": "ecs", "path": "/a/mcp", "readOnly": true},
  {"alias": "rds", "url": "https://h/rds/mcp"}
]}}"#;
        let updated = edit(text, set_top("ecs", "/b/mcp"));
        assert!(
            updated.contains(r#"{"name": "ecs", "path": "/b/mcp", "readOnly": true}"#),
            "{updated}"
        );
        let updated = edit(&updated, set_top("oss", "https://h/oss/mcp"));
        let value: Value = serde_json::from_str(&updated).unwrap();
        assert_eq!(
            value["mcpServer"]["services"][2],
            json!({"name": "oss", "url": "https://h/oss/mcp"})
        );
        let updated = edit(&updated, |root| {
            assert!(
                top_services(&root.object_value().unwrap())
                    .unwrap()
                    .remove("rds")
            );
            Ok(())
        });
        let value: Value = serde_json::from_str(&updated).unwrap();
        let names: Vec<&str> = value["mcpServer"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ecs", "oss"]);
        // An object entry with allowTools keeps them when its URL changes.
        let text = r#"{"mcpServer":{"services":{"ecs":{"allowTools":["Describe*"],"url":"https://h/1/mcp"}}}}"#;
        let updated = edit(text, set_top("ecs", "https://h/2/mcp"));
        let value: Value = serde_json::from_str(&updated).unwrap();
        assert_eq!(
            value["mcpServer"]["services"]["ecs"],
            json!({"allowTools": ["Describe*"], "url": "https://h/2/mcp"})
        );
    }

    #[test]
    fn missing_and_empty_files_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/dir/config.json");
        edit_config_file(&path, set_top("ecs", "/x/mcp")).unwrap();
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(value, json!({"mcpServer": {"services": {"ecs": "/x/mcp"}}}));
        std::fs::write(&path, "").unwrap();
        edit_config_file(&path, set_top("ecs", "/y/mcp")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"), "{text:?}");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[test]
    fn invalid_json_is_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\"a\": 1,}").unwrap();
        let err = edit_config_file(&path, set_top("ecs", "/x")).unwrap_err();
        assert!(err.message.contains("not valid JSON"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1,}");
        std::fs::write(&path, r#"{"mcpServer": {"services": "oops"}}"#).unwrap();
        let err = edit_config_file(&path, set_top("ecs", "/x")).unwrap_err();
        assert!(err.message.contains("neither an object nor a list"));
    }

    #[cfg(unix)]
    #[test]
    fn permissions_and_symlinks_survive() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/config.json");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "{}\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        edit_config_file(&link, set_top("ecs", "/x/mcp")).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(std::fs::read_to_string(&real).unwrap().contains("/x/mcp"));
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
