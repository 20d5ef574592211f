//! placeholder
use crate::auth::Auth;
use crate::cli::RelayArgs;
use crate::config::ResolvedService;

pub async fn run(_target: ResolvedService, _args: &RelayArgs, _auth: Auth, _http: reqwest::Client) -> anyhow::Result<()> {
    anyhow::bail!("relay not built yet")
}
