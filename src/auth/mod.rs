//! Where the relay's bearer token comes from, in order: `--bearer-token` /
//! `MCPGW_BEARER_TOKEN`, `--token-command`, then the stored login.
//!
//! The relay asks [`Auth::bearer`] before each request (a cached value on the hot
//! path) and [`Auth::rejected`] after an upstream 401, which may yield a fresh token
//! to retry with once.
//!
//! The stored login is a state machine of its own ([`source`]): it refreshes
//! proactively when less than the margin is left and reactively after a 401.
//! Refresh is single-flight across every mcpgw process of the user ([`refresh`]:
//! a lock file in the cache dir, then a re-read of the store), because refresh
//! tokens rotate and are single-use: two processes refreshing with the same one
//! would log the user out. With no usable login the relay starts the browser
//! login itself ([`background`]: a detached `mcpgw login --background`,
//! serialised by another lock so several relays open one browser window).
//!
//! The rest of the tree uses [`login`] (the command), [`store`] (the keychain or
//! file), [`lock`] (lock and log paths) and [`oauth`] (the protocol).

mod background;
pub mod lock;
pub mod login;
pub mod oauth;
mod refresh;
mod source;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::auth::refresh::RefreshFailure;
use crate::auth::source::StoreSource;
use crate::auth::store::StoreError;
use crate::cli::RelayArgs;
use crate::config::Config;
use crate::output::login_command;
use crate::secret::Secret;

/// Why no token can be had. The relay sends `to_string()` as its JSON-RPC error,
/// so each message carries its cause's text too; the cause itself stays the
/// error's source. No variant holds a token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not logged in: run `{}`", login_command(.profile))]
    NotLoggedIn { profile: String },
    #[error("the token command failed: {0}")]
    Command(#[source] TokenCommandError),
    /// The login is gone for good (revoked, expired refresh token, client changed).
    #[error("{reason}; run `{}` to sign in again", login_command(.profile))]
    LoginExpired {
        #[source]
        reason: LoginGone,
        profile: String,
    },
    /// The relay's own browser login is still waiting for the user.
    #[error("{0}")]
    LoginPending(String),
    /// A refresh failed transiently and the current token cannot be used any more.
    #[error("cannot refresh the login: {0}")]
    Refresh(#[source] RefreshFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the browser login: {0}")]
    StartLogin(#[source] std::io::Error),
}

/// Why the stored login cannot be used any more.
#[derive(Debug, thiserror::Error)]
pub enum LoginGone {
    /// A permanent refresh failure (the grant is dead, no refresh token, ...).
    #[error(transparent)]
    Refresh(RefreshFailure),
    #[error("the MCP server rejected the stored token and it cannot be refreshed")]
    Rejected,
    /// The background login ended without signing in (its last message).
    #[error("the browser sign-in started by mcpgw did not complete ({0})")]
    BackgroundLogin(String),
}

/// Why `--token-command` gave no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenCommandError {
    #[error("no answer within {}s", TOKEN_COMMAND_TIMEOUT.as_secs())]
    Timeout,
    #[error("cannot run it: {0}")]
    Spawn(#[source] std::io::Error),
    /// Its exit status and the first line of its stderr.
    #[error("{status} {stderr}")]
    Failed {
        status: std::process::ExitStatus,
        stderr: String,
    },
    /// The conversion error is not kept: its bytes are the command's output.
    #[error("it printed non-UTF-8 output")]
    NotUtf8,
    #[error("it printed nothing")]
    Empty,
}

/// Refresh this long before the access token expires (MCPGW_REFRESH_MARGIN, seconds).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

enum Source {
    Static(Secret),
    Command(String),
    Store(Arc<StoreSource>),
}

/// Which kind of token source an [`Auth`] uses, for reports such as doctor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind<'a> {
    /// `--bearer-token` / `MCPGW_BEARER_TOKEN` (or a fixed probe token).
    Token,
    /// `--token-command` / `MCPGW_TOKEN_COMMAND`.
    Command(&'a str),
    /// The stored login.
    Store,
}

pub struct Auth {
    source: Source,
    /// The token in use for the static and command sources.
    cached: Mutex<Option<Secret>>,
}

impl Auth {
    pub fn new(relay: &RelayArgs, config: &Config, http: reqwest::Client) -> Self {
        let source = if let Some(token) = relay
            .bearer_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Source::Static(Secret::new(token))
        } else if let Some(command) = relay.token_command.clone().filter(|c| !c.trim().is_empty()) {
            Source::Command(command)
        } else {
            Source::Store(Arc::new(StoreSource::new(relay, config, http)))
        };
        Self {
            source,
            cached: Mutex::new(None),
        }
    }

    /// Always this token, or none at all (an empty [`Secret`], sent as no
    /// `Authorization` header): for probes such as `mcpgw doctor`'s.
    pub fn fixed(token: Option<Secret>) -> Self {
        Self {
            source: Source::Static(token.unwrap_or_default()),
            cached: Mutex::new(None),
        }
    }

    /// Refuses `url` when this source is the stored login and `url` is not a host
    /// it may go to (see [`Config::login_may_go_to`]). Every command that sends
    /// the login to an MCP server checks here first.
    pub fn ensure_may_send_to(&self, config: &Config, url: &url::Url) -> crate::error::CliResult {
        if self.source_kind() == SourceKind::Store && !config.login_may_go_to(url) {
            return Err(config.untrusted_host(url));
        }
        Ok(())
    }

    pub fn source_kind(&self) -> SourceKind<'_> {
        match &self.source {
            Source::Static(_) => SourceKind::Token,
            Source::Command(command) => SourceKind::Command(command),
            Source::Store(_) => SourceKind::Store,
        }
    }

    /// A token to send now.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        if let Source::Store(store) = &self.source {
            return store.bearer().await;
        }
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
        if let Source::Store(store) = &self.source {
            return store.rejected(token).await;
        }
        let mut cached = self.cached.lock().await;
        // Another request already replaced the rejected token.
        if let Some(current) = cached.as_ref()
            && current != token
        {
            return Ok(Some(current.clone()));
        }
        match &self.source {
            Source::Static(_) => Ok(None),
            _ => {
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
            Source::Command(command) => {
                run_token_command(command).await.map_err(AuthError::Command)
            }
            Source::Store(_) => unreachable!("the store has its own path"),
        }
    }
}

/// How long before expiry a stored access token is refreshed (MCPGW_REFRESH_MARGIN,
/// seconds; 5 min by default). Every reader of the margin asks here.
pub fn refresh_margin() -> Duration {
    std::env::var("MCPGW_REFRESH_MARGIN")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_REFRESH_MARGIN)
}

/// Runs `--token-command` through the platform shell; its trimmed stdout is the token.
async fn run_token_command(command: &str) -> Result<Secret, TokenCommandError> {
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
        .map_err(|_| TokenCommandError::Timeout)?
        .map_err(TokenCommandError::Spawn)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().next().unwrap_or("").trim();
        return Err(TokenCommandError::Failed {
            status: output.status,
            stderr: first_line.to_owned(),
        });
    }
    let token = String::from_utf8(output.stdout).map_err(|_| TokenCommandError::NotUtf8)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenCommandError::Empty);
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fixed_token_has_no_better_offer_after_a_401() {
        let auth = Auth::fixed(Some(Secret::new("tok-fixed")));
        let token = auth.bearer().await.unwrap();
        assert_eq!(token.expose(), "tok-fixed");
        assert!(auth.rejected(&token).await.unwrap().is_none());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_token_command_prints_the_token_or_says_why_not() {
        let token = run_token_command("printf ' tok-cmd\\n'").await.unwrap();
        assert_eq!(token.expose(), "tok-cmd");
        let failed = run_token_command("echo no credentials >&2; exit 3")
            .await
            .unwrap_err();
        assert!(
            matches!(failed, TokenCommandError::Failed { .. })
                && failed.to_string().contains("no credentials"),
            "{failed}"
        );
        assert!(matches!(
            run_token_command("true").await.unwrap_err(),
            TokenCommandError::Empty
        ));
        let err = AuthError::Command(TokenCommandError::Empty);
        assert_eq!(
            err.to_string(),
            "the token command failed: it printed nothing"
        );
    }
}
