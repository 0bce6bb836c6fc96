//! Queues as an administrator keeps them: `queue add`, `queue set` and
//! `queue list` on a data folder.
//!
//! A queue is a `Record::Queue` written through the change log like any
//! other record, so every workstation receives it on its next pull and the
//! web chat page `/chat/{id}` exists at once. This module owns reading the
//! administrator's words (`mon-fri`, `09:00-18:00`, `+08:00`, `15m`,
//! `2026-10-01`) and the rules a queue must keep before it is written (names
//! present, the first response due no later than the resolution, at least
//! one open day); a refused change writes nothing.

use homedesk_protocol::{
    BusinessHours, EntityKind, LocalDate, Queue, Record, UnixMillis, Weekday, Weekdays,
};

use crate::storage::{Storage, everyone};

/// Default targets of a new queue: answer within a minute, resolve within a day.
pub const DEFAULT_FIRST_RESPONSE_SECS: u32 = 60;
pub const DEFAULT_RESOLVE_SECS: u32 = 24 * 3600;

/// What `queue add` or `queue set` says to change; `None` leaves a field as
/// it is (or, for a new queue, at its default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueChange {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub days: Option<Weekdays>,
    pub hours: Option<OpenHours>,
    pub utc_offset_minutes: Option<i16>,
    pub holidays: Option<Vec<LocalDate>>,
    pub first_response_secs: Option<u32>,
    pub resolve_secs: Option<u32>,
    /// `Some(None)`: back to the platform's offer timeout.
    pub offer_timeout_secs: Option<Option<u32>>,
    pub skills: Option<Vec<String>>,
}

/// Daily opening time, in minutes after local midnight (`close` up to 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHours {
    pub open_minute: u16,
    pub close_minute: u16,
}

impl QueueChange {
    fn apply_to(self, queue: &mut Queue) {
        let hours = &mut queue.business_hours;
        if let Some(value) = self.name_zh {
            queue.name_zh = value;
        }
        if let Some(value) = self.name_en {
            queue.name_en = value;
        }
        if let Some(days) = self.days {
            hours.days = days;
        }
        if let Some(open) = self.hours {
            hours.open_minute = open.open_minute;
            hours.close_minute = open.close_minute;
        }
        if let Some(offset) = self.utc_offset_minutes {
            hours.utc_offset_minutes = offset;
        }
        if let Some(mut holidays) = self.holidays {
            holidays.sort();
            holidays.dedup();
            hours.holidays = holidays;
        }
        if let Some(secs) = self.first_response_secs {
            queue.first_response_secs = secs;
        }
        if let Some(secs) = self.resolve_secs {
            queue.resolve_secs = secs;
        }
        if let Some(secs) = self.offer_timeout_secs {
            queue.offer_timeout_secs = secs;
        }
        if let Some(skills) = self.skills {
            queue.skills = skills;
        }
    }
}

/// Checks a queue id; the message says what to use.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "queue id {id:?}: use 1 to 32 lowercase letters, digits, - or _, starting with a letter \
             or digit (e.g. aftersales); it appears in the chat page's address"
        ))
    }
}

/// The rules a queue keeps before it is stored.
pub fn check(queue: &Queue) -> Result<(), String> {
    check_id(&queue.id)?;
    if queue.name_zh.trim().is_empty() {
        return Err("--name-zh: must not be empty (the name agents see in Chinese)".into());
    }
    if queue.name_en.trim().is_empty() {
        return Err("--name-en: must not be empty (the name agents see in English)".into());
    }
    if queue.first_response_secs == 0 || queue.first_response_secs > queue.resolve_secs {
        return Err(format!(
            "--first-response ({}) must be more than 0 and at most --resolve ({})",
            duration(queue.first_response_secs),
            duration(queue.resolve_secs)
        ));
    }
    if queue.business_hours.days.is_empty() {
        return Err("--days: the queue must open on at least one day".into());
    }
    if queue.skills.iter().any(|s| s.trim().is_empty()) {
        return Err("--skills: a skill must not be empty".into());
    }
    Ok(())
}

/// A queue with every field not given at its default: open every day round
/// the clock in China time, no holidays, the default targets, the platform's
/// offer timeout, no skills needed.
fn new_queue(id: &str) -> Queue {
    Queue {
        id: id.to_owned(),
        name_zh: String::new(),
        name_en: String::new(),
        first_response_secs: DEFAULT_FIRST_RESPONSE_SECS,
        resolve_secs: DEFAULT_RESOLVE_SECS,
        skills: Vec::new(),
        business_hours: BusinessHours::daily(0, 24 * 60, 8 * 60),
        vanished_grace_secs: homedesk_protocol::DEFAULT_VANISHED_GRACE_SECS,
        away_after_missed_offers: homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS,
        offer_timeout_secs: None,
    }
}

/// Adds a queue; refuses one that exists (change it with [`set`]).
pub fn add(
    storage: &dyn Storage,
    id: &str,
    change: QueueChange,
    now: UnixMillis,
) -> anyhow::Result<Queue> {
    check_id(id).map_err(anyhow::Error::msg)?;
    let mut queue = new_queue(id);
    change.apply_to(&mut queue);
    check(&queue).map_err(anyhow::Error::msg)?;
    storage.write_with(|tx| {
        if tx.get(EntityKind::Queue, id)?.is_some() {
            anyhow::bail!("queue {id:?} exists already; change it with `queue set {id} …`");
        }
        tx.put(&Record::Queue(queue.clone()), &everyone(), now)?;
        Ok(queue)
    })
}

/// Changes the fields given of an existing queue. Writes nothing when the
/// queue would be the same (workstations download nothing).
pub fn set(
    storage: &dyn Storage,
    id: &str,
    change: QueueChange,
    now: UnixMillis,
) -> anyhow::Result<Queue> {
    storage.write_with(|tx| {
        let Some(Record::Queue(old)) = tx.get(EntityKind::Queue, id)? else {
            anyhow::bail!("queue {id:?} does not exist; add it with `queue add {id} …`");
        };
        let mut queue = old.clone();
        change.apply_to(&mut queue);
        check(&queue).map_err(anyhow::Error::msg)?;
        if queue != old {
            tx.put(&Record::Queue(queue.clone()), &everyone(), now)?;
        }
        Ok(queue)
    })
}

/// Every queue, by id.
pub fn list(storage: &dyn Storage) -> anyhow::Result<Vec<Queue>> {
    let mut queues: Vec<Queue> = storage
        .read_with(|tx| tx.list(EntityKind::Queue))?
        .into_iter()
        .filter_map(|r| match r {
            Record::Queue(q) => Some(q),
            _ => None,
        })
        .collect();
    queues.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(queues)
}

/// A queue in a few lines, in the words the flags use.
pub fn describe(queue: &Queue, platform_offer_timeout: &str) -> String {
    let hours = &queue.business_hours;
    let mut text = format!(
        "{}  {} / {}\n  open {} {}-{} (UTC{})",
        queue.id,
        queue.name_zh,
        queue.name_en,
        hours.days,
        clock(hours.open_minute),
        clock(hours.close_minute),
        offset(hours.utc_offset_minutes)
    );
    if !hours.holidays.is_empty() {
        let dates: Vec<String> = hours.holidays.iter().map(ToString::to_string).collect();
        text += &format!("; closed {}", dates.join(", "));
    }
    text += &format!(
        "\n  first response {}, resolve {}, offer timeout {}",
        duration(queue.first_response_secs),
        duration(queue.resolve_secs),
        queue.offer_timeout_secs.map_or_else(
            || format!("{platform_offer_timeout} (the platform's)"),
            duration
        )
    );
    if !queue.skills.is_empty() {
        text += &format!("\n  skills {}", queue.skills.join(","));
    }
    text
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn offset(minutes: i16) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let abs = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
}

/// `90s`, `15m`, `24h`, `2d`, or `1h30m` when it is not a whole unit.
pub fn duration(secs: u32) -> String {
    match secs {
        s if s > 0 && s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        s if s > 0 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s > 0 && s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

// ---- the administrator's words ------------------------------------------

/// Seconds: `90`, `90s`, `15m`, `24h`, `2d` (at least 1 second).
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let accepted = "give seconds (e.g. 90) or a number with s, m, h or d (90s, 15m, 24h, 2d)";
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, 's'),
    };
    let factor: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("{text:?}: {accepted}")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: {accepted}"))?;
    match u32::try_from(n.saturating_mul(factor)) {
        Ok(0) => Err(format!("{text:?}: must be at least 1 second")),
        Ok(secs) => Ok(secs),
        Err(_) => Err(format!("{text:?}: too long (at most about 136 years)")),
    }
}

/// Like [`parse_duration`], or `default` for the platform's setting.
pub fn parse_offer_timeout(text: &str) -> Result<Option<u32>, String> {
    if text.trim() == "default" {
        return Ok(None);
    }
    parse_duration(text)
        .map(Some)
        .map_err(|e| format!("{e}; or `default` for the platform's setting"))
}

/// `mon-fri`, `mon,wed,sat`, `sat-sun`, `mon-wed,sat`, `every-day`.
pub fn parse_days(text: &str) -> Result<Weekdays, String> {
    let accepted =
        "give days as mon-fri, mon,wed,sat or every-day (days: mon tue wed thu fri sat sun)";
    let text = text.trim().to_ascii_lowercase();
    if text == "every-day" {
        return Ok(Weekdays::EVERY_DAY);
    }
    let mut days = Weekdays::NONE;
    for part in text.split(',').map(str::trim) {
        let day = |name: &str| {
            name.parse::<Weekday>()
                .map_err(|_| format!("{name:?} is not a day; {accepted}"))
        };
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day(first.trim())? as usize, day(last.trim())? as usize);
                // `fri-mon` wraps over the weekend.
                let mut i = first;
                loop {
                    days = days.with(Weekday::ALL[i]);
                    if i == last {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None if part.is_empty() => return Err(format!("{text:?}: {accepted}")),
            None => days = days.with(day(part)?),
        }
    }
    Ok(days)
}

/// `09:00-18:00`; `00:00-24:00` is all day.
pub fn parse_hours(text: &str) -> Result<OpenHours, String> {
    let accepted = "give opening hours as HH:MM-HH:MM, e.g. 09:00-18:00 (00:00-24:00 is all day)";
    let bad = || format!("{text:?}: {accepted}");
    let (open, close) = text.trim().split_once('-').ok_or_else(bad)?;
    let minute = |t: &str| -> Result<u16, String> {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m >= 60 || h > 24 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    };
    let (open_minute, close_minute) = (minute(open)?, minute(close)?);
    if open_minute >= close_minute {
        return Err(format!(
            "{text:?}: the queue must open before it closes on the same day; {accepted}"
        ));
    }
    Ok(OpenHours {
        open_minute,
        close_minute,
    })
}

/// `+08:00`, `-05:30`, `+00:00`: the queue's local time against UTC.
pub fn parse_utc_offset(text: &str) -> Result<i16, String> {
    let accepted =
        "give the offset from UTC as +HH:MM or -HH:MM, from -12:00 to +14:00 (China: +08:00)";
    let bad = || format!("{text:?}: {accepted}");
    let text = text.trim();
    let sign: i16 = match text.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => return Err(bad()),
    };
    let (h, m) = text[1..].split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i16, i16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let minutes = sign * (h * 60 + m);
    if m >= 60 || !(-12 * 60..=14 * 60).contains(&minutes) {
        return Err(bad());
    }
    Ok(minutes)
}

/// `2026-10-01` (a comma list is split by the command line).
pub fn parse_holiday(text: &str) -> Result<LocalDate, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("{e}; give holidays as dates, e.g. 2026-10-01,2026-10-02"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds_or_with_a_unit() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        for bad in [
            "",
            "0",
            "-5",
            "1.5h",
            "15 minutes",
            "h",
            "10w",
            "99999999999",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(parse_offer_timeout("default"), Ok(None));
        assert_eq!(parse_offer_timeout("45"), Ok(Some(45)));
        assert_eq!(duration(86_400), "1d");
        assert_eq!(duration(900), "15m");
        assert_eq!(duration(90), "90s");
    }

    #[test]
    fn days_as_ranges_lists_or_every_day() {
        let days = |t| parse_days(t).map(|d| d.to_string());
        assert_eq!(days("mon-fri").as_deref(), Ok("mon-fri"));
        assert_eq!(days("Mon,Wed,Sat").as_deref(), Ok("mon,wed,sat"));
        assert_eq!(days("every-day").as_deref(), Ok("every day"));
        assert_eq!(days("mon-sun").as_deref(), Ok("every day"));
        assert_eq!(days("fri-mon").as_deref(), Ok("mon,fri,sat,sun"));
        assert_eq!(days("mon-wed,sat").as_deref(), Ok("mon,tue,wed,sat"));
        for bad in ["", "monday", "mon,,tue", "mon-", "weekdays"] {
            let err = parse_days(bad).expect_err(bad);
            assert!(err.contains("mon-fri"), "says what is accepted: {err}");
        }
    }

    #[test]
    fn hours_offsets_and_holidays() {
        assert_eq!(
            parse_hours("09:00-18:00"),
            Ok(OpenHours {
                open_minute: 540,
                close_minute: 1080
            })
        );
        assert_eq!(parse_hours("00:00-24:00").map(|h| h.close_minute), Ok(1440));
        for bad in [
            "9-18",
            "09:00",
            "18:00-09:00",
            "09:00-24:30",
            "09:60-10:00",
            "9:00-18:00",
        ] {
            assert!(parse_hours(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(parse_utc_offset("+08:00"), Ok(480));
        assert_eq!(parse_utc_offset("-05:30"), Ok(-330));
        for bad in ["08:00", "+8", "+15:00", "-12:30", "+08:75"] {
            assert!(parse_utc_offset(bad).is_err(), "{bad:?} is refused");
        }
        assert!(parse_holiday("2026-10-01").is_ok());
        assert!(parse_holiday("2026-02-30").is_err());
    }
}
