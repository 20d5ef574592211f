//! Where the relay's bearer token comes from, in order: `--bearer-token` /
//! `MCPGW_BEARER_TOKEN`, `--token-command`, then the stored login.
//!
//! The relay asks [`Auth::bearer`] before each request (a cached value on the hot
//! path) and [`Auth::rejected`] after an upstream 401, which may yield a fresh token
//! to retry with once.

use std::time::Duration;

use tokio::sync::Mutex;

use crate::cli::RelayArgs;
use crate::config::Config;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not logged in: run `mcpgw login`{profile_hint}")]
    NotLoggedIn { profile_hint: String },
    #[error("the token command failed: {0}")]
    Command(String),
    #[error("{0}")]
    Other(String),
}

enum Source {
    Static(Secret),
    Command(String),
    Store { profile: String },
}

pub struct Auth {
    source: Source,
    /// The process's one HTTP client, for token refresh.
    #[allow(dead_code)]
    http: reqwest::Client,
    /// The token in use; replaced when a command is re-run or a login refreshes.
    cached: Mutex<Option<Secret>>,
}

const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl Auth {
    pub fn new(relay: &RelayArgs, config: &Config, http: reqwest::Client) -> Self {
        let source = if let Some(token) = relay.bearer_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Source::Static(Secret::new(token))
        } else if let Some(command) = relay.token_command.clone().filter(|c| !c.trim().is_empty()) {
            Source::Command(command)
        } else {
            Source::Store { profile: config.profile.clone() }
        };
        Self { source, http, cached: Mutex::new(None) }
    }

    /// A token to send now.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// The upstream rejected `token`. Returns a different token to retry with once,
    /// or `None` when there is nothing better to offer.
    pub async fn rejected(&self, token: &Secret) -> Result<Option<Secret>, AuthError> {
        let mut cached = self.cached.lock().await;
        // Another request already replaced the rejected token.
        if let Some(current) = cached.as_ref()
            && current != token
        {
            return Ok(Some(current.clone()));
        }
        match &self.source {
            Source::Static(_) => Ok(None),
            Source::Command(_) | Source::Store { .. } => {
                let fresh = self.fetch().await?;
                let changed = &fresh != token;
                *cached = Some(fresh.clone());
                Ok(changed.then_some(fresh))
            }
        }
    }

    async fn fetch(&self) -> Result<Secret, AuthError> {
        match &self.source {
            Source::Static(token) => Ok(token.clone()),
            Source::Command(command) => run_token_command(command).await,
            Source::Store { profile } => Err(AuthError::NotLoggedIn {
                profile_hint: if profile == "default" { String::new() } else { format!(" --profile {profile}") },
            }),
        }
    }
}

async fn run_token_command(command: &str) -> Result<Secret, AuthError> {
    let mut cmd = if cfg!(windows) {
        let mut cmd = tokio::process::Command::new("cmd");
        cmd.arg("/C").arg(command);
        cmd
    } else {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(command);
        cmd
    };
    // stdin must not be the relay's stdin: that is the JSON-RPC channel.
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(TOKEN_COMMAND_TIMEOUT, cmd.output())
        .await
        .map_err(|_| AuthError::Command(format!("no answer within {}s", TOKEN_COMMAND_TIMEOUT.as_secs())))?
        .map_err(|err| AuthError::Command(format!("cannot run it: {err}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().next().unwrap_or("").trim();
        return Err(AuthError::Command(format!("{} {first_line}", output.status)));
    }
    let token = String::from_utf8(output.stdout).map_err(|_| AuthError::Command("it printed non-UTF-8 output".into()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Command("it printed nothing".into()));
    }
    Ok(Secret::new(token))
}
