//! `mcpgw status` (who is logged in, per profile) and `mcpgw logout` (revoke and
//! forget the tokens).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::cli::{GlobalArgs, LogoutArgs, StatusArgs};
use crate::config::{self, Config};
use crate::error::CliError;
use crate::auth::oauth::{self, Identity};
use crate::auth::lock;
use crate::auth::store::{self, TokenRecord, TokenStore, now_unix};

/// CLI output on stdout, in one write. A closed pipe (`mcpgw status | head`) is
/// not an error worth reporting.
pub fn write_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()); // stdout-ok
    let _ = out.flush();
}

/// Absolute time in the local zone, e.g. `2026-05-01 14:03:00 +08:00`.
pub fn format_time(unix: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix, 0).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        None => unix.to_string(),
    }
}

fn rfc3339_utc(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// `in 42 min`, `3 h 5 min ago`.
pub fn format_relative(seconds: i64) -> String {
    let abs = seconds.unsigned_abs();
    let text = if abs < 60 {
        format!("{abs} s")
    } else if abs < 3600 {
        format!("{} min", abs / 60)
    } else if abs < 86_400 {
        format!("{} h {} min", abs / 3600, abs % 3600 / 60)
    } else {
        format!("{} d {} h", abs / 86_400, abs % 86_400 / 3600)
    };
    if seconds >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

// ---- status ------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct ProfileStatus {
    profile: String,
    logged_in: bool,
    /// Logged in with a token that works now or can be refreshed.
    usable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<Identity>,
    site: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_expires_at_unix: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token_expires_in: Option<i64>,
    refresh_token: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    obtained_at: Option<String>,
    store: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_error: Option<String>,
    services: Vec<ServiceStatus>,
}

#[derive(Debug, Serialize)]
struct ServiceStatus {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

pub async fn status(global: &GlobalArgs, args: &StatusArgs, config: &Config) -> anyhow::Result<()> {
    let profiles = if args.all {
        all_profiles(config).await
    } else {
        vec![config.profile.clone()]
    };
    let mut reports = Vec::new();
    for profile in profiles {
        let config = if profile == config.profile {
            config.clone()
        } else {
            profile_config(global, &profile)?
        };
        reports.push(profile_status(&config).await);
    }
    let any_usable = reports.iter().any(|r| r.usable);
    if args.json {
        let json = if args.all {
            serde_json::to_string_pretty(&serde_json::json!({ "profiles": reports }))?
        } else {
            serde_json::to_string_pretty(&reports[0])?
        };
        write_stdout(&format!("{json}\n"));
    } else {
        let text: Vec<String> = reports.iter().map(status_text).collect();
        write_stdout(&text.join("\n"));
    }
    if any_usable {
        Ok(())
    } else {
        // The report is the message; exit 1 without repeating it.
        std::process::exit(crate::error::EXIT_FAILURE);
    }
}

fn profile_config(global: &GlobalArgs, profile: &str) -> Result<Config, CliError> {
    let mut global = global.clone();
    global.profile = profile.to_owned();
    config::load(&global)
}

/// The current profile, `default`, every profile named in config.json and every
/// profile with stored tokens.
async fn all_profiles(config: &Config) -> Vec<String> {
    let mut names = BTreeSet::from([config.profile.clone(), "default".to_owned()]);
    if let Ok(text) = std::fs::read_to_string(&config.path)
        && let Ok(Value::Object(file)) = serde_json::from_str::<Value>(&text)
        && let Some(Value::Object(profiles)) = file.get("profiles")
    {
        names.extend(profiles.keys().cloned());
    }
    let kind = config.token_store;
    if let Ok(Ok(store)) = tokio::task::spawn_blocking(move || TokenStore::open(kind)).await {
        let stored = tokio::task::spawn_blocking(move || store.profiles())
            .await
            .unwrap_or_default();
        names.extend(stored);
    }
    names.into_iter().collect()
}

async fn profile_status(config: &Config) -> ProfileStatus {
    let kind = config.token_store;
    let profile = config.profile.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let store = TokenStore::open(kind)?;
        let record = store.load(&profile)?;
        Ok::<_, store::StoreError>((store.describe(), record))
    })
    .await;
    let (store, record, store_error) = match loaded {
        Ok(Ok((store, record))) => (store, record, None),
        Ok(Err(err)) => (kind.as_str().to_owned(), None, Some(err.to_string())),
        Err(err) => (kind.as_str().to_owned(), None, Some(err.to_string())),
    };
    let services = config
        .services
        .keys()
        .map(|name| ServiceStatus {
            name: name.clone(),
            url: config
                .resolve_service(name, true)
                .ok()
                .map(|s| s.url.to_string()),
        })
        .collect();
    let now = now_unix();
    match record {
        Some(record) => ProfileStatus {
            profile: config.profile.clone(),
            logged_in: true,
            usable: record.is_unexpired(now) || record.can_refresh(),
            identity: record.identity.clone().filter(|i| !i.is_empty()),
            site: if record.site.is_empty() {
                config.site.as_str().to_owned()
            } else {
                record.site.clone()
            },
            client_id: Some(record.client_id.clone()),
            scope: Some(record.scope.clone()),
            access_token_expires_at: record.expires_at.and_then(rfc3339_utc),
            access_token_expires_at_unix: record.expires_at,
            access_token_expires_in: record.remaining(now),
            refresh_token: record.can_refresh(),
            obtained_at: rfc3339_utc(record.obtained_at),
            store,
            store_error,
            services,
        },
        None => ProfileStatus {
            profile: config.profile.clone(),
            logged_in: false,
            usable: false,
            identity: None,
            site: config.site.as_str().to_owned(),
            client_id: config.oauth.client_id.clone(),
            scope: Some(config.oauth.scope.clone()),
            access_token_expires_at: None,
            access_token_expires_at_unix: None,
            access_token_expires_in: None,
            refresh_token: false,
            obtained_at: None,
            store,
            store_error,
            services,
        },
    }
}

fn status_text(report: &ProfileStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let login_hint = if report.profile == "default" {
        String::new()
    } else {
        format!(" --profile {}", report.profile)
    };
    let state = match (report.logged_in, report.usable) {
        (true, true) => "logged in".to_owned(),
        (true, false) => format!("login expired — run `mcpgw login{login_hint}`"),
        (false, _) => format!("not logged in — run `mcpgw login{login_hint}`"),
    };
    let _ = writeln!(out, "Profile {}: {state}", report.profile);
    let mut row = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<15} {value}");
    };
    if let Some(identity) = &report.identity {
        let mut who = identity
            .name
            .clone()
            .or_else(|| identity.subject.clone())
            .unwrap_or_default();
        if let Some(account) = &identity.account_id {
            who = if who.is_empty() {
                format!("account {account}")
            } else {
                format!("{who} (account {account})")
            };
        }
        row("user", &who);
    }
    row("site", &report.site);
    row(
        "client id",
        report.client_id.as_deref().unwrap_or("(not configured)"),
    );
    if let Some(scope) = &report.scope {
        row("scope", scope);
    }
    if report.logged_in {
        let expiry = match (
            report.access_token_expires_in,
            report.access_token_expires_at_unix,
        ) {
            (Some(left), Some(at)) if left > 0 => {
                format!("expires {} ({})", format_relative(left), format_time(at))
            }
            (Some(left), Some(at)) => {
                format!("expired {} ({})", format_relative(left), format_time(at))
            }
            _ => "expiry unknown".to_owned(),
        };
        row("access token", &expiry);
        row(
            "refresh token",
            if report.refresh_token {
                "present (refreshed automatically)"
            } else {
                "none"
            },
        );
    }
    row("token store", &report.store);
    if let Some(err) = &report.store_error {
        row("store error", err);
    }
    if report.services.is_empty() {
        row("services", "none configured (mcpgw services add NAME URL)");
    } else {
        let names: Vec<&str> = report.services.iter().map(|s| s.name.as_str()).collect();
        row("services", &names.join(", "));
    }
    out
}

// ---- logout ---------------------------------------------------------------------------

pub async fn logout(global: &GlobalArgs, args: &LogoutArgs, config: &Config) -> anyhow::Result<()> {
    let profiles = if args.all {
        all_profiles(config).await
    } else {
        vec![config.profile.clone()]
    };
    let http = crate::http::client(global.ca_cert.as_deref())?;
    for profile in profiles {
        let config = if profile == config.profile {
            config.clone()
        } else {
            profile_config(global, &profile)?
        };
        logout_profile(&http, args, &config).await?;
    }
    Ok(())
}

async fn logout_profile(
    http: &reqwest::Client,
    args: &LogoutArgs,
    config: &Config,
) -> anyhow::Result<()> {
    let profile = config.profile.clone();
    let kind = config.token_store;
    let store = tokio::task::spawn_blocking(move || TokenStore::open(kind))
        .await?
        .map_err(|err| CliError::user(err.to_string()))?;
    // Hold the refresh lock so no relay rotates the tokens while they are revoked.
    let _lock = match lock::path(&profile, lock::Purpose::Refresh) {
        Ok(path) => lock::lock(&path, std::time::Duration::from_secs(10))
            .await
            .ok()
            .flatten(),
        Err(_) => None,
    };
    let record = {
        let (store, profile) = (store.clone(), profile.clone());
        tokio::task::spawn_blocking(move || store.load(&profile)).await?
    };
    let record = match record {
        Ok(record) => record,
        // Unreadable: still delete it below.
        Err(store::StoreError::Corrupt(_)) => None,
        Err(err) => return Err(CliError::user(err.to_string()).into()),
    };
    let revoke_note = match (&record, args.no_revoke) {
        (Some(_), true) => " (not revoked: --no-revoke)".to_owned(),
        (Some(record), false) => revoke_all(http, record, config).await,
        (None, _) => String::new(),
    };
    let deleted = {
        let (store, profile) = (store.clone(), profile.clone());
        tokio::task::spawn_blocking(move || store.delete(&profile)).await?
    }
    .map_err(|err| CliError::user(err.to_string()))?;
    if record.is_some() || deleted {
        write_stdout(&format!(
            "Logged out of profile `{profile}`{revoke_note}.\n"
        ));
    } else {
        write_stdout(&format!("Profile `{profile}` was not logged in.\n"));
    }
    Ok(())
}

/// Revokes the refresh token (which ends the grant) and the access token; best
/// effort, so a failure is reported but never keeps the tokens stored.
async fn revoke_all(http: &reqwest::Client, record: &TokenRecord, config: &Config) -> String {
    let endpoint = record
        .revocation_endpoint
        .clone()
        .unwrap_or_else(|| config.oauth.revocation_endpoint.clone());
    let endpoint = match Url::parse(&endpoint)
        .map_err(|e| e.to_string())
        .and_then(|u| {
            crate::config::check_url(&u, false).map_err(|problem| problem.to_string())?;
            Ok(u)
        }) {
        Ok(url) => url,
        Err(err) => return format!(" (tokens not revoked: bad revocation endpoint: {err})"),
    };
    let mut failures = Vec::new();
    if let Some(refresh) = &record.refresh_token
        && let Err(err) =
            oauth::revoke(http, &endpoint, &record.client_id, refresh, "refresh_token").await
    {
        failures.push(format!("refresh token: {err}"));
    }
    if let Err(err) = oauth::revoke(
        http,
        &endpoint,
        &record.client_id,
        &record.access_token,
        "access_token",
    )
    .await
    {
        failures.push(format!("access token: {err}"));
    }
    if failures.is_empty() {
        " and revoked its tokens".to_owned()
    } else {
        tracing::warn!("revoking at {endpoint} failed: {}", failures.join("; "));
        format!(
            " (revoking failed, the local tokens were deleted anyway: {})",
            failures.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(format_relative(42), "in 42 s");
        assert_eq!(format_relative(59 * 60 + 5), "in 59 min");
        assert_eq!(format_relative(-(3 * 3600 + 5 * 60)), "3 h 5 min ago");
        assert_eq!(format_relative(2 * 86_400 + 3600), "in 2 d 1 h");
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(rfc3339_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
    }
}
