//! Sizes and durations as docker prints them (`docker/go-units`): `4.26MB`, `1.049MiB`,
//! `About a minute`, `2 hours ago`, and Go's `%g` float formatting that those rely on.
//!
//! Docker's odd corners are kept on purpose: `HumanSizeWithPrecision(999999, 3)` is `1e+03kB`
//! because Go's `%.3g` switches to an exponent once the rounded value needs a fourth digit.

use std::time::Duration;

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// Divide by `base` while the value is at least `base` and a larger unit exists (go-units
/// `getSizeAndUnit`). The repeated float division is kept so rounding matches Go bit for bit.
fn scale(mut size: f64, base: f64, units: &[&'static str; 9]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// go-units `HumanSize`: decimal units, 4 significant digits (`1.049MB`, `1kB`, `0B`).
pub fn human_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units `HumanSizeWithPrecision`: decimal units with `precision` significant digits, as
/// `%.*g`. `docker images` and `docker history` use precision 3 (`4.26MB`, `1e+03kB`).
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (value, unit) = scale(size, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", format_g(value, Some(precision)))
}

/// go-units `HumanDuration`: `Less than a second`, `1 second`, `About a minute`, `3 hours`,
/// `2 days`, `3 weeks`, `4 months`, `2 years`. Hours are rounded (1h31m is `2 hours`),
/// everything else truncated, as go-units does.
pub fn human_duration(d: Duration) -> String {
    // Go's time.Duration is i64 nanoseconds; longer spans saturate as Go's Time.Sub does.
    let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    const SECOND: i64 = 1_000_000_000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    let seconds = nanos / SECOND;
    if seconds < 1 {
        return "Less than a second".to_owned();
    }
    if seconds == 1 {
        return "1 second".to_owned();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = nanos / MINUTE;
    if minutes == 1 {
        return "About a minute".to_owned();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Duration.Hours() is a float; go-units adds 0.5 and truncates.
    let hours_f = (nanos / HOUR) as f64 + (nanos % HOUR) as f64 / 3.6e12;
    let hours = (hours_f + 0.5) as i64;
    if hours == 1 {
        "About an hour".to_owned()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", (hours_f as i64) / 24 / 365)
    }
}

/// Go's `%g` (`precision = Some(p)`, as `%.pg`) or `%v` of a float64 (`None`: the shortest
/// digits that round-trip, with an exponent from 1e+06 up and below 1e-04, as Go prints them).
/// Exponents have at least two digits (`1e+06`), as in Go's strconv.
pub fn format_g(value: f64, precision: Option<usize>) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let neg = value.is_sign_negative() && value != 0.0;
    let (digits, dp) = decimal(value.abs(), precision);
    let nd = digits.len() as i64;
    // strconv.FormatFloat 'g': choose %e or %f from the decimal exponent.
    let mut prec = precision.map_or(nd, |p| p.max(1) as i64);
    let mut eprec = prec;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if precision.is_none() {
        // Shortest form: strconv decides as if the precision were 6 (`1e+06`, `100000`).
        eprec = 6;
    }
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if nd == 0 {
        // Zero: strconv has no digits and prints "0".
        out.push('0');
        return out;
    }
    if exp < -4 || exp >= eprec {
        if prec > nd {
            prec = nd;
        }
        push_exponent_form(&mut out, &digits, prec - 1, exp);
    } else {
        if prec > dp {
            prec = nd;
        }
        push_fixed_form(&mut out, &digits, dp, (prec - dp).max(0));
    }
    out
}

/// Go's `%e`/`%f`/`%g` of a float64 with a precision (`%.3f`), or `None` for the shortest
/// representation (strconv's precision -1), as `fmt.Sprintf` and `encoding/json` use them.
pub fn format_float(value: f64, verb: char, precision: Option<usize>) -> String {
    if !value.is_finite() || verb == 'g' {
        return format_g(value, precision);
    }
    let neg = value.is_sign_negative() && value != 0.0;
    let mut out = String::from(if neg { "-" } else { "" });
    match verb {
        'f' => match precision {
            // Rust rounds the exact binary value half to even, as Go's strconv does.
            Some(p) => out.push_str(&format!("{:.*}", p, value.abs())),
            None => {
                let (digits, dp) = decimal(value.abs(), None);
                push_fixed_form(&mut out, &digits, dp, (digits.len() as i64 - dp).max(0));
            }
        },
        _ => {
            let (mut digits, mut dp) = decimal(value.abs(), precision.map(|p| p + 1));
            if digits.is_empty() {
                (digits, dp) = (vec![b'0'], 1);
            }
            let prec = precision.map_or(digits.len() as i64 - 1, |p| p as i64);
            push_exponent_form(&mut out, &digits, prec, dp - 1);
        }
    }
    out
}

/// Significant decimal digits (no trailing zeros; empty for zero) and the decimal point
/// position, rounded to `precision` digits (round half to even on the exact binary value, as
/// Go's strconv and Rust's formatter both do).
fn decimal(value: f64, precision: Option<usize>) -> (Vec<u8>, i64) {
    if value == 0.0 {
        return (Vec::new(), 0);
    }
    let text = match precision {
        Some(p) => format!("{:.*e}", p.max(1) - 1, value),
        None => format!("{value:e}"),
    };
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exponent + 1)
}

fn push_exponent_form(out: &mut String, digits: &[u8], prec: i64, exp: i64) {
    out.push(char::from(digits[0]));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as usize {
            out.push(char::from(digits.get(i).copied().unwrap_or(b'0')));
        }
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
}

fn push_fixed_form(out: &mut String, digits: &[u8], dp: i64, prec: i64) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(char::from(digits.get(i).copied().unwrap_or(b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            let digit = if j >= 0 {
                digits.get(j as usize).copied()
            } else {
                None
            };
            out.push(char::from(digit.unwrap_or(b'0')));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: f64 = 1000.0;
    const MB: f64 = 1000.0 * KB;
    const GB: f64 = 1000.0 * MB;
    const TB: f64 = 1000.0 * GB;
    const PB: f64 = 1000.0 * TB;

    // The cases of go-units' size_test.go (TestHumanSize).
    #[test]
    fn human_size_matches_go_units() {
        let cases: [(f64, &str); 9] = [
            (1000.0, "1kB"),
            (1024.0, "1.024kB"),
            (1_000_000.0, "1MB"),
            (1_048_576.0, "1.049MB"),
            (2.0 * MB, "2MB"),
            (3.42 * GB, "3.42GB"),
            (5.372 * TB, "5.372TB"),
            (2.22 * PB, "2.22PB"),
            (10_000_000_000_000.0 * PB, "1e+04YB"),
        ];
        for (size, want) in cases {
            assert_eq!(human_size(size), want, "{size}");
        }
    }

    // Precision 3 is what `docker images` prints; these were checked against docker 28.2.2.
    #[test]
    fn docker_images_sizes() {
        let cases: [(f64, &str); 8] = [
            (0.0, "0B"),
            (999.0, "999B"),
            (1000.0, "1kB"),
            (4_261_550.0, "4.26MB"),
            (999_999.0, "1e+03kB"),
            (1_234_567_890.0, "1.23GB"),
            (123_456_789.0, "123MB"),
            (7_800_000.0, "7.8MB"),
        ];
        for (size, want) in cases {
            assert_eq!(human_size_with_precision(size, 3), want, "{size}");
        }
        // 1005 / 1000 is 1.00499999... in binary: rounded down, as Go does.
        assert_eq!(human_size_with_precision(1005.0, 3), "1kB");
        assert_eq!(human_size(999_999.0), "1000kB");
        assert_eq!(human_size(4_261_550.0), "4.262MB");
    }

    #[test]
    fn go_g_format() {
        assert_eq!(format_g(1.0, Some(3)), "1");
        assert_eq!(format_g(10.0, Some(3)), "10");
        assert_eq!(format_g(100.0, Some(2)), "1e+02");
        assert_eq!(format_g(0.0001234, Some(3)), "0.000123");
        assert_eq!(format_g(0.00001234, Some(3)), "1.23e-05");
        assert_eq!(format_g(-2.5, Some(1)), "-2");
        assert_eq!(format_g(3.5, Some(1)), "4");
        // %v (shortest)
        assert_eq!(format_g(1e6, None), "1e+06");
        assert_eq!(format_g(100000.0, None), "100000");
        assert_eq!(format_g(1.5, None), "1.5");
        assert_eq!(format_g(0.0, None), "0");
        assert_eq!(format_g(1e21, None), "1e+21");
        assert_eq!(format_g(123456789.0, None), "1.23456789e+08");
        assert_eq!(format_g(0.00001, None), "1e-05");
        assert_eq!(format_float(1.23456, 'f', Some(2)), "1.23");
        assert_eq!(format_float(2.5, 'f', Some(0)), "2");
        assert_eq!(format_float(1234.5, 'e', Some(2)), "1.23e+03");
        assert_eq!(format_float(0.0, 'e', Some(2)), "0.00e+00");
        assert_eq!(format_float(1e-7, 'e', None), "1e-07");
        assert_eq!(format_float(1.5e20, 'f', None), "150000000000000000000");
        assert_eq!(format_float(-0.25, 'f', None), "-0.25");
    }

    // go-units duration_test.go, TestHumanDuration.
    #[test]
    fn human_duration_matches_go_units() {
        let s = |n: u64| Duration::from_secs(n);
        let m = |n: u64| s(60 * n);
        let h = |n: u64| m(60 * n);
        let day = |n: u64| h(24 * n);
        let week = |n: u64| day(7 * n);
        let month = |n: u64| day(30 * n);
        let year = |n: u64| day(365 * n);
        let cases: Vec<(Duration, &str)> = vec![
            (Duration::from_millis(450), "Less than a second"),
            (s(1), "1 second"),
            (s(45), "45 seconds"),
            (s(46), "46 seconds"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (m(1), "About a minute"),
            (m(3), "3 minutes"),
            (m(35), "35 minutes"),
            (m(35) + s(40), "35 minutes"),
            (m(45), "45 minutes"),
            (m(45) + s(40), "45 minutes"),
            (m(46), "46 minutes"),
            (m(59), "59 minutes"),
            (h(1), "About an hour"),
            (h(1) + m(29), "About an hour"),
            (h(1) + m(31), "2 hours"),
            (h(1) + m(59), "2 hours"),
            (h(3), "3 hours"),
            (h(3) + m(29), "3 hours"),
            (h(3) + m(31), "4 hours"),
            (h(3) + m(59), "4 hours"),
            (h(3) + m(60), "4 hours"),
            (h(24), "24 hours"),
            (day(1) + h(12), "36 hours"),
            (day(2), "2 days"),
            (day(7), "7 days"),
            (day(13) + h(5), "13 days"),
            (week(2), "2 weeks"),
            (week(2) + day(4), "2 weeks"),
            (week(3), "3 weeks"),
            (week(4), "4 weeks"),
            (week(4) + day(3), "4 weeks"),
            (month(1), "4 weeks"),
            (month(1) + week(2), "6 weeks"),
            (month(2), "2 months"),
            (month(2) + week(2), "2 months"),
            (month(3), "3 months"),
            (month(3) + week(1), "3 months"),
            (month(5) + week(2), "5 months"),
            (month(13), "13 months"),
            (month(23), "23 months"),
            (month(24), "24 months"),
            (month(24) + week(2), "2 years"),
            (year(3) + month(2), "3 years"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }
}
