//! The one HTTP client of the process (reqwest over rustls with the ring
//! provider), shared by the relay and the OAuth code so connections are pooled and
//! proxy/CA settings apply everywhere.

use std::path::Path;
use std::time::Duration;

use crate::error::CliError;

pub const USER_AGENT: &str = concat!("mcpgw/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the client. `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured by reqwest;
/// `ca_cert` adds a PEM bundle (e.g. a corporate TLS-inspection root); a file that
/// cannot be used is the user's to fix, whichever command was given it.
pub fn client(ca_cert: Option<&Path>) -> Result<reqwest::Client, CliError> {
    // Several crates could pick a provider; ring is the one compiled in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90));
    if let Some(path) = ca_cert {
        let hint = "--ca-cert (or MCPGW_CA_CERT) takes a PEM file of CA certificates";
        let pem = std::fs::read(path).map_err(|err| {
            CliError::user(format!("cannot read CA certificate {}", path.display()))
                .with_source(err)
                .with_hint(hint)
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
            CliError::user(format!(
                "{} is not a PEM certificate bundle",
                path.display()
            ))
            .with_source(err)
            .with_hint(hint)
        })?;
        if certs.is_empty() {
            return Err(
                CliError::user(format!("{} holds no PEM certificate", path.display()))
                    .with_hint(hint),
            );
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|err| CliError::internal("cannot set up the HTTP client").with_source(err))
}
