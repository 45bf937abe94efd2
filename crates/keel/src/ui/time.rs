//! Times as docker reads and prints them, with no date-time dependency: RFC 3339 parsing of
//! an image's `created` (nanoseconds, offsets), Go's `time.ParseDuration`, docker's
//! `--filter until=`/`--since` values (`timetypes.GetTimestamp`: a duration, an RFC 3339-like
//! time or Unix seconds), and the `CREATED` column (`2 hours ago`).
//!
//! Civil dates use the proleptic Gregorian calendar, as Go's `time` package does.

use keel_oci::time::civil_from_days;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ui::units::human_duration;

/// A point in time: seconds and nanoseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

/// A time or duration that could not be parsed; the message is docker's, lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    pub value: String,
    pub message: String,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.message, self.value)
    }
}

impl std::error::Error for TimeError {}

fn err(value: &str, message: &str) -> TimeError {
    TimeError {
        value: value.to_owned(),
        message: message.to_owned(),
    }
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z): docker prints an empty `CreatedSince` for it.
pub const GO_ZERO: Timestamp = Timestamp {
    secs: -62_135_596_800,
    nanos: 0,
};

impl Timestamp {
    pub fn from_unix(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            // A clock before 1970: count backwards.
            Err(e) => {
                let d = e.duration();
                let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => Timestamp { secs, nanos: 0 },
                    n => Timestamp {
                        secs: secs - 1,
                        nanos: 1_000_000_000 - n,
                    },
                }
            }
        }
    }

    /// Parse RFC 3339 as Go's `time.Parse(time.RFC3339Nano, s)`: `2024-01-27T00:30:48.743965523Z`,
    /// `2024-01-27T01:30:48+01:00`; fractional seconds optional, digits past the ninth dropped.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimeError> {
        parse_layout(s, 3, Zone::Required, 0)
    }

    /// `time.RFC3339` in UTC (`2024-01-27T00:30:48Z`), as `docker history --human=false` prints.
    pub fn to_rfc3339(self) -> String {
        let (date, time) = self.civil();
        format!("{date}T{time}Z")
    }

    /// `time.RFC3339Nano` in UTC: fraction with trailing zeros trimmed, as docker inspect prints.
    #[cfg(test)]
    pub fn to_rfc3339_nano(self) -> String {
        let (date, time) = self.civil();
        format!("{date}T{time}{}Z", fraction(self.nanos))
    }

    /// Go's `Time.String()` in UTC: `2024-01-27 00:30:48 +0000 UTC` (docker's `CreatedAt`).
    pub fn go_string(self) -> String {
        let (date, time) = self.civil();
        format!("{date} {time}{} +0000 UTC", fraction(self.nanos))
    }

    /// Time elapsed from `self` to `now`, zero if `self` is in the future.
    pub fn elapsed_until(self, now: Timestamp) -> Duration {
        let nanos = (i128::from(now.secs) * 1_000_000_000 + i128::from(now.nanos))
            - (i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos));
        Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
    }

    fn civil(self) -> (String, String) {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            format!("{y:04}-{m:02}-{d:02}"),
            format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60),
        )
    }
}

/// Go's `.999999999`: a dot and the nanoseconds without trailing zeros, nothing for zero.
fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let digits = format!("{nanos:09}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// docker's `CREATED` column: `2 hours ago` (go-units `HumanDuration` + " ago"); empty for Go's
/// zero time, which the default `docker images` format turns into `N/A`. An image with no
/// `created` is listed by the daemon as Unix time 0, hence docker's `56 years ago`.
pub fn created_since(created: Timestamp, now: Timestamp) -> String {
    if created == GO_ZERO {
        return String::new();
    }
    format!("{} ago", human_duration(created.elapsed_until(now)))
}

/// Created times up to this one (2000-01-01T00:00:00Z) show as `N/A` in `docker history`:
/// reproducible builds set `created` to the epoch, and "56 years ago" says nothing.
pub const HISTORY_EPOCH: Timestamp = Timestamp {
    secs: 946_684_800,
    nanos: 0,
};

/// `docker history`'s `CREATED` (docker 28): `N/A` up to [`HISTORY_EPOCH`], else `2 hours ago`.
pub fn history_created_since(created: Timestamp, now: Timestamp) -> String {
    if created.secs <= HISTORY_EPOCH.secs {
        return "N/A".to_owned();
    }
    format!("{} ago", human_duration(created.elapsed_until(now)))
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Zone {
    /// `Z` or `±hh:mm` must follow (Go's `Z07:00`).
    Required,
    /// No zone: the time is in the local zone, given as an offset east of UTC in seconds.
    Local,
}

/// A cursor over the value being parsed.
struct Cursor<'a> {
    s: &'a str,
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize, what: &str) -> Result<u32, TimeError> {
        let bytes = self
            .rest
            .get(..n)
            .filter(|b| b.iter().all(u8::is_ascii_digit));
        let bytes = bytes.ok_or_else(|| err(self.s, &format!("cannot parse {what}")))?;
        self.rest = &self.rest[n..];
        Ok(bytes
            .iter()
            .fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), TimeError> {
        match self.rest.split_first() {
            Some((&first, rest)) if first == c => {
                self.rest = rest;
                Ok(())
            }
            _ => Err(err(self.s, &format!("cannot parse {what}"))),
        }
    }
}

/// Parse `YYYY-MM-DD`, then `time_parts` of `Thh`, `:mm`, `:ss[.frac]`, then the zone. This
/// covers the layouts docker tries (`2006-01-02`, `2006-01-02T15`, `...T15:04`,
/// `...T15:04:05.999999999`, each with or without `Z07:00`). As in Go, a fraction is accepted
/// after the seconds whether or not the layout names one.
fn parse_layout(
    s: &str,
    time_parts: u8,
    zone: Zone,
    local_offset: i32,
) -> Result<Timestamp, TimeError> {
    let mut c = Cursor {
        s,
        rest: s.as_bytes(),
    };
    let year = i64::from(c.digits(4, "year")?);
    c.expect(b'-', "date")?;
    let month = c.digits(2, "month")?;
    c.expect(b'-', "date")?;
    let day = c.digits(2, "day")?;
    if !(1..=12).contains(&month) {
        return Err(err(s, "month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(err(s, "day out of range"));
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if time_parts >= 1 {
        c.expect(b'T', "time")?;
        hour = c.digits(2, "hour")?;
    }
    if time_parts >= 2 {
        c.expect(b':', "time")?;
        minute = c.digits(2, "minute")?;
    }
    if time_parts >= 3 {
        c.expect(b':', "time")?;
        second = c.digits(2, "second")?;
        if c.rest.first() == Some(&b'.') {
            c.rest = &c.rest[1..];
            let n = c.rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return Err(err(s, "cannot parse fractional second"));
            }
            let kept = &c.rest[..n.min(9)];
            let value = kept
                .iter()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
            nanos = value * 10u32.pow(9 - kept.len() as u32);
            c.rest = &c.rest[n..];
        }
    }
    if hour > 23 {
        return Err(err(s, "hour out of range"));
    }
    if minute > 59 {
        return Err(err(s, "minute out of range"));
    }
    if second > 59 {
        return Err(err(s, "second out of range"));
    }
    let offset = match zone {
        Zone::Local => i64::from(local_offset),
        Zone::Required => match c.rest.first() {
            Some(b'Z') => {
                c.rest = &c.rest[1..];
                0
            }
            Some(&sign @ (b'+' | b'-')) => {
                c.rest = &c.rest[1..];
                let h = c.digits(2, "time zone")?;
                c.expect(b':', "time zone")?;
                let m = c.digits(2, "time zone")?;
                if h > 24 || m > 59 {
                    return Err(err(s, "time zone offset out of range"));
                }
                let off = i64::from(h * 3600 + m * 60);
                if sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            _ => return Err(err(s, "cannot parse time zone")),
        },
    };
    if !c.rest.is_empty() {
        return Err(err(s, "extra text after time"));
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    Ok(Timestamp { secs, nanos })
}

/// Go's `time.ParseDuration`: `300ms`, `-1.5h`, `2h45m`, `0`. Units `ns us µs μs ms s m h`.
/// Returns signed nanoseconds.
pub fn parse_go_duration(s: &str) -> Result<i64, TimeError> {
    let invalid = || err(s, "time: invalid duration");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..n];
            rest = &after_dot[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: u64 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(err(s, "time: missing unit in duration")),
            _ => return Err(err(s, "time: unknown unit in duration")),
        };
        rest = &rest[unit_len..];
        let overflow = || err(s, "time: invalid duration");
        let int: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| overflow())?
        };
        let mut v = int.checked_mul(unit).ok_or_else(overflow)?;
        if !frac_part.is_empty() {
            // Go keeps the fraction as an integer over a power of ten (dropping digits that
            // would overflow) and converts through float64, nanosecond-accurate up to hours.
            let (mut f, mut scale) = (0u64, 1f64);
            for b in frac_part.bytes() {
                match f
                    .checked_mul(10)
                    .and_then(|x| x.checked_add(u64::from(b - b'0')))
                {
                    Some(x) if x <= (1 << 63) / 10 => {
                        f = x;
                        scale *= 10.0;
                    }
                    _ => break,
                }
            }
            v = v
                .checked_add((f as f64 * (unit as f64 / scale)) as u64)
                .ok_or_else(overflow)?;
        }
        total = total.checked_add(v).ok_or_else(overflow)?;
    }
    match (neg, i64::try_from(total)) {
        (false, Ok(t)) => Ok(t),
        (true, Ok(t)) => Ok(-t),
        (true, Err(_)) if total == 1 << 63 => Ok(i64::MIN),
        _ => Err(invalid()),
    }
}

/// docker's `--filter until=`/`since=` value (`api/types/time.GetTimestamp`): a Go duration
/// before `now` (`10m`, `24h`), an RFC 3339-like time (`2024-01-02`, `2024-01-02T15:04`,
/// `2024-01-02T15:04:05.5+01:00`; without `Z`/offset it is local time, `local_offset` seconds
/// east of UTC), or Unix seconds with an optional fraction (`1700000000.5`).
pub fn parse_filter_time(
    value: &str,
    now: Timestamp,
    local_offset: i32,
) -> Result<Timestamp, TimeError> {
    if value != "0" {
        if let Ok(d) = parse_go_duration(value) {
            let nanos =
                i128::from(now.secs) * 1_000_000_000 + i128::from(now.nanos) - i128::from(d);
            let secs = i64::try_from(nanos.div_euclid(1_000_000_000))
                .map_err(|_| err(value, "time out of range"))?;
            return Ok(Timestamp {
                secs,
                nanos: nanos.rem_euclid(1_000_000_000) as u32,
            });
        }
    }
    // docker: a Z, z or + or exactly three dashes mean the value carries its own zone.
    let in_location = !value.contains(['z', 'Z', '+']) && value.matches('-').count() != 3;
    let zone = if in_location {
        Zone::Local
    } else {
        Zone::Required
    };
    let parsed = if value.contains('.') {
        parse_layout(value, 3, zone, local_offset)
    } else if value.contains('T') {
        let mut colons = value.matches(':').count();
        if !in_location && !value.contains(['z', 'Z']) && colons > 0 {
            colons -= 1; // the offset's own colon
        }
        parse_layout(value, colons.min(2) as u8 + 1, zone, local_offset)
    } else {
        parse_layout(value, 0, zone, local_offset)
    };
    match parsed {
        Ok(t) => Ok(t),
        // A dash means it was meant as a date: report the date error.
        Err(e) if value.contains('-') => Err(e),
        Err(_) => parse_unix_seconds(value)
            .ok_or_else(|| err(value, "failed to parse value as time or duration")),
    }
}

/// `seconds[.fraction]`, as docker's `parseTimestamp`.
fn parse_unix_seconds(value: &str) -> Option<Timestamp> {
    let (secs, frac) = match value.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (value, None),
    };
    let secs: i64 = secs.parse().ok()?;
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    Some(Timestamp { secs, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse_rfc3339("2024-01-27T00:30:48.743965523Z").unwrap();
        assert_eq!(
            t,
            Timestamp {
                secs: 1_706_315_448,
                nanos: 743_965_523
            }
        );
        assert_eq!(t.to_rfc3339_nano(), "2024-01-27T00:30:48.743965523Z");
        assert_eq!(t.to_rfc3339(), "2024-01-27T00:30:48Z");
        assert_eq!(t.go_string(), "2024-01-27 00:30:48.743965523 +0000 UTC");
        let t = Timestamp::parse_rfc3339("2024-01-27T01:30:48.5+01:00").unwrap();
        assert_eq!(
            t,
            Timestamp {
                secs: 1_706_315_448,
                nanos: 500_000_000
            }
        );
        assert_eq!(t.to_rfc3339_nano(), "2024-01-27T00:30:48.5Z");
        let t = Timestamp::parse_rfc3339("1969-12-31T19:00:00-05:00").unwrap();
        assert_eq!(t, Timestamp::from_unix(0));
        assert_eq!(
            Timestamp::from_unix(0).go_string(),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        // Ten fraction digits: the tenth is dropped, as Go does.
        let t = Timestamp::parse_rfc3339("2000-02-29T23:59:59.1234567899Z").unwrap();
        assert_eq!(t.nanos, 123_456_789);
        assert_eq!(t.to_rfc3339(), "2000-02-29T23:59:59Z");
        assert_eq!(GO_ZERO.to_rfc3339(), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn rfc3339_rejects() {
        for bad in [
            "2024-01-27",
            "2024-01-27T00:30:48",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-27T24:00:00Z",
            "2024-01-27T00:60:00Z",
            "2024-01-27T00:30:48.Z",
            "2024-01-27T00:30:48Zjunk",
            "2024-01-27 00:30:48Z",
            "24-01-27T00:30:48Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations() {
        let cases: [(&str, i64); 11] = [
            ("0", 0),
            ("10m", 600_000_000_000),
            ("24h", 86_400_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("-2s", -2_000_000_000),
            ("+300ms", 300_000_000),
            ("1us", 1_000),
            ("1\u{b5}s", 1_000),
            (".5s", 500_000_000),
            ("2562047h", 2_562_047 * 3_600_000_000_000),
        ];
        for (s, want) in cases {
            assert_eq!(parse_go_duration(s), Ok(want), "{s}");
        }
        for bad in ["", "-", "10", "1d", "h", ".s", "1.2.3s", "3000000h"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filter_times() {
        let now = Timestamp::parse_rfc3339("2024-06-01T12:00:00Z").unwrap();
        let at = |s: &str| parse_filter_time(s, now, 0).map(|t| t.to_rfc3339_nano());
        assert_eq!(at("10m").unwrap(), "2024-06-01T11:50:00Z");
        assert_eq!(at("24h").unwrap(), "2024-05-31T12:00:00Z");
        assert_eq!(at("2024-01-02").unwrap(), "2024-01-02T00:00:00Z");
        assert_eq!(at("2024-01-02T15").unwrap(), "2024-01-02T15:00:00Z");
        assert_eq!(at("2024-01-02T15:04").unwrap(), "2024-01-02T15:04:00Z");
        assert_eq!(at("2024-01-02T15:04:05").unwrap(), "2024-01-02T15:04:05Z");
        assert_eq!(
            at("2024-01-02T15:04:05.25").unwrap(),
            "2024-01-02T15:04:05.25Z"
        );
        assert_eq!(at("2024-01-02T15:04:05Z").unwrap(), "2024-01-02T15:04:05Z");
        assert_eq!(
            at("2024-01-02T15:04:05+02:00").unwrap(),
            "2024-01-02T13:04:05Z"
        );
        assert_eq!(
            at("2024-01-02T15:04+02:00").unwrap(),
            "2024-01-02T13:04:00Z"
        );
        assert_eq!(
            at("2024-01-02T15:04:05-02:00").unwrap(),
            "2024-01-02T17:04:05Z"
        );
        assert_eq!(at("1700000000").unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(at("1700000000.5").unwrap(), "2023-11-14T22:13:20.5Z");
        assert_eq!(at("0").unwrap(), "1970-01-01T00:00:00Z");
        // Local times move by the local offset.
        let t = parse_filter_time("2024-01-02T15:04:05", now, 3600).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T14:04:05Z");
        assert!(at("2024-13-02").is_err());
        assert_eq!(
            at("yesterday").unwrap_err().message,
            "failed to parse value as time or duration"
        );
    }

    #[test]
    fn created_column() {
        let now = Timestamp::parse_rfc3339("2024-06-01T12:00:00Z").unwrap();
        let ago = |secs: i64| created_since(Timestamp::from_unix(now.secs - secs), now);
        assert_eq!(ago(2 * 3600 + 300), "2 hours ago");
        assert_eq!(ago(45), "45 seconds ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(-100), "Less than a second ago");
        assert_eq!(created_since(Timestamp::from_unix(0), now), "54 years ago");
        assert_eq!(created_since(GO_ZERO, now), "");
        // docker 28.2.2 `docker history`, checked with these values.
        assert_eq!(history_created_since(Timestamp::from_unix(0), now), "N/A");
        assert_eq!(
            history_created_since(Timestamp::from_unix(946_684_800), now),
            "N/A"
        );
        assert_eq!(
            history_created_since(Timestamp::from_unix(946_684_801), now),
            "24 years ago"
        );
    }

    #[test]
    fn civil_conversions_agree() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
