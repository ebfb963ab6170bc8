//! How Felix parses the parameters the dataplane rules care about, as it does for `FELIX_*`
//! environment variables (`felix/config/config_params.go`, `felix/config/param_types.go`).
//!
//! Felix parses every source the same way; only the API server stands between a
//! FelixConfiguration and Felix, so these checks matter most for the environment, which no one
//! validates before Felix reads it.

use crate::model::calico::version::{CalicoVersion, Feature};

/// A parameter's type, as named in its `config:"…"` tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `oneof(a,b)`: any case (`param_types.go` `OneofListParam`).
    OneOf(&'static [&'static str]),
    /// `bool`: `true`, `1`, `yes`, `y`, `t` and their negatives, any case.
    Bool,
    /// `int`: Go `strconv.ParseInt(raw, 0, 64)` (so `0x1f` and `010` are numbers).
    Int,
    /// `portrange-list`: comma-separated ports or `min:max` ranges, no names, no spaces.
    PortRangeList,
    /// `mark-bitmask`: a 32-bit number (`0xffff0000`) with at least 2 bits set.
    MarkBitmask,
    /// `seconds`: a floating-point number of seconds (`1.5`, not `1s`).
    Seconds,
}

/// A Felix parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The parameter name (`NFTablesMode`); the environment variable is `FELIX_` + it, any case.
    pub name: &'static str,
    pub kind: Kind,
    /// The value Felix uses when the written one does not parse.
    pub default: &'static str,
    /// `non-zero`: the value `none` (which otherwise means "zero value") is a configuration error.
    pub non_zero: bool,
    /// `die-on-fail`: an unparsable value is a configuration error instead of being replaced.
    pub die_on_fail: bool,
}

const fn param(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        kind,
        default,
        non_zero: false,
        die_on_fail: false,
    }
}

const fn required(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        kind,
        default,
        non_zero: true,
        die_on_fail: true,
    }
}

const fn non_zero(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        kind,
        default,
        non_zero: true,
        die_on_fail: false,
    }
}

/// Parameters whose parsing is the same in Calico 3.29–3.33 (`config_params.go` at HEAD and
/// release-v3.30/v3.31/v3.32).
const PARAMS: &[Param] = &[
    param("BPFEnabled", Kind::Bool, "false"),
    param("BPFKubeProxyIptablesCleanupEnabled", Kind::Bool, "true"),
    param("BPFConnectTimeLoadBalancingEnabled", Kind::Bool, "unset"),
    non_zero(
        "BPFConnectTimeLoadBalancing",
        Kind::OneOf(&["TCP", "Enabled", "Disabled"]),
        "TCP",
    ),
    non_zero(
        "BPFHostNetworkedNATWithoutCTLB",
        Kind::OneOf(&["Enabled", "Disabled"]),
        "Enabled",
    ),
    non_zero("BPFExternalServiceMode", Kind::OneOf(&["Tunnel", "DSR"]), "Tunnel"),
    param("BPFKubeProxyMinSyncPeriod", Kind::Seconds, "1"),
    param("IptablesBackend", Kind::OneOf(&["Legacy", "NFT", "Auto"]), "Auto"),
    param("KubeNodePortRanges", Kind::PortRangeList, "30000:32767"),
    required("ChainInsertMode", Kind::OneOf(&["Insert", "Append"]), "Insert"),
    param(
        "ServiceLoopPrevention",
        Kind::OneOf(&["Drop", "Reject", "Disabled"]),
        "Drop",
    ),
    required(
        "DefaultEndpointToHostAction",
        Kind::OneOf(&["DROP", "RETURN", "ACCEPT"]),
        "DROP",
    ),
    required(
        "IptablesFilterAllowAction",
        Kind::OneOf(&["ACCEPT", "RETURN"]),
        "ACCEPT",
    ),
    required(
        "IptablesMangleAllowAction",
        Kind::OneOf(&["ACCEPT", "RETURN"]),
        "ACCEPT",
    ),
    required("IptablesFilterDenyAction", Kind::OneOf(&["DROP", "REJECT"]), "DROP"),
    required(
        "NftablesFilterAllowAction",
        Kind::OneOf(&["ACCEPT", "RETURN"]),
        "ACCEPT",
    ),
    required(
        "NftablesMangleAllowAction",
        Kind::OneOf(&["ACCEPT", "RETURN"]),
        "ACCEPT",
    ),
    required("NftablesFilterDenyAction", Kind::OneOf(&["DROP", "REJECT"]), "DROP"),
    required("IptablesMarkMask", Kind::MarkBitmask, "0xffff0000"),
    required("NftablesMarkMask", Kind::MarkBitmask, "0xffff0000"),
    param("IptablesRefreshInterval", Kind::Seconds, "180"),
    param("NftablesRefreshInterval", Kind::Seconds, "180"),
    param("Ipv6Support", Kind::Bool, "true"),
    param("HealthEnabled", Kind::Bool, "false"),
    param("UseInternalDataplaneDriver", Kind::Bool, "true"),
    param("XDPEnabled", Kind::Bool, "true"),
];

/// A parameter as Felix `version` parses it, by name in any case (`nftablesmode`).
pub fn lookup(name: &str, version: CalicoVersion) -> Option<Param> {
    // `Auto` arrived in 3.32 (calico 3da0910dd0); `non-zero` left BPFKubeProxyHealthzPort in
    // 3.32 (calico a87bb6a46c), which does not change how numbers parse.
    if name.eq_ignore_ascii_case("NFTablesMode") {
        return Some(if version.has(Feature::NftablesAuto) {
            param("NFTablesMode", Kind::OneOf(&["Enabled", "Disabled", "Auto"]), "Auto")
        } else {
            param("NFTablesMode", Kind::OneOf(&["Enabled", "Disabled"]), "Disabled")
        });
    }
    if name.eq_ignore_ascii_case("BPFKubeProxyHealthzPort") {
        let mut p = param("BPFKubeProxyHealthzPort", Kind::Int, "10256");
        p.non_zero = !version.has(Feature::HealthzPortZero);
        return Some(p);
    }
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name)).copied()
}

/// What Felix does with a raw value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    /// Replaced by the default with the warning `Replacing invalid value with default`.
    Replaced(String),
    /// A configuration error: Felix keeps retrying its configuration and never starts.
    Fatal(String),
}

/// How Felix treats `raw` for `param` (`config_params.go` `resolve`, release-v3.31 `:791-803`).
pub fn outcome(param: &Param, raw: &str) -> Outcome {
    if raw.eq_ignore_ascii_case("none") {
        return if param.non_zero {
            Outcome::Fatal("non-zero field cannot be set to none".to_string())
        } else {
            Outcome::Valid
        };
    }
    match parse(param.kind, raw) {
        Ok(()) => Outcome::Valid,
        Err(why) => {
            let error = format!("failed to parse config parameter {}; value {raw:?}: {why}", param.name);
            if param.die_on_fail {
                Outcome::Fatal(error)
            } else {
                Outcome::Replaced(error)
            }
        }
    }
}

/// Felix's parser for a kind; the error is Felix's own wording.
pub fn parse(kind: Kind, raw: &str) -> Result<(), String> {
    match kind {
        Kind::OneOf(options) => {
            if options.iter().any(|o| o.eq_ignore_ascii_case(raw)) {
                Ok(())
            } else {
                Err("unknown option".to_string())
            }
        }
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "t" | "false" | "0" | "no" | "n" | "f" => Ok(()),
            _ => Err("invalid boolean".to_string()),
        },
        Kind::Int => go_parse_int(raw, 64)
            .map(|_| ())
            .ok_or_else(|| "invalid int".to_string()),
        Kind::PortRangeList => {
            for item in raw.split(',') {
                port_from_string(item)?;
            }
            Ok(())
        }
        Kind::MarkBitmask => {
            let value = go_parse_int(raw, 32)
                .filter(|v| *v >= 0 && *v <= i128::from(u32::MAX))
                .ok_or_else(|| "invalid mark: should be 32-bit int".to_string())?;
            if value.count_ones() < 2 {
                Err("invalid mark: needs to have 2 bits set".to_string())
            } else {
                Ok(())
            }
        }
        Kind::Seconds => {
            if go_parse_float(raw) {
                Ok(())
            } else {
                Err("invalid float".to_string())
            }
        }
    }
}

/// A port or `min:max` range, as `numorstring.PortFromString` parses it; Felix then refuses
/// named ports (`param_types.go` `PortRangeListParam`).
pub fn port_from_string(item: &str) -> Result<(), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(item) {
        return match item.parse::<u16>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("{item} is not a valid port range")),
        };
    }
    if let Some((min, max)) = item.split_once(':') {
        if digits(min) && digits(max) {
            return match (min.parse::<u16>(), max.parse::<u16>()) {
                (Ok(lo), Ok(hi)) if lo <= hi => Ok(()),
                _ => Err(format!("{item} is not a valid port range")),
            };
        }
    }
    let name_ok = !item.is_empty()
        && item.len() <= 128
        && item
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if name_ok {
        Err(format!("{item} has port name set"))
    } else {
        Err(format!("{item} is not a valid port range"))
    }
}

/// Go's `strconv.ParseInt(raw, 0, bits)` (and `ParseUint` for marks): sign, `0x`/`0o`/`0b`
/// or leading-`0` octal prefixes, `_` between digits when a prefix is used.
fn go_parse_int(raw: &str, bits: u32) -> Option<i128> {
    let (negative, body) = match raw.as_bytes().first()? {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    if digits.contains('_') && !prefixed {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude = u128::from_str_radix(&cleaned, radix).ok()?;
    let limit = 1u128 << (bits - 1);
    let value = if negative {
        if magnitude > limit {
            return None;
        }
        -(magnitude as i128)
    } else {
        if magnitude >= limit && bits == 64 {
            return None;
        }
        if bits == 32 && magnitude > u128::from(u32::MAX) {
            return None;
        }
        magnitude as i128
    };
    Some(value)
}

/// Whether Go's `strconv.ParseFloat(raw, 64)` accepts `raw` (decimal forms, `inf`, `nan`).
fn go_parse_float(raw: &str) -> bool {
    let body = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return true;
    }
    lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        && lower.bytes().any(|b| b.is_ascii_digit())
        && lower.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_felix() {
        assert_eq!(parse(Kind::OneOf(&["Enabled", "Disabled"]), "enabled"), Ok(()));
        assert!(parse(Kind::OneOf(&["Enabled", "Disabled"]), "on").is_err());
        assert_eq!(parse(Kind::Bool, "Yes"), Ok(()));
        assert!(parse(Kind::Bool, "enabled").is_err());
        assert_eq!(parse(Kind::Int, "0x2810"), Ok(()));
        assert!(parse(Kind::Int, "10256s").is_err());
        assert_eq!(parse(Kind::PortRangeList, "30000:32767,8080"), Ok(()));
        assert_eq!(
            parse(Kind::PortRangeList, "30000:32767,http"),
            Err("http has port name set".to_string())
        );
        assert!(parse(Kind::PortRangeList, "30000:32767, 8080").is_err());
        assert!(parse(Kind::PortRangeList, "32767:30000").is_err());
        assert!(parse(Kind::PortRangeList, "70000").is_err());
        assert_eq!(parse(Kind::MarkBitmask, "0xffff0000"), Ok(()));
        assert!(parse(Kind::MarkBitmask, "0x1").is_err());
        assert!(parse(Kind::MarkBitmask, "0x1ffffffff").is_err());
        assert_eq!(parse(Kind::Seconds, "1.5"), Ok(()));
        assert!(parse(Kind::Seconds, "1s").is_err());
    }

    #[test]
    fn nftables_auto_needs_3_32() {
        let old = lookup("nftablesmode", CalicoVersion::new(3, 31)).unwrap();
        assert!(matches!(outcome(&old, "Auto"), Outcome::Replaced(_)));
        let new = lookup("NFTABLESMODE", CalicoVersion::new(3, 32)).unwrap();
        assert_eq!(outcome(&new, "auto"), Outcome::Valid);
    }

    #[test]
    fn required_parameters_are_fatal() {
        let chain = lookup("CHAININSERTMODE", CalicoVersion::new(3, 32)).unwrap();
        assert!(matches!(outcome(&chain, "prepend"), Outcome::Fatal(_)));
        assert!(matches!(outcome(&chain, "none"), Outcome::Fatal(_)));
        let health = lookup("HealthEnabled", CalicoVersion::new(3, 32)).unwrap();
        assert_eq!(outcome(&health, "none"), Outcome::Valid);
    }
}
