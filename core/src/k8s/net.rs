//! Addresses the way kube-proxy reads them.
//!
//! kube-proxy parses IPs and CIDRs with `k8s.io/utils/net` `ParseIPSloppy` /
//! `ParseCIDRSloppy`, a fork of Go 1.16's `net` parser kept because later Go versions reject
//! IPv4 octets with leading zeros (`010.0.0.1`), which Kubernetes has always accepted as
//! decimal. Rust's `std::net` rejects them too, so the IPv4 and IPv6 grammars are reproduced
//! here; host:port splitting, `strconv.Atoi` and `ParsePortRange` follow Go for the same reason:
//! a linter that is stricter or looser than kube-proxy reports the wrong thing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Go stops accumulating digits at this value and reports failure.
const BIG: u32 = 0xFF_FFFF;

/// Decimal digits at the start of `s`: value, digits consumed. `None` without a digit or when
/// the value reaches Go's overflow guard.
fn dtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n * 10 + u32::from(s[i] - b'0');
        if n >= BIG {
            return None;
        }
        i += 1;
    }
    (i > 0).then_some((n, i))
}

/// Hexadecimal digits at the start of `s`, as Go's `xtoi`.
fn xtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(16) else { break };
        n = n * 16 + d;
        if n >= BIG {
            return None;
        }
        i += 1;
    }
    (i > 0).then_some((n, i))
}

/// Dotted-quad IPv4; each part is decimal, leading zeros allowed.
fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut rest = s;
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let (n, used) = dtoi(rest)?;
        *octet = u8::try_from(n).ok()?;
        rest = &rest[used..];
    }
    rest.is_empty().then(|| Ipv4Addr::from(octets))
}

/// IPv6 with optional `::` and an optional trailing (sloppy) IPv4 part; no zone.
fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    let mut rest = s;
    if rest.starts_with(b"::") {
        ellipsis = Some(0);
        rest = &rest[2..];
        if rest.is_empty() {
            return Some(Ipv6Addr::from(ip));
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, used) = xtoi(rest)?;
        if n > 0xFFFF {
            return None;
        }
        if rest.get(used) == Some(&b'.') {
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            ip[i..i + 4].copy_from_slice(&parse_ipv4(rest)?.octets());
            rest = &[];
            i += 4;
            break;
        }
        ip[i] = (n >> 8) as u8;
        ip[i + 1] = n as u8;
        i += 2;
        rest = &rest[used..];
        if rest.is_empty() {
            break;
        }
        if rest[0] != b':' || rest.len() == 1 {
            return None;
        }
        rest = &rest[1..];
        if rest[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            rest = &rest[1..];
            if rest.is_empty() {
                break;
            }
        }
    }
    if !rest.is_empty() {
        return None;
    }
    if i < 16 {
        let at = ellipsis?;
        let gap = 16 - i;
        ip.copy_within(at..i, at + gap);
        ip[at..at + gap].fill(0);
    } else if ellipsis.is_some() {
        // `::` must stand for at least one group of zeros.
        return None;
    }
    Some(Ipv6Addr::from(ip))
}

/// `netutils.ParseIPSloppy`: the first `.` or `:` decides the family.
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    match s.bytes().find(|b| *b == b'.' || *b == b':')? {
        b'.' => parse_ipv4(s.as_bytes()).map(IpAddr::V4),
        _ => parse_ipv6(s.as_bytes()).map(IpAddr::V6),
    }
}

/// A parsed CIDR: the network address (host bits cleared) and the prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub network: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Go's `netutils.IsIPv6CIDR`: an IPv4-mapped IPv6 network counts as IPv4.
    pub fn is_ipv6(&self) -> bool {
        match self.network {
            IpAddr::V4(_) => false,
            IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
        }
    }
}

/// `netutils.ParseCIDRSloppy`: `address/prefix`, host bits may be set, the prefix is decimal
/// (leading zeros allowed) and at most 32 or 128.
pub fn parse_cidr_sloppy(s: &str) -> Option<Cidr> {
    let (addr, mask) = s.split_once('/')?;
    let (ip, bits) = match parse_ipv4(addr.as_bytes()) {
        Some(v4) => (IpAddr::V4(v4), 32),
        None => (IpAddr::V6(parse_ipv6(addr.as_bytes())?), 128),
    };
    let (prefix, used) = dtoi(mask.as_bytes())?;
    if used != mask.len() || prefix > bits {
        return None;
    }
    let prefix = u8::try_from(prefix).ok()?;
    Some(Cidr {
        network: mask_ip(ip, prefix),
        prefix,
    })
}

fn mask_ip(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// `netutils.IsDualStackCIDRStrings` for parsed CIDRs: at least one of each family.
pub fn is_dual_stack(cidrs: &[Cidr]) -> bool {
    cidrs.iter().any(Cidr::is_ipv6) && cidrs.iter().any(|c| !c.is_ipv6())
}

/// Go's `net.SplitHostPort`; the error is Go's reason.
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), &'static str> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let colon = hostport.rfind(':').ok_or(MISSING_PORT)?;
    let (host, skip_open, skip_close) = if hostport.starts_with('[') {
        let end = hostport.find(']').ok_or("missing ']' in address")?;
        if end + 1 == hostport.len() {
            return Err(MISSING_PORT);
        }
        if end + 1 != colon {
            return Err(if hostport.as_bytes()[end + 1] == b':' {
                TOO_MANY_COLONS
            } else {
                MISSING_PORT
            });
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..colon];
        if host.contains(':') {
            return Err(TOO_MANY_COLONS);
        }
        (host, 0, 0)
    };
    if hostport[skip_open..].contains('[') {
        return Err("unexpected '[' in address");
    }
    if hostport[skip_close..].contains(']') {
        return Err("unexpected ']' in address");
    }
    Ok((host, &hostport[colon + 1..]))
}

/// Go's `strconv.Atoi` (64-bit): optional sign, then decimal digits only.
pub fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// kube-proxy's `AppendPortIfNeeded`, applied by defaulting to `healthzBindAddress` and
/// `metricsBindAddress`: a bare IP gets `:port`; anything else is left for validation.
pub fn append_port_if_needed(addr: &str, port: u16) -> String {
    if split_host_port(addr).is_ok() {
        return addr.to_string();
    }
    match parse_ip_sloppy(addr) {
        // Go appends to the text as written, and treats an IPv4-mapped IPv6 address as IPv4.
        Some(IpAddr::V4(_)) => format!("{addr}:{port}"),
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => format!("{addr}:{port}"),
        Some(IpAddr::V6(_)) => format!("[{addr}]:{port}"),
        None => addr.to_string(),
    }
}

/// What is wrong with an `IP:port` value, in kube-proxy's `validateHostPort` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPortProblem {
    /// Not splittable into host and port (Go's reason attached).
    NotHostPort(&'static str),
    /// The host part is not an IP.
    InvalidIp(String),
    /// The port is not a number in 1–65535.
    InvalidPort(String),
}

/// kube-proxy's `validateHostPort`: every problem it reports, in order.
pub fn host_port_problems(input: &str) -> Vec<HostPortProblem> {
    let (host, port) = match split_host_port(input) {
        Ok(parts) => parts,
        Err(reason) => return vec![HostPortProblem::NotHostPort(reason)],
    };
    let mut problems = Vec::new();
    if parse_ip_sloppy(host).is_none() {
        problems.push(HostPortProblem::InvalidIp(host.to_string()));
    }
    if !atoi(port).is_some_and(|p| (1..=65535).contains(&p)) {
        problems.push(HostPortProblem::InvalidPort(port.to_string()));
    }
    problems
}

/// `k8s.io/apimachinery/pkg/util/net.ParsePortRange`: `""`, `N`, `N-M` or `N+K`; the error
/// is apimachinery's text (or Go's parse error).
pub fn parse_port_range(value: &str) -> Result<Option<(i64, i64)>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let number = |text: &str| atoi(text).ok_or_else(|| format!("strconv.Atoi: parsing {text:?}: invalid syntax"));
    let (low, high) = match (value.find('-'), value.find('+')) {
        (None, None) => {
            let port = number(value)?;
            (port, port)
        }
        (Some(h), None) => (number(&value[..h])?, number(&value[h + 1..])?),
        (None, Some(p)) => {
            let low = number(&value[..p])?;
            (low, low.saturating_add(number(&value[p + 1..])?))
        }
        (Some(_), Some(_)) => return Err(format!("unable to parse port range: {value}")),
    };
    if low > 65535 || high > 65535 {
        return Err(format!("the port range cannot be greater than 65535: {value}"));
    }
    if high < low {
        return Err(format!("end port cannot be less than start port: {value}"));
    }
    Ok(Some((low, high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<String> {
        parse_ip_sloppy(s).map(|ip| ip.to_string())
    }

    #[test]
    fn ipv4_accepts_leading_zeros_as_decimal() {
        assert_eq!(ip("010.001.002.003").as_deref(), Some("10.1.2.3"));
        assert_eq!(ip("0000000001.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(ip("192.168.59.103").as_deref(), Some("192.168.59.103"));
    }

    #[test]
    fn ipv4_rejects_what_go_rejects() {
        for bad in [
            "123.456.789.10",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4 ",
            "256.0.0.1",
            "a.b.c.d",
            "",
            "10.10.12.11:2000",
        ] {
            assert_eq!(ip(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(ip("::").as_deref(), Some("::"));
        assert_eq!(ip("::1").as_deref(), Some("::1"));
        assert_eq!(ip("fd00:192:168:59::103").as_deref(), Some("fd00:192:168:59::103"));
        assert_eq!(ip("1:2:3:4:5:6:7:8").as_deref(), Some("1:2:3:4:5:6:7:8"));
        assert_eq!(ip("::ffff:010.1.2.3").as_deref(), Some("::ffff:10.1.2.3"));
        assert_eq!(ip("1:2:3:4:5:6:1.2.3.4").as_deref(), Some("1:2:3:4:5:6:102:304"));
        for bad in [
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1",
            "1:",
            "1:2:3:4:5:6:7::8",
            "fe80::1%eth0",
            "[::1]",
            "2001:db8:xyz::",
            "1:2:3:4:5:1.2.3.4",
        ] {
            assert_eq!(ip(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cidrs() {
        let c = parse_cidr_sloppy("10.0.0.1/8").unwrap();
        assert_eq!(
            (c.network.to_string(), c.prefix, c.is_ipv6()),
            ("10.0.0.0".to_string(), 8, false)
        );
        assert_eq!(parse_cidr_sloppy("010.0.0.0/08").map(|c| c.prefix), Some(8));
        assert!(parse_cidr_sloppy("::/0").unwrap().is_ipv6());
        assert!(parse_cidr_sloppy("2001:db8::/32").is_some());
        for bad in [
            "10.0.0.0",
            "0",
            "foo",
            "1.2.3",
            "::0",
            "::1",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/8 ",
            " 10.0.0.0/8",
            "2001:db8:xyz/64",
            "172.16.200.0:24",
            "fd00:10:96::",
        ] {
            assert_eq!(parse_cidr_sloppy(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn mapped_ipv4_networks_count_as_ipv4() {
        assert!(!parse_cidr_sloppy("::ffff:10.0.0.0/104").unwrap().is_ipv6());
        assert!(parse_cidr_sloppy("::ffff:10.0.0.0/64").unwrap().is_ipv6());
    }

    #[test]
    fn dual_stack_needs_both_families() {
        let parse = |list: &[&str]| list.iter().map(|s| parse_cidr_sloppy(s).unwrap()).collect::<Vec<_>>();
        assert!(is_dual_stack(&parse(&["10.0.0.0/8", "fd00::/64"])));
        assert!(!is_dual_stack(&parse(&["10.0.0.0/8", "192.168.0.0/16"])));
        assert!(!is_dual_stack(&parse(&["fd00::/64", "fd01::/64"])));
    }

    #[test]
    fn split_host_port_follows_go() {
        assert_eq!(split_host_port("0.0.0.0:10256"), Ok(("0.0.0.0", "10256")));
        assert_eq!(split_host_port("[::1]:10249"), Ok(("::1", "10249")));
        assert_eq!(split_host_port(":10256"), Ok(("", "10256")));
        assert_eq!(split_host_port("host:"), Ok(("host", "")));
        assert_eq!(split_host_port("0.0.0.0"), Err("missing port in address"));
        assert_eq!(split_host_port("::1:80"), Err("too many colons in address"));
        assert_eq!(split_host_port("[::1]"), Err("missing port in address"));
        assert_eq!(split_host_port("[::1]x:80"), Err("missing port in address"));
        assert_eq!(split_host_port("[::1"), Err("missing ']' in address"));
        assert_eq!(split_host_port("a]:80"), Err("unexpected ']' in address"));
    }

    #[test]
    fn atoi_follows_go() {
        assert_eq!(atoi("10256"), Some(10256));
        assert_eq!(atoi("+80"), Some(80));
        assert_eq!(atoi("-1"), Some(-1));
        assert_eq!(atoi("0080"), Some(80));
        for bad in ["", "+", "foo", "1_000", " 1", "1 ", "99999999999999999999"] {
            assert_eq!(atoi(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn append_port_like_defaulting() {
        assert_eq!(append_port_if_needed("0.0.0.0", 10256), "0.0.0.0:10256");
        assert_eq!(append_port_if_needed("010.0.0.1", 10256), "010.0.0.1:10256");
        assert_eq!(append_port_if_needed("::1", 10249), "[::1]:10249");
        assert_eq!(append_port_if_needed("[::1]:1", 10249), "[::1]:1");
        assert_eq!(append_port_if_needed("localhost", 10249), "localhost");
        // Go formats a mapped address as IPv4, which then cannot be split again.
        assert_eq!(append_port_if_needed("::ffff:1.2.3.4", 1), "::ffff:1.2.3.4:1");
    }

    #[test]
    fn host_port_problems_in_upstream_order() {
        assert!(host_port_problems("0.0.0.0:10256").is_empty());
        assert_eq!(
            host_port_problems("10.10.10.10"),
            vec![HostPortProblem::NotHostPort("missing port in address")]
        );
        assert_eq!(
            host_port_problems("123.456.789.10:12345"),
            vec![HostPortProblem::InvalidIp("123.456.789.10".into())]
        );
        assert_eq!(
            host_port_problems("10.10.10.10:foo"),
            vec![HostPortProblem::InvalidPort("foo".into())]
        );
        assert_eq!(
            host_port_problems("10.10.10.10:0"),
            vec![HostPortProblem::InvalidPort("0".into())]
        );
        assert_eq!(
            host_port_problems("10.10.10.10:65536"),
            vec![HostPortProblem::InvalidPort("65536".into())]
        );
        assert_eq!(host_port_problems(":x").len(), 2);
    }

    #[test]
    fn no_input_panics() {
        let alphabet = ["1", ":", ".", "/", "[", "]", "-", "+", "f", "é", "%", "0"];
        let mut inputs = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = inputs
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            inputs.extend(longer);
        }
        for s in &inputs {
            let _ = (parse_ip_sloppy(s), parse_cidr_sloppy(s), split_host_port(s), atoi(s));
            let _ = (append_port_if_needed(s, 1), host_port_problems(s), parse_port_range(s));
        }
    }

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range(""), Ok(None));
        assert_eq!(parse_port_range(" 300-2000 "), Ok(Some((300, 2000))));
        assert_eq!(parse_port_range("80"), Ok(Some((80, 80))));
        assert_eq!(parse_port_range("80+8"), Ok(Some((80, 88))));
        assert!(
            parse_port_range("2000-300")
                .unwrap_err()
                .contains("end port cannot be less")
        );
        assert!(parse_port_range("1-70000").unwrap_err().contains("greater than 65535"));
        assert!(parse_port_range("1-2+3").unwrap_err().contains("unable to parse"));
        for bad in ["a-b", "-1", "10-", "+5", "x"] {
            assert!(parse_port_range(bad).is_err(), "{bad:?}");
        }
    }
}
