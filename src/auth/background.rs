//! The browser login a relay starts by itself when it has no usable login: a
//! detached `mcpgw login --background` (serialised across processes by the login
//! lock, so several relays open one browser window), whose progress comes back
//! over a pipe one word per line. The relay holds the request just under the
//! client's startup timeout, so a quick sign-in is invisible and a slow one gets
//! a clear message instead of the client's "timed out".

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

use crate::auth::AuthError;
use crate::auth::lock;

/// Claude Code waits MCP_TIMEOUT for a server's first answer (30 s unless set) and
/// its SDK caps the initialize request at 60 s regardless.
const CLIENT_DEFAULT_STARTUP: Duration = Duration::from_secs(30);
const CLIENT_MAX_STARTUP: Duration = Duration::from_secs(60);
/// Answer this long before the client would give up, so it gets our message rather
/// than its own timeout.
const HOLD_SAFETY: Duration = Duration::from_secs(5);

/// What the relay needs to start `mcpgw login --background` with the same settings.
#[derive(Debug, Clone)]
pub struct LoginLaunch {
    pub config_path: Option<std::path::PathBuf>,
    pub site: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginProgress {
    Starting,
    Waiting,
    Url(String),
    Done,
    Failed(String),
}

pub enum LoginWait {
    Done,
    Failed(String),
    Pending(Option<String>),
}

/// Starts `mcpgw login --background` in its own process group, so it outlives
/// this relay when the client gives up on it (the sign-in then serves the next
/// start). Its stdout reports progress, one word per line.
pub fn start_login(
    profile: &str,
    launch: &LoginLaunch,
) -> Result<watch::Receiver<LoginProgress>, AuthError> {
    let exe = std::env::current_exe().map_err(AuthError::StartLogin)?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("login")
        .arg("--background")
        .arg("--profile")
        .arg(profile)
        .arg("--site")
        .arg(launch.site);
    if let Some(path) = &launch.config_path {
        command.arg("--config").arg(path);
    }
    // Never the relay's stdin/stdout: those carry JSON-RPC. Not its stderr either:
    // the login may outlive the relay, and a pipe nobody reads any more would
    // break its logging (and keep the client's pipe open). Progress comes over
    // our own pipe; the details go to a log file.
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(login_log(profile))
        .kill_on_drop(false);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(AuthError::StartLogin)?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = watch::channel(LoginProgress::Starting);
    tracing::info!("no usable login for profile `{profile}`: starting the browser sign-in");
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut last_error = None;
        while let Ok(Some(line)) = lines.next_line().await {
            match parse_progress(&line) {
                Some(Ok(progress)) => {
                    let _ = tx.send(progress);
                }
                Some(Err(message)) => last_error = Some(message),
                None => {}
            }
        }
        let status = child.wait().await;
        if !matches!(*tx.borrow(), LoginProgress::Done) {
            let message = last_error.unwrap_or_else(|| match status {
                Ok(status) => format!("the login process ended with {status}"),
                Err(err) => err.to_string(),
            });
            let _ = tx.send(LoginProgress::Failed(message));
        }
    });
    Ok(rx)
}

/// One line of the background login's protocol: a progress step, or the error
/// message it reports before it ends (`Err`); `None` for anything else.
fn parse_progress(line: &str) -> Option<Result<LoginProgress, String>> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match word {
        "url" => {
            tracing::warn!("sign in to Alibaba Cloud in your browser to continue: {rest}");
            Some(Ok(LoginProgress::Url(rest.to_owned())))
        }
        "waiting" => {
            tracing::info!("another mcpgw process is signing in already; waiting for it");
            Some(Ok(LoginProgress::Waiting))
        }
        "done" => Some(Ok(LoginProgress::Done)),
        "error" => Some(Err(rest.to_owned())),
        _ => None,
    }
}

/// Where a background login's messages go (see [`lock::login_log_path`]): a
/// file in mcpgw's own private cache directory, which is checked first.
fn login_log(profile: &str) -> Stdio {
    let file = lock::login_log_path(profile).and_then(|path| {
        crate::fs::create_private_dir(path.parent()?).ok()?;
        crate::fs::open_private_append(&path).ok()
    });
    match file {
        Some(file) => Stdio::from(file),
        None => Stdio::null(),
    }
}

/// How long to hold a request while the browser sign-in runs: just under the
/// client's startup timeout (MCP_TIMEOUT in milliseconds, 30 s when unset, at
/// most 60 s), so a quick sign-in is invisible and a slow one gets a clear error
/// instead of the client's "timed out".
pub fn hold_budget(mcp_timeout_ms: Option<&str>) -> Duration {
    let client = mcp_timeout_ms
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(CLIENT_DEFAULT_STARTUP)
        .min(CLIENT_MAX_STARTUP);
    client
        .saturating_sub(HOLD_SAFETY)
        .max(Duration::from_secs(1))
}

/// What to tell the client while the sign-in is still open in the browser.
pub fn pending_message(url: Option<&str>, profile: &str) -> String {
    let open = match url {
        Some(url) => format!(
            "mcpgw opened the Alibaba Cloud sign-in page in your browser (if it did not open, visit {url})"
        ),
        None => {
            "an Alibaba Cloud sign-in is waiting in your browser (started by another mcpgw process)"
                .to_owned()
        }
    };
    format!(
        "not logged in yet: {open}. Finish signing in, then reconnect this server (in Claude Code: /mcp → Reconnect). \
         Or run `{}` in a terminal.",
        crate::output::login_command(profile)
    )
}

/// Waits up to `hold` for the login to finish.
pub async fn wait_for_login(progress: watch::Receiver<LoginProgress>, hold: Duration) -> LoginWait {
    let mut waiter = progress.clone();
    let finished = async move {
        waiter
            .wait_for(|p| matches!(p, LoginProgress::Done | LoginProgress::Failed(_)))
            .await
            .map(|state| state.clone())
    };
    match tokio::time::timeout(hold, finished).await {
        Ok(Ok(LoginProgress::Failed(message))) => LoginWait::Failed(message),
        Ok(Ok(_)) => LoginWait::Done,
        Ok(Err(_)) => LoginWait::Failed("the login process vanished".into()),
        Err(_) => match &*progress.borrow() {
            LoginProgress::Url(url) => LoginWait::Pending(Some(url.clone())),
            _ => LoginWait::Pending(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_budget_follows_mcp_timeout() {
        assert_eq!(hold_budget(None), Duration::from_secs(25));
        assert_eq!(hold_budget(Some("20000")), Duration::from_secs(15));
        // Claude Code's SDK caps the first request at 60 s whatever MCP_TIMEOUT says.
        assert_eq!(hold_budget(Some("100000")), Duration::from_secs(55));
        assert_eq!(hold_budget(Some("3000")), Duration::from_secs(1));
        assert_eq!(hold_budget(Some("nonsense")), Duration::from_secs(25));
    }

    #[test]
    fn pending_message_says_what_to_do() {
        let text = pending_message(Some("https://signin.example/auth?x=1"), "work");
        assert!(text.contains("https://signin.example/auth?x=1"));
        assert!(
            text.contains("Reconnect") && text.contains("mcpgw login --profile work"),
            "{text}"
        );
    }

    #[test]
    fn progress_lines() {
        assert_eq!(
            parse_progress("url https://x/auth?a=1"),
            Some(Ok(LoginProgress::Url("https://x/auth?a=1".into())))
        );
        assert_eq!(parse_progress("waiting "), Some(Ok(LoginProgress::Waiting)));
        assert_eq!(parse_progress("done"), Some(Ok(LoginProgress::Done)));
        assert_eq!(parse_progress("error no way"), Some(Err("no way".into())));
        assert_eq!(parse_progress("chatter"), None);
    }

    #[tokio::test]
    async fn login_wait_reports_pending_then_done() {
        let (tx, rx) = watch::channel(LoginProgress::Starting);
        tx.send(LoginProgress::Url("https://x/auth".into()))
            .unwrap();
        assert!(
            matches!(wait_for_login(rx.clone(), Duration::from_millis(10)).await, LoginWait::Pending(Some(u)) if u == "https://x/auth")
        );
        let waiter = tokio::spawn(wait_for_login(rx, Duration::from_secs(10)));
        tokio::task::yield_now().await;
        tx.send(LoginProgress::Done).unwrap();
        assert!(matches!(waiter.await.unwrap(), LoginWait::Done));
    }
}
