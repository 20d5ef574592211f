//! One module per command other than the relay and login. Commands use the
//! relay and auth layers and print through `crate::output`; nothing below
//! imports them.

pub mod call;
pub mod completions;
pub mod doctor;
pub mod logout;
pub mod services;
pub mod setup;
pub mod status;
pub mod tools;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::auth::store::{self, TokenStore};
use crate::cli::GlobalArgs;
use crate::config::{self, Config};
use crate::error::CliResult;

/// The configuration of each profile a command acts on: the current one, or with
/// `--all` every profile that has configuration or a stored login.
async fn profile_configs(
    global: &GlobalArgs,
    config: &Config,
    all: bool,
) -> CliResult<Vec<Config>> {
    if !all {
        return Ok(vec![config.clone()]);
    }
    let mut configs = Vec::new();
    for profile in all_profiles(config).await {
        if profile == config.profile {
            configs.push(config.clone());
        } else {
            let mut global = global.clone();
            global.profile = profile;
            configs.push(config::load(&global)?);
        }
    }
    Ok(configs)
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
    if let Ok(stored) = store::blocking(move || TokenStore::open(kind).map(|s| s.profiles())).await
    {
        names.extend(stored);
    }
    names.into_iter().collect()
}
