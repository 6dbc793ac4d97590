//! The SSRF guard: a webhook must not be a way for an admin's account (or whoever holds it)
//! to make the server call what sits behind its firewall — the cloud's metadata service at
//! 169.254.169.254, a database on 10.0.0.5, the server's own loopback.
//!
//! A URL is checked when it is saved (here, so the admin gets a 400 naming the field) and
//! again at every send (the sender resolves the name itself and connects only to addresses
//! that pass [`allowed`], so a name that later resolves elsewhere gains nothing).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// Whether the server may post to `ip` when private addresses are not allowed: public
/// unicast addresses only.
pub fn allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => allowed_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => allowed_v4(v4),
            None => allowed_v6(v6),
        },
    }
}

fn allowed_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10: carrier-grade NAT, private to the provider's network.
        || (a == 100 && (64..128).contains(&b))
        // 198.18.0.0/15: benchmarking networks; 240.0.0.0/4: reserved.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn allowed_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // 2001:db8::/32 documentation; 64:ff9b::/96 NAT64 (reaches IPv4 space unchecked).
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// Checks a URL as the API accepts it: http or https, a host, and (unless `allow_private`)
/// a host that resolves only to addresses [`allowed`] lets the server reach.
pub fn check(url: &url::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("Enter an http or https URL.".into());
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err("Enter a URL with a host.".into());
    };
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|_| format!("The host \"{host}\" does not resolve."))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("The host \"{host}\" does not resolve."));
    }
    if let Some(bad) = addrs.into_iter().find(|ip| !allowed(*ip)) {
        return Err(format!(
            "This URL reaches {bad}, a loopback, private or link-local address; webhooks \
             may only call public addresses."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_pass() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!allowed(bad.parse().unwrap()), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(allowed(good.parse().unwrap()), "{good} must pass");
        }
    }

    #[test]
    fn urls_are_checked_by_scheme_host_and_address() {
        let check_str = |u: &str, allow| check(&url::Url::parse(u).unwrap(), allow);
        assert!(check_str("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_str("http://[::1]/hook", false).is_err());
        assert!(check_str("http://localhost/hook", false).is_err());
        assert!(check_str("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_str("ftp://93.184.216.34/x", false).is_err());
        assert!(check_str("https://93.184.216.34/hook", false).is_ok());
        assert!(check_str("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_str("ftp://127.0.0.1/x", true).is_err());
    }
}
