//! Go's `time.Duration` text form (`30s`, `1m30s`, `500ms`), as `metav1.Duration` decodes it.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in nanoseconds, as written in a KubeProxyConfiguration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    pub nanos: i64,
}

impl Duration {
    pub const fn from_secs(secs: i64) -> Self {
        Duration {
            nanos: secs * 1_000_000_000,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Parses Go's duration syntax: an optional sign, then one or more decimal numbers each
    /// with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone is allowed.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let invalid =
            || format!("invalid duration {text:?} (expected Go duration syntax such as \"30s\" or \"1m30s\")");
        let (negative, mut rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest == "0" {
            return Ok(Duration::default());
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: f64 = 0.0;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if number_len == 0 {
                return Err(invalid());
            }
            let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
            rest = &rest[number_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(invalid()),
            };
            rest = &rest[unit_len..];
            total += number * scale;
        }
        if total > i64::MAX as f64 {
            return Err(format!("duration {text:?} is out of range"));
        }
        let nanos = total.round() as i64;
        Ok(Duration {
            nanos: if negative { -nanos } else { nanos },
        })
    }
}

impl std::fmt::Display for Duration {
    /// Formats like Go's `Duration.String` for whole units (`1h0m0s`, `30s`, `500ms`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.nanos;
        if n == 0 {
            return write!(f, "0s");
        }
        let sign = if n < 0 { "-" } else { "" };
        let abs = n.unsigned_abs();
        if abs < 1_000_000_000 {
            if abs % 1_000_000 == 0 {
                return write!(f, "{sign}{}ms", abs / 1_000_000);
            }
            return write!(f, "{sign}{abs}ns");
        }
        let secs = abs / 1_000_000_000;
        let frac = abs % 1_000_000_000;
        let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
        let sec = if frac == 0 {
            format!("{s}s")
        } else {
            format!("{}s", s as f64 + frac as f64 / 1e9)
        };
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{sec}")
        } else if m > 0 {
            write!(f, "{sign}{m}m{sec}")
        } else {
            write!(f, "{sign}{sec}")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A Go duration such as \"30s\", \"1m30s\" or \"500ms\".",
            "pattern": "^[-+]?(0|([0-9]+(\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(Duration::parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(Duration::parse("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(Duration::parse("1h0m0s").unwrap(), Duration::from_secs(3600));
        assert_eq!(Duration::parse("-1s").unwrap(), Duration::from_secs(-1));
        assert_eq!(Duration::parse("0").unwrap(), Duration::default());
        assert_eq!(Duration::parse("1.5s").unwrap().nanos, 1_500_000_000);
        assert_eq!(Duration::parse("500ms").unwrap().nanos, 500_000_000);
        assert!(Duration::parse("30").is_err());
        assert!(Duration::parse("s").is_err());
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("5d").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(Duration::from_secs(3600).to_string(), "1h0m0s");
        assert_eq!(Duration::from_secs(30).to_string(), "30s");
        assert_eq!(Duration::from_secs(90).to_string(), "1m30s");
        assert_eq!(Duration { nanos: 500_000_000 }.to_string(), "500ms");
    }
}
