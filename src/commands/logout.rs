//! `mcpgw logout`: revoke the tokens at Alibaba Cloud and forget them.

use crate::auth::lock;
use crate::auth::oauth;
use crate::auth::store::{self, StoreError, TokenRecord, TokenStore};
use crate::cli::{GlobalArgs, LogoutArgs};
use crate::config::Config;
use crate::error::CliResult;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &LogoutArgs, config: &Config) -> CliResult {
    let http = crate::http::client(global.ca_cert.as_deref())?.client;
    for config in super::profile_configs(global, config, args.all).await? {
        logout_profile(&http, args, &config).await?;
    }
    Ok(())
}

async fn logout_profile(http: &reqwest::Client, args: &LogoutArgs, config: &Config) -> CliResult {
    let profile = config.profile.clone();
    let kind = config.token_store;
    let store = store::blocking(move || TokenStore::open(kind)).await?;
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
        store::blocking(move || store.load(&profile)).await
    };
    let record = match record {
        Ok(record) => record,
        // Unreadable: still delete it below.
        Err(StoreError::Corrupt(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let revoke_note = match (&record, args.no_revoke) {
        (Some(_), true) => " (not revoked: --no-revoke)".to_owned(),
        (Some(record), false) => revoke_all(http, record, config).await,
        (None, _) => String::new(),
    };
    let deleted = {
        let (store, profile) = (store.clone(), profile.clone());
        store::blocking(move || store.delete(&profile)).await?
    };
    if record.is_some() || deleted {
        output::print(&format!(
            "Logged out of profile `{profile}`{revoke_note}.\n"
        ))?;
    } else {
        output::print(&format!("Profile `{profile}` was not logged in.\n"))?;
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
    let endpoint = match oauth::endpoint_url("revocation", &endpoint) {
        Ok(url) => url,
        Err(err) => return format!(" (tokens not revoked: {err})"),
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
