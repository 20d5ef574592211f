//! `mcpgw status`: who is logged in, per profile, and whether the login works.
//! Exit 0 when some reported profile has a usable login.

use serde::Serialize;

use crate::auth::store::Identity;
use crate::auth::store::{self, TokenStore, now_unix};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::config::Config;
use crate::error::{CliError, CliResult};
use crate::output;

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

pub async fn run(global: &GlobalArgs, args: &StatusArgs, config: &Config) -> CliResult {
    let mut reports = Vec::new();
    for config in super::profile_configs(global, config, args.all).await? {
        reports.push(profile_status(&config).await);
    }
    let any_usable = reports.iter().any(|r| r.usable);
    if args.json {
        let json = if args.all {
            serde_json::to_string_pretty(&serde_json::json!({ "profiles": reports }))?
        } else {
            serde_json::to_string_pretty(&reports[0])?
        };
        output::print(&format!("{json}\n"))?;
    } else {
        let text: Vec<String> = reports.iter().map(status_text).collect();
        output::print(&text.join("\n"))?;
    }
    if any_usable {
        Ok(())
    } else {
        // The report is the message; exit 1 without repeating it.
        Err(CliError::reported())
    }
}

async fn profile_status(config: &Config) -> ProfileStatus {
    let kind = config.token_store;
    let profile = config.profile.clone();
    let loaded = store::blocking(move || {
        let store = TokenStore::open(kind)?;
        let record = store.load(&profile)?;
        Ok((store.describe(), record))
    })
    .await;
    let (store, record, store_error) = match loaded {
        Ok((store, record)) => (store, record, None),
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
            access_token_expires_at: record.expires_at.and_then(output::rfc3339_utc),
            access_token_expires_at_unix: record.expires_at,
            access_token_expires_in: record.remaining(now),
            refresh_token: record.can_refresh(),
            obtained_at: output::rfc3339_utc(record.obtained_at),
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
    let login = output::login_command(&report.profile);
    let state = match (report.logged_in, report.usable) {
        (true, true) => "logged in".to_owned(),
        (true, false) => format!("login expired — run `{login}`"),
        (false, _) => format!("not logged in — run `{login}`"),
    };
    let _ = writeln!(out, "Profile {}: {state}", report.profile);
    let mut row = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<15} {value}");
    };
    if let Some(who) = report.identity.as_ref().and_then(Identity::describe) {
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
                format!(
                    "expires {} ({})",
                    output::relative(left),
                    output::local_time(at)
                )
            }
            (Some(left), Some(at)) => {
                format!(
                    "expired {} ({})",
                    output::relative(left),
                    output::local_time(at)
                )
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
