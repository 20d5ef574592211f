//! Configuration in layers, highest first: command-line flags, `MCPGW_*`
//! environment variables, the profile's section of `config.json`, the top level of
//! `config.json`, then the site preset (Alibaba's real endpoints).
//!
//! The old Node gateway's `config.json` is accepted unchanged: what still applies is
//! mapped, keys that no longer apply produce one warning each and are ignored.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::cli::{GlobalArgs, Site};
use crate::error::CliError;

pub const DEFAULT_SCOPE: &str = "/acs/mcp-server";
/// Fixed so it can be registered on the OAuth app once; outside the 12345–12349
/// range that `aliyun` CLI's own login probes, so both can run side by side.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:12355/callback";

/// Endpoints of one Alibaba Cloud site, as Alibaba documents them (see ARCHITECTURE.md).
#[derive(Debug, Clone, Copy)]
pub struct SitePreset {
    pub authorization_endpoint: &'static str,
    pub token_endpoint: &'static str,
    pub revocation_endpoint: &'static str,
    pub userinfo_endpoint: &'static str,
    pub mcp_base_url: &'static str,
}

impl Site {
    pub fn preset(self) -> SitePreset {
        match self {
            Site::Intl => SitePreset {
                authorization_endpoint: "https://signin.alibabacloud.com/oauth2/v1/auth",
                token_endpoint: "https://oauth.alibabacloud.com/v1/token",
                revocation_endpoint: "https://oauth.alibabacloud.com/v1/revoke",
                userinfo_endpoint: "https://oauth.alibabacloud.com/v1/userinfo",
                mcp_base_url: "https://openapi-mcp.ap-southeast-1.aliyuncs.com",
            },
            Site::Cn => SitePreset {
                authorization_endpoint: "https://signin.aliyun.com/oauth2/v1/auth",
                token_endpoint: "https://oauth.aliyun.com/v1/token",
                revocation_endpoint: "https://oauth.aliyun.com/v1/revoke",
                userinfo_endpoint: "https://oauth.aliyun.com/v1/userinfo",
                mcp_base_url: "https://openapi-mcp.cn-hangzhou.aliyuncs.com",
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Site::Intl => "intl",
            Site::Cn => "cn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStoreKind {
    Keychain,
    File,
}

impl TokenStoreKind {
    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "keychain" | "keyring" => Some(Self::Keychain),
            "file" => Some(Self::File),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keychain => "keychain",
            Self::File => "file",
        }
    }
}

/// Where a setting or service came from, for `services list` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Config,
    Env,
}

#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub client_id: Option<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub userinfo_endpoint: String,
    pub scope: String,
    pub redirect_uri: String,
    /// RFC 8707 resource indicator, sent only when configured.
    pub resource: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub struct Service {
    /// A path under the MCP base URL, or a full URL, as configured.
    pub target: String,
    pub source: Source,
    pub filter: ToolFilter,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub profile: String,
    pub path: PathBuf,
    pub file_found: bool,
    pub site: Site,
    pub oauth: OAuthConfig,
    pub mcp_base_url: String,
    pub services: BTreeMap<String, Service>,
    pub token_store: TokenStoreKind,
    /// Hosts besides Alibaba Cloud's MCP hosts that may receive the stored login
    /// (`trustedHosts`, from the config file only: a project's command line or
    /// environment cannot add one).
    pub trusted_hosts: Vec<String>,
    /// One line per ignored or suspicious key; printed once by the caller.
    pub warnings: Vec<String>,
}

/// A service resolved to the URL the relay talks to.
#[derive(Debug, Clone)]
pub struct ResolvedService {
    pub name: String,
    pub url: Url,
    pub filter: ToolFilter,
}

// ---- the file format -------------------------------------------------------

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct FileLayer {
    site: Option<Site>,
    #[serde(default)]
    oauth: OAuthLayer,
    #[serde(default)]
    mcp_server: McpServerLayer,
    token_store: Option<String>,
    trusted_hosts: Option<Vec<String>>,
    profiles: Option<BTreeMap<String, FileLayer>>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct OAuthLayer {
    #[serde(default, deserialize_with = "string_or_number")]
    client_id: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    resource: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct McpServerLayer {
    base_url: Option<String>,
    services: Option<Value>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// Client ids are numeric; a JSON number must not lose digits on the way in.
fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected a string, found {other}"
            )));
        }
    })
}

/// Keys the old gateway had that mean nothing to a per-user bridge.
fn legacy_key_note(key: &str) -> Option<&'static str> {
    match key {
        "gatewayBaseUrl" => {
            Some("mcpgw runs on your machine with no gateway server, so there is no gateway URL")
        }
        "port" => Some(concat!(
            "mcpgw runs no HTTP server; to keep the old OAuth callback set oauth.redirectUri to ",
            "http://127.0.0.1:3000/oauth/callback"
        )),
        _ => None,
    }
}

// ---- loading ---------------------------------------------------------------

/// The platform config directory (`~/.config/mcpgw` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcpgw").map(|dirs| dirs.config_dir().to_path_buf())
}

pub fn default_config_path() -> PathBuf {
    config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("config.json")
}

/// The platform data directory (`~/.local/share/mcpgw` on Linux), for the file token store.
pub fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcpgw").map(|dirs| dirs.data_dir().to_path_buf())
}

/// The platform cache directory (`~/.cache/mcpgw` on Linux), for lock files.
pub fn cache_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcpgw").map(|dirs| dirs.cache_dir().to_path_buf())
}

pub fn load(global: &GlobalArgs) -> Result<Config, CliError> {
    load_with(global, &|key| {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    })
}

pub fn load_with(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, CliError> {
    let path = global.config.clone().unwrap_or_else(default_config_path);
    let (file, file_found) = read_file(&path)?;
    let mut config = resolve(global, env, file, path, file_found)?;
    // A named file that does not exist yet is fine for `services add` (which
    // creates it), but may be a typo everywhere else: say so.
    if global.config.is_some() && !file_found {
        config.warnings.insert(
            0,
            format!(
                "config file {} does not exist; using the defaults",
                config.path.display()
            ),
        );
    }
    Ok(config)
}

fn read_file(path: &Path) -> Result<(FileLayer, bool), CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileLayer::default(), false));
        }
        Err(err) => {
            return Err(CliError::user(format!(
                "cannot read config file {}: {err}",
                path.display()
            )));
        }
    };
    if text.trim().is_empty() {
        return Ok((FileLayer::default(), true));
    }
    let layer = serde_json::from_str(&text).map_err(|err| {
        CliError::user(format!(
            "config file {} is not valid: {err}",
            path.display()
        ))
        .with_hint("fix the JSON, or move the file away to start from the defaults")
    })?;
    Ok((layer, true))
}

/// A config file's text resolved as [`load_with`] resolves the file at `path`
/// (an empty text is an empty file). For the fuzz targets (`src/fuzz_entry.rs`).
pub fn resolve_text(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
    text: &str,
    path: PathBuf,
) -> Result<Config, CliError> {
    let file = match text.trim() {
        "" => FileLayer::default(),
        _ => serde_json::from_str(text).map_err(|err| {
            CliError::user(format!(
                "config file {} is not valid: {err}",
                path.display()
            ))
        })?,
    };
    resolve(global, env, file, path, true)
}

fn resolve(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
    mut file: FileLayer,
    path: PathBuf,
    file_found: bool,
) -> Result<Config, CliError> {
    let mut warnings = Vec::new();
    let file_name = path.display().to_string();
    collect_warnings(&file, "", &file_name, &mut warnings);

    let mut profile = match file
        .profiles
        .as_mut()
        .and_then(|profiles| profiles.remove(&global.profile))
    {
        Some(layer) => {
            collect_warnings(
                &layer,
                &format!("profiles.{}.", global.profile),
                &file_name,
                &mut warnings,
            );
            layer
        }
        None => FileLayer::default(),
    };

    let site = global
        .site
        .or(profile.site)
        .or(file.site)
        .unwrap_or(Site::Intl);
    let preset = site.preset();

    // Highest first: env, profile section, top level, preset.
    macro_rules! pick {
        ($env:literal, $($field:ident).+, $default:expr) => {
            env($env)
                .or_else(|| profile.$($field).+.take())
                .or_else(|| file.$($field).+.take())
                .unwrap_or_else(|| $default.to_string())
        };
    }
    let oauth = OAuthConfig {
        client_id: env("MCPGW_CLIENT_ID")
            .or_else(|| profile.oauth.client_id.take())
            .or_else(|| file.oauth.client_id.take())
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty()),
        authorization_endpoint: pick!(
            "MCPGW_AUTHORIZATION_ENDPOINT",
            oauth.authorization_endpoint,
            preset.authorization_endpoint
        ),
        token_endpoint: pick!(
            "MCPGW_TOKEN_ENDPOINT",
            oauth.token_endpoint,
            preset.token_endpoint
        ),
        revocation_endpoint: pick!(
            "MCPGW_REVOCATION_ENDPOINT",
            oauth.revocation_endpoint,
            preset.revocation_endpoint
        ),
        userinfo_endpoint: pick!(
            "MCPGW_USERINFO_ENDPOINT",
            oauth.userinfo_endpoint,
            preset.userinfo_endpoint
        ),
        scope: pick!("MCPGW_SCOPE", oauth.scope, DEFAULT_SCOPE),
        redirect_uri: pick!(
            "MCPGW_REDIRECT_URI",
            oauth.redirect_uri,
            DEFAULT_REDIRECT_URI
        ),
        resource: env("MCPGW_RESOURCE")
            .or_else(|| profile.oauth.resource.take())
            .or_else(|| file.oauth.resource.take()),
    };
    let mcp_base_url = pick!(
        "MCPGW_MCP_BASE_URL",
        mcp_server.base_url,
        preset.mcp_base_url
    );
    if mcp_base_url.contains(".vpc-proxy.aliyuncs.com") {
        warnings.push(format!(
            "mcpServer.baseUrl {mcp_base_url} is a VPC-internal endpoint that works only inside an Alibaba Cloud VPC; \
             remove it to use the public {} endpoint",
            site.as_str()
        ));
    }

    let token_store = match env("MCPGW_TOKEN_STORE")
        .or_else(|| profile.token_store.take())
        .or_else(|| file.token_store.take())
    {
        None => TokenStoreKind::Keychain,
        Some(value) => TokenStoreKind::parse(&value).ok_or_else(|| {
            CliError::user(format!("unknown token store `{value}`"))
                .with_hint("use `keychain` (the default) or `file`")
        })?,
    };

    let services = collect_services(&file, &profile, env, &mut warnings);
    let trusted_hosts = [&file, &profile]
        .into_iter()
        .flat_map(|layer| layer.trusted_hosts.iter().flatten())
        .map(|host| host.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|host| !host.is_empty())
        .collect();

    Ok(Config {
        profile: global.profile.clone(),
        path,
        file_found,
        site,
        oauth,
        mcp_base_url,
        services,
        token_store,
        trusted_hosts,
        warnings,
    })
}

/// Services: the top level, then the profile's (which may replace an alias), then env.
fn collect_services(
    file: &FileLayer,
    profile: &FileLayer,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, Service> {
    let mut services = BTreeMap::new();
    for layer in [file, profile] {
        if let Some(value) = &layer.mcp_server.services {
            parse_services(value, Source::Config, &mut services, warnings);
        }
    }
    if let Some(list) = env("MCPGW_SERVICES") {
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((name, target)) if !name.trim().is_empty() && !target.trim().is_empty() => {
                    services.insert(
                        name.trim().to_owned(),
                        Service {
                            target: target.trim().to_owned(),
                            source: Source::Env,
                            filter: ToolFilter::default(),
                        },
                    );
                }
                _ => warnings.push(format!(
                    "MCPGW_SERVICES: `{pair}` is not ALIAS=PATH_OR_URL, ignored"
                )),
            }
        }
    }

    services
}

fn collect_warnings(layer: &FileLayer, prefix: &str, file: &str, warnings: &mut Vec<String>) {
    for key in layer.other.keys() {
        match legacy_key_note(key) {
            Some(note) => warnings.push(format!("{file}: `{prefix}{key}` from the old gateway no longer applies and is ignored: {note}")),
            None => warnings.push(format!("{file}: unknown key `{prefix}{key}` is ignored")),
        }
    }
    for key in layer.oauth.other.keys() {
        warnings.push(format!(
            "{file}: unknown key `{prefix}oauth.{key}` is ignored"
        ));
    }
    for key in layer.mcp_server.other.keys() {
        warnings.push(format!(
            "{file}: unknown key `{prefix}mcpServer.{key}` is ignored"
        ));
    }
    if !prefix.is_empty() && layer.profiles.is_some() {
        warnings.push(format!(
            "{file}: profiles cannot nest; `{prefix}profiles` is ignored"
        ));
    }
}

/// Services as the old gateway and mcpgw write them: `{"ecs": "/path"}`,
/// `{"ecs": {"url": ..., "allowTools": [...]}}`, or a list of `{"name", "path"|"url"}`.
fn parse_services(
    value: &Value,
    source: Source,
    out: &mut BTreeMap<String, Service>,
    warnings: &mut Vec<String>,
) {
    let entries: Vec<(&str, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(name, entry)| (name.as_str(), entry))
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|item| {
                let name = ["name", "alias", "id"]
                    .iter()
                    .find_map(|k| item.get(k).and_then(Value::as_str));
                if name.is_none() {
                    warnings.push("a mcpServer.services entry has no name, ignored".to_owned());
                }
                name.map(|name| (name, item))
            })
            .collect(),
        _ => {
            warnings.push(
                "mcpServer.services should be an object of alias → path or URL, ignored".to_owned(),
            );
            Vec::new()
        }
    };
    for (name, entry) in entries {
        match service_from_value(entry, source) {
            Some(service) => {
                out.insert(name.to_owned(), service);
            }
            None => warnings.push(format!("service `{name}` has no path or url, ignored")),
        }
    }
}

fn service_from_value(entry: &Value, source: Source) -> Option<Service> {
    if let Some(target) = entry.as_str() {
        return Some(Service {
            target: target.to_owned(),
            source,
            filter: ToolFilter::default(),
        });
    }
    let target = ["url", "path", "endpoint"]
        .iter()
        .find_map(|k| entry.get(k).and_then(Value::as_str))?;
    let globs = |key: &str| -> Vec<String> {
        entry
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(Service {
        target: target.to_owned(),
        source,
        filter: ToolFilter {
            allow: globs("allowTools"),
            deny: globs("denyTools"),
            read_only: entry
                .get("readOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
    })
}

// ---- resolving a service ---------------------------------------------------

impl Config {
    /// The URL for a service alias, or for a full URL given on the command line.
    pub fn resolve_service(
        &self,
        name_or_url: &str,
        allow_http: bool,
    ) -> Result<ResolvedService, CliError> {
        let (name, url, filter) = if name_or_url.contains("://") {
            (
                name_or_url.to_owned(),
                parse_url(name_or_url)?,
                ToolFilter::default(),
            )
        } else {
            let service = self
                .services
                .get(name_or_url)
                .ok_or_else(|| self.unknown_service(name_or_url))?;
            let url = if service.target.contains("://") {
                parse_url(&service.target)?
            } else {
                join_url(&self.mcp_base_url, &service.target)?
            };
            (name_or_url.to_owned(), url, service.filter.clone())
        };
        check_upstream_url(&url, allow_http)?;
        Ok(ResolvedService { name, url, filter })
    }

    /// Whether the stored Alibaba Cloud login may be sent to `url`: Alibaba Cloud's
    /// MCP hosts, loopback (local stand-ins), and the hosts in `trustedHosts`
    /// (`*.example.com` covers the subdomains). Tokens from `--bearer-token` or
    /// `--token-command` are the user's own choice for that server and not limited.
    pub fn login_may_go_to(&self, url: &Url) -> bool {
        if is_loopback_host(url) {
            return true;
        }
        let Some(host) = url
            .host_str()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        else {
            return false;
        };
        let alibaba = host.ends_with(".aliyuncs.com")
            && (host.starts_with("openapi-mcp.") || host.starts_with("openapi-mcp-"));
        alibaba
            || self
                .trusted_hosts
                .iter()
                .any(|trusted| match trusted.strip_prefix("*.") {
                    Some(domain) => host.ends_with(&format!(".{domain}")),
                    None => &host == trusted,
                })
    }

    /// The refusal when the stored login may not go to `url`.
    pub fn untrusted_host(&self, url: &Url) -> CliError {
        let host = url.host_str().unwrap_or("");
        CliError::user(format!(
            "refusing to send your Alibaba Cloud login to {host}: it is not an Alibaba Cloud MCP host"
        ))
        .with_hint(format!(
            "if you trust {host} with your Alibaba Cloud token, add \"trustedHosts\": [\"{host}\"] to {}; \
             for a server with tokens of its own use --bearer-token or --token-command",
            self.path.display()
        ))
    }

    fn unknown_service(&self, name: &str) -> CliError {
        let known = if self.services.is_empty() {
            "no services are configured yet".to_owned()
        } else {
            format!(
                "configured services: {}",
                self.services.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        CliError::user(format!("unknown service `{name}` ({known})")).with_hint(format!(
            "add it with `mcpgw services add {name} <URL from the Alibaba Cloud MCP console>`, \
             or under mcpServer.services in {}, or pass the full https:// URL instead of an alias",
            self.path.display()
        ))
    }
}

fn parse_url(text: &str) -> Result<Url, CliError> {
    Url::parse(text.trim())
        .map_err(|err| CliError::user(format!("`{text}` is not a valid URL: {err}")))
}

/// Joins a service path to the base URL, keeping any path prefix the base has.
pub fn join_url(base: &str, path: &str) -> Result<Url, CliError> {
    let joined = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim().trim_start_matches('/')
    );
    parse_url(&joined)
}

pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Why a URL may not receive a token or be opened in a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error(
        "plain http:// would carry the token unencrypted (it is allowed for 127.0.0.1, ::1 and localhost only)"
    )]
    PlainHttp,
    #[error("only https:// URLs are allowed")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL must not carry a user name or password")]
    Credentials,
}

/// The one rule for any URL mcpgw sends credentials to or opens: https, or plain
/// http on a loopback host (local stand-ins) or when the user allowed it, with a
/// host and without `user:password@`.
pub fn check_url(url: &Url, allow_http: bool) -> Result<(), UrlProblem> {
    match url.scheme() {
        "https" => {}
        "http" if allow_http || is_loopback_host(url) => {}
        "http" => return Err(UrlProblem::PlainHttp),
        _ => return Err(UrlProblem::Scheme),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlProblem::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    Ok(())
}

fn check_upstream_url(url: &Url, allow_http: bool) -> Result<(), CliError> {
    check_url(url, allow_http).map_err(|problem| {
        let hint = match problem {
            UrlProblem::PlainHttp => {
                "use https://, or pass --allow-http if this network is trusted"
            }
            UrlProblem::Credentials => {
                "mcpgw signs requests with your OAuth login; remove the `user:password@` part"
            }
            UrlProblem::Scheme | UrlProblem::NoHost => {
                "use the https:// URL from the Alibaba Cloud MCP console"
            }
        };
        CliError::user(format!("refusing MCP server URL {url}: {problem}")).with_hint(hint)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(profile: &str) -> GlobalArgs {
        GlobalArgs {
            profile: profile.into(),
            ..Default::default()
        }
    }

    fn resolve_json(json: &str, global: &GlobalArgs, env: &[(&str, &str)]) -> Config {
        let file: FileLayer = serde_json::from_str(json).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        resolve(global, &lookup, file, PathBuf::from("config.json"), true).unwrap()
    }

    const OLD_GATEWAY: &str = r#"{
        "port": 3000,
        "gatewayBaseUrl": "http://localhost:3000",
        "oauth": {
            "clientId": 4103531455503354461,
            "authorizationEndpoint": "https://signin.aliyun.com/oauth2/v1/auth",
            "tokenEndpoint": "https://oauth.aliyun.com/v1/token",
            "scope": "openid /acs/mcp-server"
        },
        "mcpServer": {
            "baseUrl": "https://openapi-mcp.cn-hangzhou.aliyuncs.com",
            "services": {"ecs": "/accounts/1/custom/ecs/id/abc/mcp", "oss": "https://example.com/oss/mcp"}
        }
    }"#;

    #[test]
    fn old_gateway_config_maps_and_warns() {
        let config = resolve_json(OLD_GATEWAY, &global("default"), &[]);
        assert_eq!(
            config.oauth.client_id.as_deref(),
            Some("4103531455503354461")
        );
        assert_eq!(config.oauth.scope, "openid /acs/mcp-server");
        assert_eq!(
            config.oauth.token_endpoint,
            "https://oauth.aliyun.com/v1/token"
        );
        assert_eq!(config.services.len(), 2);
        let ecs = config.resolve_service("ecs", false).unwrap();
        assert_eq!(
            ecs.url.as_str(),
            "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1/custom/ecs/id/abc/mcp"
        );
        assert_eq!(
            config.resolve_service("oss", false).unwrap().url.as_str(),
            "https://example.com/oss/mcp"
        );
        assert_eq!(config.warnings.len(), 2, "{:?}", config.warnings);
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("gatewayBaseUrl") && w.contains("no longer applies"))
        );
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("`port`") && w.contains("redirectUri"))
        );
    }

    #[test]
    fn env_beats_profile_beats_file_beats_preset() {
        let json = r#"{"site":"cn","oauth":{"clientId":"file","scope":"file-scope"},
            "profiles":{"work":{"oauth":{"clientId":"profile"}}}}"#;
        let config = resolve_json(json, &global("work"), &[("MCPGW_SCOPE", "env-scope")]);
        assert_eq!(config.oauth.client_id.as_deref(), Some("profile"));
        assert_eq!(config.oauth.scope, "env-scope");
        assert_eq!(config.site, Site::Cn);
        assert_eq!(
            config.oauth.revocation_endpoint,
            "https://oauth.aliyun.com/v1/revoke"
        );
        let config = resolve_json(json, &global("default"), &[("MCPGW_CLIENT_ID", "env")]);
        assert_eq!(config.oauth.client_id.as_deref(), Some("env"));
        assert_eq!(config.oauth.scope, "file-scope");
    }

    #[test]
    fn site_flag_beats_file_and_picks_preset() {
        let json = r#"{"site":"cn"}"#;
        let mut args = global("default");
        args.site = Some(Site::Intl);
        let config = resolve_json(json, &args, &[]);
        assert_eq!(
            config.oauth.authorization_endpoint,
            "https://signin.alibabacloud.com/oauth2/v1/auth"
        );
        assert_eq!(
            config.mcp_base_url,
            "https://openapi-mcp.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(config.oauth.redirect_uri, DEFAULT_REDIRECT_URI);
        assert_eq!(config.oauth.scope, DEFAULT_SCOPE);
    }

    #[test]
    fn the_login_goes_only_to_alibaba_loopback_and_trusted_hosts() {
        let config = resolve_json(
            r#"{"trustedHosts": ["mcp.corp.example", "*.internal.example"]}"#,
            &global("default"),
            &[],
        );
        let may = |url: &str| config.login_may_go_to(&Url::parse(url).unwrap());
        assert!(may(
            "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1/mcp"
        ));
        assert!(may(
            "https://openapi-mcp-cn-hangzhou.vpc-proxy.aliyuncs.com/id/x/mcp"
        ));
        assert!(
            may("http://127.0.0.1:8080/mcp")
                && may("http://[::1]:1/mcp")
                && may("http://localhost/mcp")
        );
        assert!(may("https://mcp.corp.example/mcp") && may("https://a.internal.example/mcp"));
        assert!(!may("https://someone-else.example/mcp"));
        assert!(!may(
            "https://openapi-mcp.cn-hangzhou.aliyuncs.com.evil.example/mcp"
        ));
        assert!(
            !may("https://evil-openapi-mcp.aliyuncs.com/mcp"),
            "not an MCP host"
        );
        assert!(
            !may("https://internal.example/mcp"),
            "the wildcard covers subdomains only"
        );
        let untrusted = config.untrusted_host(&Url::parse("https://x.example/mcp").unwrap());
        assert!(untrusted.hint.unwrap().contains("trustedHosts"));
    }

    #[test]
    fn unknown_service_lists_aliases_and_says_how_to_add() {
        let config = resolve_json(OLD_GATEWAY, &global("default"), &[]);
        let err = config.resolve_service("rds", false).unwrap_err();
        assert!(err.message.contains("ecs, oss"), "{}", err.message);
        assert!(err.hint.unwrap().contains("mcpgw services add rds"));
    }

    #[test]
    fn plain_http_only_for_loopback_or_when_allowed() {
        let config = resolve_json("{}", &global("default"), &[]);
        assert!(
            config
                .resolve_service("http://127.0.0.1:9/mcp", false)
                .is_ok()
        );
        assert!(config.resolve_service("http://[::1]:9/mcp", false).is_ok());
        assert!(
            config
                .resolve_service("http://localhost:9/mcp", false)
                .is_ok()
        );
        let err = config
            .resolve_service("http://example.com/mcp", false)
            .unwrap_err();
        assert!(err.hint.unwrap().contains("--allow-http"));
        assert!(
            config
                .resolve_service("http://example.com/mcp", true)
                .is_ok()
        );
        assert!(
            config
                .resolve_service("ftp://example.com/mcp", true)
                .is_err()
        );
    }

    #[test]
    fn services_from_env_list_and_detailed_entries() {
        let json = r#"{"mcpServer":{"baseUrl":"https://h/prefix/","services":[
            {"name":"ecs","path":"ecs/mcp","allowTools":["Describe*"],"readOnly":true}]}}"#;
        let config = resolve_json(
            json,
            &global("default"),
            &[("MCPGW_SERVICES", "oss=/oss/mcp, bad")],
        );
        let ecs = config.resolve_service("ecs", false).unwrap();
        assert_eq!(ecs.url.as_str(), "https://h/prefix/ecs/mcp");
        assert_eq!(ecs.filter.allow, ["Describe*"]);
        assert!(ecs.filter.read_only);
        assert_eq!(config.services["oss"].source, Source::Env);
        assert!(config.warnings.iter().any(|w| w.contains("`bad`")));
    }

    #[test]
    fn vpc_proxy_base_url_warns() {
        let json =
            r#"{"mcpServer":{"baseUrl":"https://openapi-mcp-cn-hangzhou.vpc-proxy.aliyuncs.com"}}"#;
        let config = resolve_json(json, &global("default"), &[]);
        assert!(config.warnings.iter().any(|w| w.contains("VPC")));
    }

    #[test]
    fn bad_token_store_value_is_an_error() {
        let file: FileLayer = serde_json::from_str(r#"{"tokenStore":"plaintext"}"#).unwrap();
        let err = resolve(
            &global("default"),
            &|_| None,
            file,
            PathBuf::from("c.json"),
            true,
        )
        .unwrap_err();
        assert!(err.message.contains("plaintext"));
    }
}
