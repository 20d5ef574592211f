//! The one HTTP client of the process (reqwest over rustls with the ring
//! provider), shared by the relay and the OAuth code so connections are pooled and
//! proxy/CA settings apply everywhere.
//!
//! Two rules keep tokens where they belong: redirects are never followed (a
//! redirect would carry the body, the session and `-H` headers to a host nobody
//! checked), and loopback destinations never go through a proxy (a local stand-in
//! or token endpoint reached over plain http would hand the proxy the token).

use std::path::Path;
use std::time::Duration;

use crate::error::CliError;

pub const USER_AGENT: &str = concat!("mcpgw/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the client. `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` are honoured
/// (see [`proxies`]);
/// `ca_cert` adds a PEM bundle (e.g. a corporate TLS-inspection root); a file that
/// cannot be used is the user's to fix, whichever command was given it.
pub fn client(ca_cert: Option<&Path>) -> Result<reqwest::Client, CliError> {
    // Several crates could pick a provider; ring is the one compiled in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for proxy in proxies(&|key| std::env::var(key).ok())? {
        builder = builder.proxy(proxy);
    }
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

/// Never through a proxy, whatever `NO_PROXY` says.
const ALWAYS_DIRECT: &str = "localhost,127.0.0.0/8,::1";

/// The proxies the environment asks for, each skipping `NO_PROXY` and loopback.
/// (reqwest's own environment lookup would send loopback traffic to the proxy.)
pub fn proxies(env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<reqwest::Proxy>, CliError> {
    let var = |upper: &str| {
        env(upper)
            .or_else(|| env(&upper.to_ascii_lowercase()))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let no_proxy = match var("NO_PROXY") {
        Some(list) => format!("{list},{ALWAYS_DIRECT}"),
        None => ALWAYS_DIRECT.to_owned(),
    };
    let mut proxies = Vec::new();
    for key in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        let Some(value) = var(key) else { continue };
        // reqwest takes `host:port` without a scheme as http://.
        let proxy = match key {
            "HTTPS_PROXY" => reqwest::Proxy::https(value.as_str()),
            "HTTP_PROXY" => reqwest::Proxy::http(value.as_str()),
            _ => reqwest::Proxy::all(value.as_str()),
        };
        let proxy = proxy.map_err(|err| {
            CliError::user(format!("{key} is not a proxy URL"))
                .with_hint(format!(
                    "set {key} to a URL such as http://proxy.example:3128, or unset it"
                ))
                .with_source(err)
        })?;
        proxies.push(proxy.no_proxy(reqwest::NoProxy::from_string(&no_proxy)));
    }
    Ok(proxies)
}
