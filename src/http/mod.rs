//! The process's HTTP clients, built once from one TLS configuration and one
//! reading of the proxy environment, so proxy/CA settings apply everywhere.
//!
//! Two rules keep tokens where they belong: redirects are never followed (a
//! redirect would carry the body, the session and `-H` headers to a host nobody
//! checked), and loopback destinations never go through a proxy (a local stand-in
//! or token endpoint reached over plain http would hand the proxy the token).
//!
//! What the relay and its probes send to an MCP server goes out on hyper-util's
//! pooled client, which reqwest itself wraps, without reqwest's per-request
//! layers (its redirect layer alone parses the URL twice per request, even with
//! redirects off; a fifth of the relay's time per call). reqwest carries the
//! OAuth traffic, and everything when a proxy is configured: it does the proxying.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::error::CliError;

mod tls;

pub const USER_AGENT: &str = concat!("mcpgw/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

type DirectClient =
    hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The HTTP clients every command shares (cheap to clone: both are handles to
/// one pool each).
#[derive(Clone)]
pub struct Http {
    /// OAuth, and every request when a proxy is configured.
    pub client: reqwest::Client,
    /// Requests straight to an MCP server; `None` when a proxy is configured.
    direct: Option<DirectClient>,
    trust: tls::Trust,
}

/// Builds the clients. `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` are
/// honoured (see [`proxies`]); `ca_cert` adds a PEM bundle (e.g. a corporate
/// TLS-inspection root) to the platform's roots (see [`tls`]).
pub fn client(ca_cert: Option<&Path>) -> Result<Http, CliError> {
    let (tls, trust) = tls::config(ca_cert)?;
    let proxies = proxies(&|key| std::env::var(key).ok())?;
    let direct = proxies
        .is_empty()
        .then(|| direct_client(tls.clone(), CONNECT_TIMEOUT));
    // hyper-rustls offers the protocols itself (and insists on doing so); reqwest
    // offers what the config says.
    let mut tls = tls;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .no_proxy();
    for proxy in proxies {
        builder = builder.proxy(proxy);
    }
    let client = builder
        .build()
        .map_err(|err| CliError::internal("cannot set up the HTTP client").with_source(err))?;
    Ok(Http {
        client,
        direct,
        trust,
    })
}

/// `tls` must not list ALPN protocols: the connector offers HTTP/2 and HTTP/1.1.
fn direct_client(tls: rustls::ClientConfig, connect_timeout: Duration) -> DirectClient {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build(connector)
}

impl Http {
    /// For a process that will talk to `url` and nothing else (the relay): loads
    /// the trust store now if that takes TLS, rather than in the first handshake
    /// (see [`tls::Trust::load`]).
    pub fn prepare_for(&self, url: &Url) {
        if url.scheme() == "https" {
            self.trust.load();
        }
    }

    /// How requests to `url` go out (decided once per server).
    pub fn endpoint(&self, url: &Url) -> Endpoint {
        let direct = self.direct.as_ref().and_then(|client| {
            let uri = url.as_str().parse::<http::Uri>().ok()?;
            Some((client.clone(), uri))
        });
        Endpoint {
            route: match direct {
                Some((client, uri)) => Route::Direct {
                    client: Box::new(client),
                    uri,
                },
                None => Route::Reqwest {
                    client: self.client.clone(),
                    url: url.clone(),
                },
            },
        }
    }
}

/// Sends requests to one URL.
pub struct Endpoint {
    route: Route,
}

enum Route {
    Direct {
        client: Box<DirectClient>,
        uri: http::Uri,
    },
    Reqwest {
        client: reqwest::Client,
        url: Url,
    },
}

/// A request that got no response: the connection failed or broke.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Direct(#[from] hyper_util::client::legacy::Error),
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
}

impl SendError {
    pub fn is_timeout(&self) -> bool {
        match self {
            SendError::Reqwest(err) => err.is_timeout(),
            SendError::Direct(err) => {
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    if let Some(io) = cause.downcast_ref::<std::io::Error>()
                        && io.kind() == std::io::ErrorKind::TimedOut
                    {
                        return true;
                    }
                    source = cause.source();
                }
                false
            }
        }
    }
}

impl Endpoint {
    pub async fn send(
        &self,
        method: Method,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Response, SendError> {
        match &self.route {
            Route::Direct { client, uri } => {
                headers
                    .entry(header::USER_AGENT)
                    .or_insert(HeaderValue::from_static(USER_AGENT));
                let mut request = http::Request::new(Full::new(body));
                *request.method_mut() = method;
                *request.uri_mut() = uri.clone();
                *request.headers_mut() = headers;
                let response = client.request(request).await?;
                // The relay reads every answer as a reqwest::Response, whichever way it came.
                Ok(reqwest::Response::from(response.map(reqwest::Body::wrap)))
            }
            Route::Reqwest { client, url } => {
                let mut request = reqwest::Request::new(method, url.clone());
                *request.headers_mut() = headers;
                *request.body_mut() = Some(body.into());
                Ok(client.execute(request).await?)
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_store_is_loaded_for_an_https_server_and_only_then() {
        let http = client(None).unwrap();
        assert!(
            !http.trust.is_loaded(),
            "loaded before any server was named"
        );
        http.prepare_for(&Url::parse("http://127.0.0.1:8080/mcp").unwrap());
        assert!(!http.trust.is_loaded(), "loaded for a plain-http server");
        http.prepare_for(&Url::parse("https://openapi-mcp.cn-hangzhou.aliyuncs.com/mcp").unwrap());
        assert!(http.trust.is_loaded(), "not loaded for an https server");
    }

    /// The relay tells the user "timed out connecting" only for a timeout: hyper-util
    /// buries the io::Error under its own error types, which `is_timeout` digs out.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_connect_that_times_out_is_told_apart_from_a_refused_one() {
        use std::net::{SocketAddr, TcpStream};

        // Linux drops the SYNs for a listener whose accept queue is full, so a
        // connect to it hangs until the connector's timeout.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let full: SocketAddr = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        while let Ok(stream) = TcpStream::connect_timeout(&full, Duration::from_millis(200)) {
            queued.push(stream);
            assert!(queued.len() < 64, "the accept queue never filled up");
        }
        let refused: SocketAddr = {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            closed.local_addr().unwrap()
        };

        let (tls, _trust) = tls::config(None).unwrap();
        let direct = direct_client(tls, Duration::from_millis(200));
        let send = |addr: SocketAddr| {
            let endpoint = Endpoint {
                route: Route::Direct {
                    client: Box::new(direct.clone()),
                    uri: format!("http://{addr}/mcp").parse().unwrap(),
                },
            };
            async move {
                endpoint
                    .send(Method::POST, HeaderMap::new(), Bytes::new())
                    .await
                    .expect_err("the request got an answer")
            }
        };
        let timed_out = send(full).await;
        assert!(timed_out.is_timeout(), "not a timeout: {timed_out:?}");
        let refused = send(refused).await;
        assert!(!refused.is_timeout(), "taken for a timeout: {refused:?}");
    }
}
