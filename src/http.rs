//! The one HTTP client of the process (reqwest over rustls with the ring
//! provider), shared by the relay and the OAuth code so connections are pooled and
//! proxy/CA settings apply everywhere.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

pub const USER_AGENT: &str = concat!("mcpgw/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the client. `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured by reqwest;
/// `ca_cert` adds a PEM bundle (e.g. a corporate TLS-inspection root).
pub fn client(ca_cert: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    // Several crates could pick a provider; ring is the one compiled in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90));
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read CA certificate {}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} is not a PEM certificate bundle", path.display()))?;
        anyhow::ensure!(
            !certs.is_empty(),
            "{} holds no PEM certificate",
            path.display()
        );
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().context("cannot set up the HTTP client")
}
