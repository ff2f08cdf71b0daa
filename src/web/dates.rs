//! Dates as people read them: "5 minutes ago", "in 3 hours", "Dec 2, 2026", with the exact
//! time (RFC 3339, UTC) kept for a `<time>` element's `datetime` and its hover title.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

pub struct When {
    /// RFC 3339, for `datetime` and the title shown on hover.
    pub exact: String,
    /// What the page says.
    pub text: String,
}

impl When {
    pub fn at(unix: i64, now: i64) -> Self {
        Self {
            exact: crate::clock::rfc3339(unix),
            text: describe(unix, now),
        }
    }

    /// From the API's RFC 3339 form; text that is no date is shown as it is.
    pub fn parse(rfc3339: &str, now: i64) -> Self {
        match OffsetDateTime::parse(rfc3339, &Rfc3339) {
            Ok(t) => Self::at(t.unix_timestamp(), now),
            Err(_) => Self {
                exact: rfc3339.to_owned(),
                text: rfc3339.to_owned(),
            },
        }
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Within a week either way, how far; beyond it, the day.
fn describe(unix: i64, now: i64) -> String {
    let past = now >= unix;
    let gap = (now - unix).abs();
    if gap < MINUTE {
        return if past { "just now" } else { "in a moment" }.to_owned();
    }
    let (n, unit) = match gap {
        MINUTE..HOUR => (gap / MINUTE, "minute"),
        HOUR..DAY => (gap / HOUR, "hour"),
        DAY..WEEK => (gap / DAY, "day"),
        _ => return day(unix),
    };
    let plural = if n == 1 { "" } else { "s" };
    if past {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
    }
}

/// "Dec 2, 2026".
pub fn day(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[month repr:short] [day padding:none], [year]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_212_800; // 2026-12-02 12:00 UTC

    #[test]
    fn near_times_are_distances_and_far_ones_are_days() {
        assert_eq!(describe(NOW - 20, NOW), "just now");
        assert_eq!(describe(NOW - 5 * MINUTE, NOW), "5 minutes ago");
        assert_eq!(describe(NOW - HOUR, NOW), "1 hour ago");
        assert_eq!(describe(NOW - 3 * DAY, NOW), "3 days ago");
        assert_eq!(describe(NOW + 12 * HOUR, NOW), "in 12 hours");
        assert_eq!(describe(NOW + 30 * DAY, NOW), "Jan 1, 2027");
        assert_eq!(describe(NOW - 400 * DAY, NOW), "Oct 28, 2025");
        let when = When::parse("2026-12-02T11:55:00Z", NOW);
        assert_eq!(when.exact, "2026-12-02T11:55:00Z");
        assert_eq!(when.text, "5 minutes ago");
        assert_eq!(When::parse("soon", NOW).text, "soon");
    }
}
