//! Calendar dates from Unix time, for hovers ("locked 2024-05-29, 180 days
//! ago") and event timestamps (RFC 3339). Pure: the caller passes "now".

/// Days since 1970-01-01 to a (year, month, day) in the proleptic
/// Gregorian calendar (the civil-from-days algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2024-05-29` for a Unix time in seconds (UTC).
pub fn date(unix_secs: i64) -> String {
    let (y, m, d) = civil_from_days(unix_secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2024-05-29T08:13:03.123Z` (RFC 3339, UTC, milliseconds).
pub fn rfc3339(unix_millis: i64) -> String {
    let secs = unix_millis.div_euclid(1000);
    let millis = unix_millis.rem_euclid(1000);
    let in_day = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}.{millis:03}Z",
        date(secs),
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// "3 days ago", "5 months ago", "in the future" for an age in seconds.
pub fn age(seconds: i64) -> String {
    if seconds < 0 {
        return "in the future".into();
    }
    let days = seconds / 86_400;
    let (n, unit) = match days {
        0 => match seconds / 3600 {
            0 => return "less than an hour ago".into(),
            h => (h, "hour"),
        },
        1..=59 => (days, "day"),
        60..=729 => (days / 30, "month"),
        _ => (days / 365, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_716_948_383), "2024-05-29");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
        assert_eq!(rfc3339(1_716_948_383_042), "2024-05-29T02:06:23.042Z");
    }

    #[test]
    fn ages() {
        assert_eq!(age(30), "less than an hour ago");
        assert_eq!(age(7200), "2 hours ago");
        assert_eq!(age(86_400), "1 day ago");
        assert_eq!(age(90 * 86_400), "3 months ago");
        assert_eq!(age(800 * 86_400), "2 years ago");
        assert_eq!(age(-5), "in the future");
    }
}
