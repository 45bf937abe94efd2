//! HEALTHCHECK: the test command and its timing flags, validated as BuildKit does.

use std::time::Duration;

use super::flags::{FlagKind, Flags};

/// A parsed HEALTHCHECK, in the shape of the image config's `Healthcheck`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args...]` (exec form) or `["CMD-SHELL", "command line"]`.
    pub test: Vec<String>,
    /// `None` when not given (or zero): the base image's or the default value applies.
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    /// `None` when not given.
    pub retries: Option<u32>,
}

/// The flags HEALTHCHECK CMD accepts.
pub(super) const FLAGS: &[(&str, FlagKind)] = &[
    ("interval", FlagKind::String),
    ("timeout", FlagKind::String),
    ("start-period", FlagKind::String),
    ("start-interval", FlagKind::String),
    ("retries", FlagKind::String),
];

/// Build the healthcheck from its type word (`CMD`/`NONE`), the rest of its arguments, whether
/// they were in exec form, and the written flags.
pub(super) fn parse(
    args: Vec<String>,
    json: bool,
    written_flags: &[String],
) -> Result<Healthcheck, String> {
    let mut args = args.into_iter();
    let Some(kind) = args.next() else {
        return Err("HEALTHCHECK requires at least one argument".into());
    };
    let kind = if kind.bytes().any(|b| b.is_ascii_lowercase()) || !kind.is_ascii() {
        kind.to_uppercase()
    } else {
        kind
    };
    let rest: Vec<String> = args.collect();
    if kind == "NONE" {
        if !rest.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        // BuildKit does not look at flags for NONE at all.
        return Ok(Healthcheck {
            test: vec![kind],
            ..Healthcheck::default()
        });
    }
    let flags = Flags::new(FLAGS).parse(written_flags)?;
    if kind != "CMD" {
        return Err(format!("Unknown type \"{kind}\" in HEALTHCHECK (try CMD)"));
    }
    let cmd = super::parse::json_args(rest, json);
    if cmd.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let mut test = vec![if json {
        "CMD".to_owned()
    } else {
        "CMD-SHELL".to_owned()
    }];
    test.extend(cmd);
    let retries = match flags.last("retries").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            let n: i64 = v
                .parse()
                .ok()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))?;
            if n < 0 {
                return Err(format!("--retries cannot be negative ({n})"));
            }
            u32::try_from(n).ok()
        }
    };
    Ok(Healthcheck {
        test,
        interval: interval(&flags, "interval")?,
        timeout: interval(&flags, "timeout")?,
        start_period: interval(&flags, "start-period")?,
        start_interval: interval(&flags, "start-interval")?,
        retries,
    })
}

/// A timing flag: absent or zero is `None`; otherwise at least 1ms.
fn interval(flags: &Flags<'_>, name: &str) -> Result<Option<Duration>, String> {
    let Some(value) = flags.last(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let nanos = parse_go_duration(value)?;
    if nanos == 0 {
        return Ok(None);
    }
    if nanos < 1_000_000 {
        return Err(format!("Interval \"{name}\" cannot be less than 1ms"));
    }
    Ok(Some(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    )))
}

/// Go's `time.ParseDuration`, in nanoseconds: `1h30m`, `1.5s`, `300ms`, `-2m`, `0`.
pub fn parse_go_duration(input: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {input:?}");
    let (negative, mut s) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let number_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let number = &s[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        s = &s[number_end..];
        let unit_end = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = &s[..unit_end];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {input:?}"));
        }
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {input:?}")),
        };
        total += value * scale;
        s = &s[unit_end..];
    }
    if total > 9.223_372_036_854_775e18 {
        return Err(invalid());
    }
    // Whole nanoseconds, as Go truncates fractions of the smallest unit.
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total as i128;
    Ok(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("2us"), Ok(2_000));
        assert_eq!(parse_go_duration("-2m"), Ok(-120_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(
            parse_go_duration("10").unwrap_err(),
            "time: missing unit in duration \"10\""
        );
        assert_eq!(
            parse_go_duration("10x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"10x\""
        );
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("s").is_err());
    }

    #[test]
    fn healthcheck_forms() {
        let h = parse(s(&["CMD", "hello world"]), false, &[]).unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "hello world"]);
        let h = parse(s(&["cmd", "a", "b"]), true, &[]).unwrap();
        assert_eq!(h.test, ["CMD", "a", "b"]);
        let h = parse(s(&["NONE"]), false, &[]).unwrap();
        assert_eq!(h.test, ["NONE"]);
        assert_eq!(
            parse(s(&["NONE", "x"]), false, &[]).unwrap_err(),
            "HEALTHCHECK NONE takes no arguments"
        );
        assert_eq!(
            parse(s(&["CMD"]), false, &[]).unwrap_err(),
            "Missing command after HEALTHCHECK CMD"
        );
        assert_eq!(
            parse(s(&["FOO", "x"]), false, &[]).unwrap_err(),
            "Unknown type \"FOO\" in HEALTHCHECK (try CMD)"
        );
    }

    #[test]
    fn healthcheck_flags() {
        let flags = s(&[
            "--interval=30s",
            "--timeout=0s",
            "--retries=3",
            "--start-period=1m",
        ]);
        let h = parse(s(&["CMD", "true"]), false, &flags).unwrap();
        assert_eq!(h.interval, Some(Duration::from_secs(30)));
        assert_eq!(h.timeout, None);
        assert_eq!(h.start_period, Some(Duration::from_secs(60)));
        assert_eq!(h.retries, Some(3));
        assert_eq!(
            parse(s(&["CMD", "true"]), false, &s(&["--interval=500us"])).unwrap_err(),
            "Interval \"interval\" cannot be less than 1ms"
        );
        assert_eq!(
            parse(s(&["CMD", "true"]), false, &s(&["--retries=-1"])).unwrap_err(),
            "--retries cannot be negative (-1)"
        );
        assert!(parse(s(&["CMD", "true"]), false, &s(&["--interval=-1s"])).is_err());
        assert!(parse(s(&["CMD", "true"]), false, &s(&["--bogus=1"])).is_err());
    }
}
