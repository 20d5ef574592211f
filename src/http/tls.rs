//! Which servers the HTTP clients trust: the platform's trust store plus the
//! `--ca-cert` bundle, over rustls with the ring provider.
//!
//! On Linux the platform verifier reads and parses the whole system CA store when
//! it is built: 90 % of the instructions a relay runs from spawn to its first
//! answer. So it is built when a TLS connection is certain (a relay to an https
//! server, at startup as before: [`Trust::load`]) or at the first
//! certificate check; a relay to a plain-http server, and every command that
//! makes no TLS connection, never reads the store.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::CliError;

/// The client configuration every HTTP client shares, and the handle to its
/// trust store. A `ca_cert` that cannot be used is the user's to fix, whichever
/// command was given it, so it is read and checked here, not at the first
/// handshake.
pub fn config(ca_cert: Option<&Path>) -> Result<(rustls::ClientConfig, Trust), CliError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra_roots = match ca_cert {
        Some(path) => extra_roots(path)?,
        None => Vec::new(),
    };
    let verifier = Arc::new(LazyVerifier::new(provider.clone(), move |provider| {
        let verifier = if extra_roots.is_empty() {
            rustls_platform_verifier::Verifier::new(provider)
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots.clone(), provider)
        }?;
        Ok(Arc::new(verifier) as Arc<dyn ServerCertVerifier>)
    }));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| CliError::internal("cannot set up TLS").with_source(err))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((config, Trust(verifier)))
}

/// The trust store behind a client configuration.
#[derive(Clone, Debug)]
pub struct Trust(Arc<LazyVerifier>);

impl Trust {
    /// Loads the trust store now, when a TLS connection is certain: at startup
    /// the buffers it reads into are freed before the rest of the process
    /// allocates, where in the first handshake they leave the heap larger
    /// (measured: 100 kB at idle).
    pub fn load(&self) {
        let _ = self.0.verifier();
    }

    #[cfg(test)]
    pub fn is_loaded(&self) -> bool {
        self.0.built.get().is_some()
    }
}

fn extra_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, CliError> {
    let hint = "--ca-cert (or MCPGW_CA_CERT) takes a PEM file of CA certificates";
    let pem = std::fs::read(path).map_err(|err| {
        CliError::user(format!("cannot read CA certificate {}", path.display()))
            .with_source(err)
            .with_hint(hint)
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            CliError::user(format!(
                "{} is not a PEM certificate bundle",
                path.display()
            ))
            .with_source(err)
            .with_hint(hint)
        })?;
    if certs.is_empty() {
        return Err(
            CliError::user(format!("{} holds no PEM certificate", path.display())).with_hint(hint),
        );
    }
    // The verifier is built later; a certificate it would refuse is found now.
    let mut check = rustls::RootCertStore::empty();
    for cert in &certs {
        check.add(cert.clone()).map_err(|err| {
            CliError::user(format!(
                "{} holds a certificate that cannot be a trust root",
                path.display()
            ))
            .with_source(err)
            .with_hint(hint)
        })?;
    }
    Ok(certs)
}

type Built = Result<Arc<dyn ServerCertVerifier>, rustls::Error>;
type Build = Box<dyn Fn(Arc<CryptoProvider>) -> Built + Send + Sync>;

/// A certificate verifier built on its first use. Handshake signatures are
/// checked with the provider's algorithms, as the platform verifier itself does
/// on every platform, so only the certificate check needs it built.
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    build: Build,
    /// A failure to build is kept and given to every handshake: the trust store
    /// does not change while the process runs.
    built: OnceLock<Built>,
}

impl LazyVerifier {
    fn new(
        provider: Arc<CryptoProvider>,
        build: impl Fn(Arc<CryptoProvider>) -> Built + Send + Sync + 'static,
    ) -> Self {
        Self {
            provider,
            build: Box::new(build),
            built: OnceLock::new(),
        }
    }

    fn verifier(&self) -> Result<&Arc<dyn ServerCertVerifier>, rustls::Error> {
        self.built
            .get_or_init(|| {
                (self.build)(self.provider.clone()).map_err(|err| {
                    rustls::Error::General(format!(
                        "cannot load the trusted CA certificates: {err}"
                    ))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl fmt::Debug for LazyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyVerifier")
            .field("built", &self.built.get())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// webpki's verifier, trusting a CA made for the test.
    fn webpki(provider: &Arc<CryptoProvider>) -> Arc<dyn ServerCertVerifier> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap()
    }

    fn check(verifier: &LazyVerifier) -> Result<ServerCertVerified, rustls::Error> {
        verifier.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0]),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            &[],
            UnixTime::now(),
        )
    }

    fn counting(
        builds: &Arc<AtomicUsize>,
        result: Result<(), rustls::Error>,
    ) -> impl Fn(Arc<CryptoProvider>) -> Built + Send + Sync + 'static {
        let builds = builds.clone();
        move |provider| {
            builds.fetch_add(1, Ordering::SeqCst);
            result.clone().map(|()| webpki(&provider))
        }
    }

    #[test]
    fn the_verifier_is_built_at_the_first_certificate_check_and_only_then() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builds = Arc::new(AtomicUsize::new(0));
        let lazy = LazyVerifier::new(provider.clone(), counting(&builds, Ok(())));
        // What a ClientHello needs does not build it.
        assert_eq!(
            lazy.supported_verify_schemes(),
            provider
                .signature_verification_algorithms
                .supported_schemes()
        );
        assert_eq!(builds.load(Ordering::SeqCst), 0);

        for _ in 0..2 {
            // webpki's own answer to bytes that are no certificate.
            let err = check(&lazy).unwrap_err();
            assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1, "built once, then kept");
    }

    #[test]
    fn a_verifier_that_cannot_be_built_fails_every_handshake_with_the_reason() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builds = Arc::new(AtomicUsize::new(0));
        let reason =
            rustls::Error::General("No CA certificates were loaded from the system".into());
        let lazy = LazyVerifier::new(provider.clone(), counting(&builds, Err(reason)));
        for _ in 0..2 {
            let err = check(&lazy).unwrap_err().to_string();
            assert!(
                err.contains("cannot load the trusted CA certificates")
                    && err.contains("No CA certificates were loaded from the system"),
                "{err}"
            );
        }
        assert_eq!(
            builds.load(Ordering::SeqCst),
            1,
            "not retried per handshake"
        );
    }

    #[test]
    fn a_ca_cert_that_cannot_be_a_root_is_refused_before_any_handshake() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("ca.pem");
        // PEM framing around bytes that are not a certificate.
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = config(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("cannot be a trust root"), "{err}");
    }
}
