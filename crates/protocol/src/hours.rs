//! When a queue is open: its daily hours, the days of the week it opens and
//! the holidays it stays closed, all in the queue's local time.
//!
//! Owns the one rule SLA clocks follow ([`BusinessHours::add_open_time`]):
//! time counts only while the queue is open. The platform stamps each
//! conversation's deadlines with it; workstations only read the deadlines.
//!
//! On the wire the days and holidays are optional (`days` absent means every
//! day, `holidays` absent means none) and left out when they say nothing,
//! so a queue that uses neither looks exactly as it did before they existed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::entities::UnixMillis;

/// A day of the week, on the wire `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday first, as in China.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    /// The weekday of a day counted from 1970-01-01 (a Thursday).
    pub fn of_day(days_since_epoch: i64) -> Weekday {
        // `rem_euclid(7)` is 0..=6, always an index of ALL.
        Weekday::ALL[usize::try_from((days_since_epoch + 3).rem_euclid(7)).unwrap_or(0)]
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl FromStr for Weekday {
    type Err = String;

    fn from_str(s: &str) -> Result<Weekday, String> {
        Weekday::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a day of the week (mon, tue, … sun)"))
    }
}

/// A set of weekdays; on the wire a list of names (`["mon", "tue"]`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const EVERY_DAY: Weekdays = Weekdays(0b111_1111);
    pub const NONE: Weekdays = Weekdays(0);

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & day.bit() != 0
    }

    pub fn with(self, day: Weekday) -> Weekdays {
        Weekdays(self.0 | day.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_every_day(&self) -> bool {
        *self == Weekdays::EVERY_DAY
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        Weekday::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

impl Default for Weekdays {
    fn default() -> Weekdays {
        Weekdays::EVERY_DAY
    }
}

impl FromIterator<Weekday> for Weekdays {
    fn from_iter<I: IntoIterator<Item = Weekday>>(days: I) -> Weekdays {
        days.into_iter().fold(Weekdays::NONE, Weekdays::with)
    }
}

/// `mon-fri`, `every day`, or the days with commas (`mon,wed,sat`).
impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_every_day() {
            return f.write_str("every day");
        }
        let days: Vec<Weekday> = self.iter().collect();
        let contiguous = days.len() > 2 && days.windows(2).all(|w| w[1] as u8 == w[0] as u8 + 1);
        if let (true, Some(first), Some(last)) = (contiguous, days.first(), days.last()) {
            return write!(f, "{}-{}", first.as_str(), last.as_str());
        }
        let names: Vec<&str> = days.iter().map(|d| d.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Weekdays({self})")
    }
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Weekdays, D::Error> {
        Ok(Vec::<Weekday>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// A calendar date in the queue's local time; on the wire `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate {
    year: u16,
    month: u8,
    day: u8,
}

impl LocalDate {
    /// A real date of the years 1970 to 9999, or `None`.
    pub fn new(year: u16, month: u8, day: u8) -> Option<LocalDate> {
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1970..=9999).contains(&year) && (1..=days_in_month).contains(&day)).then_some(LocalDate {
            year,
            month,
            day,
        })
    }

    /// Days from 1970-01-01 to this date (H. Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (the inverse of
    /// [`LocalDate::days_since_epoch`]); `None` outside 1970 to 9999.
    pub fn from_days_since_epoch(days: i64) -> Option<LocalDate> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        LocalDate::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalDate({self})")
    }
}

impl FromStr for LocalDate {
    type Err = String;

    fn from_str(s: &str) -> Result<LocalDate, String> {
        let bad = || format!("{s:?} is not a date written YYYY-MM-DD (e.g. 2026-10-01)");
        let bytes = s.as_bytes();
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !s
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
        {
            return Err(bad());
        }
        let (year, month, day) = (
            s[0..4].parse().map_err(|_| bad())?,
            s[5..7].parse().map_err(|_| bad())?,
            s[8..10].parse().map_err(|_| bad())?,
        );
        LocalDate::new(year, month, day).ok_or_else(|| format!("{s:?} is not a real date"))
    }
}

impl Serialize for LocalDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LocalDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Opening hours of a queue, in minutes after local midnight, on the days
/// of the week it opens and not on its holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub open_minute: u16,
    pub close_minute: u16,
    /// Offset of local time from UTC, in minutes (China: 480).
    pub utc_offset_minutes: i16,
    /// Days of the week the queue opens; absent, every day.
    #[serde(default, skip_serializing_if = "Weekdays::is_every_day")]
    pub days: Weekdays,
    /// Local dates the queue stays closed all day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<LocalDate>,
}

impl BusinessHours {
    /// Open every day from `open_minute` to `close_minute`, no holidays.
    pub const fn daily(open_minute: u16, close_minute: u16, utc_offset_minutes: i16) -> Self {
        BusinessHours {
            open_minute,
            close_minute,
            utc_offset_minutes,
            days: Weekdays::EVERY_DAY,
            holidays: Vec::new(),
        }
    }

    /// Whether the queue opens at all on this local day.
    fn opens_on(&self, days_since_epoch: i64) -> bool {
        self.days.contains(Weekday::of_day(days_since_epoch))
            && !self
                .holidays
                .iter()
                .any(|h| h.days_since_epoch() == days_since_epoch)
    }

    /// The moment `secs` of opening time have passed since `start`: SLA
    /// clocks run only while the queue is open (a contact at 23:00 with a
    /// 60-second first-response target is due at 09:01 the next morning; on
    /// Friday night, at 09:01 on Monday for a queue open Monday to Friday;
    /// a holiday is skipped like a day the queue never opens).
    /// Hours with `open_minute >= close_minute`, or no open day in the week,
    /// count as always open (a queue is never closed for ever).
    pub fn add_open_time(&self, start: UnixMillis, secs: u32) -> UnixMillis {
        const DAY: i64 = 24 * 60 * 60 * 1000;
        let offset = i64::from(self.utc_offset_minutes) * 60_000;
        let (open, close) = (
            i64::from(self.open_minute) * 60_000,
            i64::from(self.close_minute.min(24 * 60)) * 60_000,
        );
        let mut left = i64::from(secs) * 1000;
        if open >= close || self.days.is_empty() {
            return start + left;
        }
        let mut local = start + offset;
        // Holidays are finite and at least one weekday opens, so this ends.
        loop {
            let day = local.div_euclid(DAY) * DAY;
            if !self.opens_on(day / DAY) {
                local = day + DAY;
                continue;
            }
            if local < day + open {
                local = day + open;
            }
            if local >= day + close {
                local = day + DAY;
                continue;
            }
            let window = day + close - local;
            if left <= window {
                return local + left - offset;
            }
            left -= window;
            local = day + DAY;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BusinessHours, LocalDate, Weekday, Weekdays};

    /// 09:00–22:00 China time, every day.
    const HOURS: BusinessHours = BusinessHours::daily(9 * 60, 22 * 60, 480);
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;

    /// 2026-11-30 (a Monday) at `h:m` China time, in Unix ms.
    fn china(h: i64, m: i64) -> i64 {
        // 2026-11-30T00:00:00+08:00
        1_795_968_000_000 + h * HOUR + m * MIN
    }

    #[test]
    fn dates_count_from_the_epoch_both_ways() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2026-12-04",
            "2100-03-01",
            "9999-12-31",
        ] {
            let date: LocalDate = text.parse().unwrap();
            let back = LocalDate::from_days_since_epoch(date.days_since_epoch()).unwrap();
            assert_eq!(back, date, "{text}");
        }
        assert_eq!(LocalDate::from_days_since_epoch(-1), None);
    }

    fn weekdays_9_to_18() -> BusinessHours {
        BusinessHours {
            days: [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ]
            .into_iter()
            .collect(),
            ..BusinessHours::daily(9 * 60, 18 * 60, 480)
        }
    }

    #[test]
    fn inside_opening_hours_the_clock_simply_runs() {
        assert_eq!(HOURS.add_open_time(china(10, 0), 120), china(10, 2));
    }

    #[test]
    fn a_contact_at_night_is_due_after_the_next_opening() {
        assert_eq!(HOURS.add_open_time(china(23, 0), 60), china(24 + 9, 1));
        assert_eq!(HOURS.add_open_time(china(3, 0), 60), china(9, 1));
    }

    #[test]
    fn time_left_at_closing_carries_over_to_the_next_morning() {
        // 21:50 + 30 min: 10 min today, 20 min tomorrow from 09:00.
        assert_eq!(
            HOURS.add_open_time(china(21, 50), 30 * 60),
            china(24 + 9, 20)
        );
        // Two days of open time span two nights.
        let two_days = 2 * 13 * 60 * 60;
        assert_eq!(
            HOURS.add_open_time(china(9, 0), two_days),
            china(24 + 22, 0)
        );
    }

    #[test]
    fn round_the_clock_hours_are_always_open() {
        let always = BusinessHours::daily(0, 24 * 60, 480);
        assert_eq!(always.add_open_time(china(23, 59), 120), china(24, 1));
        let odd = BusinessHours::daily(600, 600, 0);
        assert_eq!(odd.add_open_time(5, 1), 1005);
    }

    #[test]
    fn the_weekend_is_skipped_by_a_queue_open_monday_to_friday() {
        let hours = weekdays_9_to_18();
        // Friday 2026-12-04, 17:50: 10 minutes on Friday, then Monday 09:00.
        let friday = china(4 * 24 + 17, 50);
        assert_eq!(
            hours.add_open_time(friday, 30 * 60),
            china(7 * 24 + 9, 20),
            "20 minutes left over go to Monday morning, not Saturday"
        );
        // A contact on Saturday is due on Monday.
        let saturday = china(5 * 24 + 11, 0);
        assert_eq!(hours.add_open_time(saturday, 60), china(7 * 24 + 9, 1));
        // Every day open: Saturday counts.
        assert_eq!(
            BusinessHours::daily(9 * 60, 18 * 60, 480).add_open_time(saturday, 60),
            saturday + MIN
        );
    }

    #[test]
    fn a_holiday_is_closed_all_day() {
        let mut hours = weekdays_9_to_18();
        hours.holidays = vec!["2026-12-01".parse().expect("date")];
        // Monday 17:59 + 2 min: 1 min Monday, Tuesday is a holiday, Wednesday 09:01.
        assert_eq!(
            hours.add_open_time(china(17, 59), 120),
            china(2 * 24 + 9, 1)
        );
        // A contact on the holiday itself waits for Wednesday.
        assert_eq!(
            hours.add_open_time(china(24 + 10, 0), 60),
            china(2 * 24 + 9, 1)
        );
        // Holidays over the weekend and Monday: the next Tuesday.
        hours.holidays.push("2026-12-07".parse().expect("date"));
        assert_eq!(
            hours.add_open_time(china(4 * 24 + 18, 0), 60),
            china(8 * 24 + 9, 1)
        );
    }

    #[test]
    fn no_open_day_counts_as_always_open_rather_than_never_due() {
        let hours = BusinessHours {
            days: Weekdays::NONE,
            ..BusinessHours::daily(9 * 60, 18 * 60, 480)
        };
        assert_eq!(hours.add_open_time(china(3, 0), 60), china(3, 1));
    }

    #[test]
    fn days_are_counted_in_local_time() {
        // Sunday 2026-12-06 23:30 UTC is Monday 07:30 in China: due Monday 09:01.
        let hours = weekdays_9_to_18();
        let sunday_utc = china(7 * 24 + 7, 30);
        assert_eq!(hours.add_open_time(sunday_utc, 60), china(7 * 24 + 9, 1));
        assert_eq!(Weekday::of_day(0), Weekday::Thu, "1970-01-01");
        assert_eq!(
            Weekday::of_day((china(0, 0) + 8 * HOUR) / DAY),
            Weekday::Mon,
            "2026-11-30"
        );
    }

    #[test]
    fn dates_are_read_strictly() {
        let date: LocalDate = "2028-02-29".parse().expect("a leap day");
        assert_eq!(date.to_string(), "2028-02-29");
        assert_eq!(
            "1970-01-02"
                .parse::<LocalDate>()
                .map(LocalDate::days_since_epoch),
            Ok(1)
        );
        assert_eq!(
            "2026-11-30"
                .parse::<LocalDate>()
                .map(LocalDate::days_since_epoch),
            Ok((china(0, 0) + 8 * HOUR) / DAY)
        );
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-10-01",
            "2026/10/01",
            "",
        ] {
            assert!(bad.parse::<LocalDate>().is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn old_hours_read_as_every_day_and_plain_hours_are_written_as_before() {
        let old = r#"{"open_minute":540,"close_minute":1080,"utc_offset_minutes":480}"#;
        let hours: BusinessHours = serde_json::from_str(old).expect("old record reads");
        assert_eq!(hours, BusinessHours::daily(540, 1080, 480));
        assert_eq!(serde_json::to_string(&hours).expect("json"), old);

        let hours = BusinessHours {
            holidays: vec!["2026-10-01".parse().expect("date")],
            ..weekdays_9_to_18()
        };
        let json = serde_json::to_string(&hours).expect("json");
        assert!(
            json.contains(r#""days":["mon","tue","wed","thu","fri"]"#)
                && json.contains(r#""holidays":["2026-10-01"]"#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<BusinessHours>(&json).expect("reads back"),
            hours
        );
        assert_eq!(hours.days.to_string(), "mon-fri");
    }
}
