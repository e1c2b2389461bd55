//! MQTT sources: a receiver per enabled source subscribes (QoS 1, persistent session) to the
//! source's topic filter on its broker and stores what arrives through the one import path,
//! acknowledging each message only once its frames are committed (see `receiver`). The
//! supervisor runs one receiver per enabled MQTT source and follows the sources table.
//! The network and the threads live here; the SQL stays in `store::sources`.

mod receiver;
mod supervisor;

pub use supervisor::Supervisor;

use crate::error::{Error, Result};
use std::path::Path;
use std::sync::Arc;

/// The adapter's clock (Unix seconds): receivers stamp what they store and their state with it.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A broker's address, from a source's `mqtt://host:port` or `mqtts://host:port`.
#[derive(Debug, Clone, PartialEq)]
pub struct Broker {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

/// Read a broker URL: `mqtt://` or `mqtts://`, a host name or address (IPv6 in brackets),
/// and a port (1883 and 8883 when left out); nothing else (no user, path or query).
pub fn broker(url: &str) -> Result<Broker> {
    let bad = |reason: &str| Error::bad_input("url", format!("{reason} (mqtt://host:port or mqtts://host:port)"));
    let (tls, rest) = match url.trim().split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mqtt") => (false, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mqtts") => (true, rest),
        Some((scheme, _)) => return Err(bad(&format!("scheme '{scheme}' is neither mqtt nor mqtts"))),
        None => return Err(bad("no scheme")),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '@', '?', '#']) {
        return Err(bad("only a host and a port may follow the scheme"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address without its closing ']'"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad(&format!("'{host}' is not an IPv6 address")));
        }
        (host, after.strip_prefix(':'))
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')));
    if !name_ok {
        return Err(bad(&format!("'{host}' is not a host name or address")));
    }
    let port = match port {
        None => {
            if tls {
                8883
            } else {
                1883
            }
        }
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(bad(&format!("port '{p}' is not a number from 1 to 65535"))),
        },
    };
    Ok(Broker { tls, host: host.to_string(), port })
}

/// Check an MQTT topic filter: levels split by '/', '+' alone in its level, '#' alone in the
/// last level, no NUL, at most 65,535 bytes.
pub fn check_filter(topic: &str) -> Result<()> {
    let bad = |reason: String| Error::bad_input("topic", reason);
    if topic.is_empty() || topic.len() > 65_535 {
        return Err(bad("a topic filter of 1 to 65,535 bytes".into()));
    }
    if topic.contains('\0') {
        return Err(bad("a topic filter holds no NUL character".into()));
    }
    let levels: Vec<&str> = topic.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
            return Err(bad(format!("'#' stands alone in the last level of the filter, not in level {} '{level}'", i + 1)));
        }
        if level.contains('+') && *level != "+" {
            return Err(bad(format!("'+' stands alone in its level, not in level {} '{level}'", i + 1)));
        }
    }
    Ok(())
}

/// The client id a source's receiver always uses (so the broker keeps its session between
/// runs): `releve-<source>-<first 8 hex digits of the SHA-256 of the database path>` — two
/// databases receiving from one broker do not take each other's messages.
pub fn client_id(db: &Path, source: &str) -> String {
    use sha2::Digest;
    let path = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let hash = sha2::Sha256::digest(path.to_string_lossy().as_bytes());
    format!("releve-{source}-{}", &hex::encode(hash)[..8])
}

/// Check that a file a source names can be read (at `source_add`); `field` names it.
pub fn check_readable(field: &str, path: &str) -> Result<String> {
    let path = path.trim();
    if path.is_empty() {
        return Err(Error::bad_input(field, "an empty file name"));
    }
    std::fs::File::open(path).map_err(|e| Error::bad_input(field, format!("cannot read {path}: {e}")))?;
    Ok(path.to_string())
}

/// The code the screens word for why a connection to a broker ended (`mqtt_tls`, `mqtt_refused_login`...).
pub(crate) fn connection_code(e: &rumqttc::ConnectionError) -> &'static str {
    use rumqttc::{ConnectReturnCode, ConnectionError, StateError};
    let io = |e: &std::io::Error| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "mqtt_unreachable",
        std::io::ErrorKind::InvalidData => "mqtt_tls",
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::UnexpectedEof => "mqtt_closed",
        std::io::ErrorKind::TimedOut => "mqtt_timeout",
        _ => "mqtt_network",
    };
    if e.to_string().contains("fatal alert") {
        return "mqtt_tls"; // the TLS peer refused us (a certificate it does not trust), however wrapped
    }
    match e {
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized) => "mqtt_refused_login",
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadClientId) => "mqtt_refused_client_id",
        ConnectionError::ConnectionRefused(_) => "mqtt_refused",
        ConnectionError::Tls(_) => "mqtt_tls",
        ConnectionError::Io(e) | ConnectionError::MqttState(StateError::Io(e)) => io(e),
        ConnectionError::MqttState(StateError::ConnectionAborted) => "mqtt_closed",
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => "mqtt_timeout",
        _ => "mqtt_protocol",
    }
}

/// The TLS set-up of a `mqtts://` source: the broker's CA (the system's roots without one),
/// and this client's certificate and key when given.
fn tls_config(ca: Option<&str>, cert: Option<&str>, key: Option<&str>) -> Result<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let pem = |field: &str, path: &str, e: rustls_pki_types::pem::Error| Error::bad_input(field, format!("{path}: {e}"));
    let roots = roots(ca)?;
    let client = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| pem("cert_file", cert, e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| pem("cert_file", cert, e))?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem("key_file", key, e))?;
            Some((chain, key_der, key))
        }
        (None, None) => None,
        _ => return Err(Error::bad_input("cert_file", "a client certificate goes with its key (both or neither)")),
    };
    match client {
        Some((chain, key_der, key)) => client_tls(roots, Some((chain, key_der))).map_err(|e| Error::bad_input("key_file", format!("{key}: {e}"))),
        None => client_tls(roots, None),
    }
}

/// The broker's CA from the PEM file `ca` (the system's roots without one).
pub(crate) fn roots(ca: Option<&str>) -> Result<rustls::RootCertStore> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let pem = |field: &str, path: &str, e: rustls_pki_types::pem::Error| Error::bad_input(field, format!("{path}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| pem("ca_file", path, e))? {
                let cert = cert.map_err(|e| pem("ca_file", path, e))?;
                roots.add(cert).map_err(|e| Error::bad_input("ca_file", format!("{path}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(Error::bad_input("ca_file", format!("{path} holds no certificate")));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert); // the system's store may hold certificates rustls refuses
            }
        }
    }
    Ok(roots)
}

/// A rustls client set-up trusting `roots`, with this client's certificate chain and key
/// when given (the MQTT sources' PEM files, the C8/06 gateway's PFX).
pub(crate) fn client_tls(
    roots: rustls::RootCertStore,
    client: Option<(Vec<rustls_pki_types::CertificateDer<'static>>, rustls_pki_types::PrivateKeyDer<'static>)>,
) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::bad_input("url", e.to_string()))?
        .with_root_certificates(roots);
    match client {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| Error::bad_input("certificate", e.to_string())),
        None => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let b = |u: &str| broker(u).map_err(|e| e.to_string());
        assert_eq!(b("mqtt://127.0.0.1:1884"), Ok(Broker { tls: false, host: "127.0.0.1".into(), port: 1884 }));
        assert_eq!(b("mqtts://broker.example.org"), Ok(Broker { tls: true, host: "broker.example.org".into(), port: 8883 }));
        assert_eq!(b("MQTT://[::1]:1883/"), Ok(Broker { tls: false, host: "::1".into(), port: 1883 }));
        for (url, words) in [
            ("http://h:1", "scheme 'http'"),
            ("h:1883", "no scheme"),
            ("mqtt://:1883", "not a host"),
            ("mqtt://h:0", "port '0'"),
            ("mqtt://h:99999", "port '99999'"),
            ("mqtt://u:p@h:1883", "only a host"),
            ("mqtt://h:1883/topic", "only a host"),
            ("mqtt://bad_host:1", "not a host"),
            ("mqtt://[::1:1883", "closing"),
        ] {
            let e = b(url).expect_err(url);
            assert!(e.contains(words), "{url}: {e}");
        }
    }

    #[test]
    fn topic_filters() {
        for ok in ["#", "+", "releve/#", "application/+/device/+/event/up", "a/b/c", "/", "a//b"] {
            assert!(check_filter(ok).is_ok(), "{ok}");
        }
        for (bad, words) in [("", "1 to"), ("a/#/b", "'#'"), ("a#", "'#'"), ("a/b+", "'+'"), ("+a/b", "'+'"), ("a\0b", "NUL")] {
            let e = check_filter(bad).expect_err(bad).to_string();
            assert!(e.contains(words), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_client_id_per_database_and_source() {
        let a = client_id(Path::new("/nowhere/a.db"), "gw");
        assert!(a.starts_with("releve-gw-") && a.len() == "releve-gw-".len() + 8, "{a}");
        assert_eq!(a, client_id(Path::new("/nowhere/a.db"), "gw"), "the same every run");
        assert_ne!(a, client_id(Path::new("/nowhere/b.db"), "gw"));
    }
}
