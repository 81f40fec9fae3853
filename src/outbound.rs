//! Where the service's own outgoing HTTP requests (webhooks, calendar feeds) may go.
//!
//! The URLs are typed by admins, so they must not become a way to reach what only the
//! service can reach: loopback, link-local (cloud metadata at 169.254.169.254), private and
//! other non-public ranges are refused — checked on the addresses a name resolves to, at
//! the moment of connecting (so a name that later resolves elsewhere is caught too) — unless
//! the operator allows private destinations. URLs with credentials are refused, redirects
//! are not followed, and no environment proxy is used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a destination was refused, in words for an admin.
pub const PRIVATE_DESTINATION: &str = "the URL must point to a public internet address, not loopback, link-local or a private network (set WEBHOOK_ALLOW_PRIVATE=true for receivers on a private network)";

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || first == 0x0100) // discard-only 100::/64
        }
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_unspecified()
        || v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))) // benchmarking
}

/// The IPv4 address inside an IPv4-mapped, -compatible or NAT64 IPv6 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let last = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(last());
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        return Some(last());
    }
    None
}

/// Checks a URL an admin gives as a destination, before anything is resolved: http(s), no
/// credentials in it, and an IP literal (also written as a decimal number, which URL
/// parsing turns into one) only if public.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), &'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the URL must be http or https");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL must not contain a user name or password; put credentials in the receiver's secret instead",
        );
    }
    let literal = match url.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        Some(Host::Domain(_)) => None,
        None => return Err("the URL must name a host"),
    };
    match literal {
        Some(ip) if !allow_private && !is_public(ip) => Err(PRIVATE_DESTINATION),
        _ => Ok(()),
    }
}

/// Resolves names like the system does, then keeps only public addresses (unless private
/// destinations are allowed); none left is an error, so the request is never sent.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(PRIVATE_DESTINATION.into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client for admin-chosen destinations: the resolver above, no redirects, no proxy.
pub fn client(allow_private: bool, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("frontdesk/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .dns_resolver(Arc::new(PublicOnly { allow_private }))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(
                !is_public(private.parse().expect("ip")),
                "{private} is not public"
            );
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().expect("ip")), "{public} is public");
        }
    }

    #[test]
    fn destinations_are_checked_before_resolving() {
        for bad in [
            "http://127.0.0.1/hook",
            "http://2130706433/hook",
            "http://0x7f000001/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost:8080/",
            "http://user:pw@hooks.example.com/",
            "ftp://hooks.example.com/",
        ] {
            assert!(
                check_url(&url(bad), false).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(check_url(&url("https://hooks.example.com/x"), false).is_ok());
        assert!(check_url(&url("http://127.0.0.1:9000/x"), true).is_ok());
        assert!(
            check_url(&url("http://user:pw@127.0.0.1/"), true).is_err(),
            "credentials are refused even when private hosts are allowed"
        );
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_never_connected_to() {
        let client = client(false, Duration::from_secs(2)).expect("client");
        let err = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("refused");
        let chain = format!("{err:?}");
        assert!(chain.contains("public internet address"), "{chain}");
    }
}
