//! Partition keys: `strftime` of a window's start, with Dagster's DST suffix,
//! and the strict inverse.

use std::fmt::Write as _;

use chrono::format::{Item, Parsed, StrftimeItems, parse};
use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::resolve::earliest;
use crate::partitions::error::{PartitionsError, Result};

/// Length of the `%z` suffix Dagster appends (`-0800`).
const SUFFIX_LEN: usize = 5;

/// Checks that chrono understands every specifier of `fmt`.
pub(crate) fn check_format(fmt: &str) -> Result<()> {
    if fmt.is_empty() {
        return Err(invalid_format(fmt, "the format is empty"));
    }
    if StrftimeItems::new(fmt).any(|item| matches!(item, Item::Error)) {
        return Err(invalid_format(
            fmt,
            "it has an unknown or incomplete % specifier",
        ));
    }
    Ok(())
}

fn invalid_format(fmt: &str, reason: &str) -> PartitionsError {
    PartitionsError::InvalidFormat {
        fmt: fmt.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The key of the window starting at `tick`: `strftime(tick, fmt)` in `tz`,
/// plus the UTC offset (`-0800`) when `tick` is the second occurrence of a
/// repeated local time and `fmt` has no `%z` (Dagster's
/// `POST_DST_TRANSITION_SUFFIX`).
pub(crate) fn format_key(tz: Tz, fmt: &str, tick: DateTime<Utc>) -> Result<String> {
    let local = tick.with_timezone(&tz);
    let mut key = String::new();
    write!(key, "{}", local.format(fmt)).map_err(|_| invalid_format(fmt, "formatting failed"))?;
    if !fmt.contains("%z") && is_second_occurrence(tz, local.naive_local(), tick) {
        write!(key, "{}", local.format("%z")).map_err(|_| invalid_format(fmt, "%z failed"))?;
    }
    Ok(key)
}

fn is_second_occurrence(tz: Tz, naive: NaiveDateTime, tick: DateTime<Utc>) -> bool {
    matches!(tz.from_local_datetime(&naive), LocalResult::Ambiguous(_, later) if later == tick)
}

/// The instant a key names, read leniently (no round-trip check; the
/// definition checks that). A trailing `±HHMM` picks the occurrence of a
/// repeated local time; without it the first occurrence is meant.
pub(crate) fn parse_key(tz: Tz, fmt: &str, key: &str) -> Result<DateTime<Utc>, String> {
    let whole = match parse_fields(fmt, key) {
        Ok(parsed) => return instant(tz, &parsed),
        Err(error) => error,
    };
    let split = key
        .len()
        .checked_sub(SUFFIX_LEN)
        .filter(|i| key.is_char_boundary(*i));
    let with_suffix = split.map(|i| key.split_at(i)).and_then(|(head, suffix)| {
        let mut parsed = parse_fields(fmt, head).ok()?;
        let mut offset = Parsed::new();
        parse(&mut offset, suffix, StrftimeItems::new("%z")).ok()?;
        parsed.set_offset(i64::from(offset.offset()?)).ok()?;
        Some(parsed)
    });
    match with_suffix {
        Some(parsed) => instant(tz, &parsed),
        None => Err(mismatch(whole, fmt)),
    }
}

/// Why a text does not parse by `fmt`, in a user's words (chrono's own
/// wording, such as "premature end of input", names parser internals), with
/// an example of a text that does.
fn mismatch(error: chrono::format::ParseError, fmt: &str) -> String {
    let what = describe(error);
    let mut example = String::new();
    let sample = Utc.with_ymd_and_hms(2024, 1, 31, 23, 59, 0).single();
    match sample.map(|t| write!(example, "{}", t.format(fmt))) {
        Some(Ok(())) => format!("{what} (keys of this format look like {example:?})"),
        _ => what.to_owned(),
    }
}

/// A `start`, `end` or exclusion date: parsed by `fmt` (fields the format
/// lacks default as in `strptime`: January, the 1st, midnight), else as
/// `%Y-%m-%d` (midnight), else as `%Y-%m-%d %H:%M:%S`, in `tz`.
pub(crate) fn parse_date(tz: Tz, fmt: &str, value: &str) -> Result<DateTime<Utc>> {
    [fmt, "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| {
            let parsed = parse_fields(f, value).ok()?;
            naive(&parsed, BareWeek::Ignored).ok()
        })
        .map(|n| earliest(tz, n))
        .ok_or_else(|| PartitionsError::MalformedDate {
            value: value.to_owned(),
            fmt: fmt.to_owned(),
        })
}

fn parse_fields(fmt: &str, text: &str) -> chrono::format::ParseResult<Parsed> {
    let mut parsed = Parsed::new();
    parse(&mut parsed, text, StrftimeItems::new(fmt))?;
    Ok(parsed)
}

/// What a week number without a weekday (`%U`, `%W`, `%V` alone) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BareWeek {
    /// Nothing, as in `strptime`: the date is January 1st (how Dagster reads
    /// a definition's `start` and `end`).
    Ignored,
    /// The week's first day (Sunday for `%U`, Monday for `%W` and `%V`), so a
    /// weekly key parses back to its own week.
    FirstDay,
}

/// A parse error in a user's words.
fn describe(error: chrono::format::ParseError) -> &'static str {
    use chrono::format::ParseErrorKind;
    match error.kind() {
        ParseErrorKind::OutOfRange => "a field is out of range (no such date or time)",
        ParseErrorKind::Impossible => "no date has these fields",
        ParseErrorKind::NotEnough => "it lacks fields the format needs",
        ParseErrorKind::TooShort => "it ends before the format does",
        ParseErrorKind::TooLong => "it has characters after the format's end",
        _ => "it does not have the format's shape",
    }
}

/// The local time of `parsed`. Fields the format does not have default as
/// in `strptime` (which Dagster parses keys with): the year 1900, January,
/// the 1st, midnight, and AM for a 12-hour clock without `%p`. A date given
/// by day of year (`%j`) or by week and weekday keeps it; a week without a
/// weekday is read as `bare_week` says.
fn naive(parsed: &Parsed, bare_week: BareWeek) -> Result<NaiveDateTime, String> {
    let text = |e: chrono::format::ParseError| describe(e).to_owned();
    let bare = has_week(parsed) && parsed.weekday().is_none();
    let mut p = if bare && bare_week == BareWeek::Ignored {
        without_week(parsed).map_err(text)?
    } else {
        parsed.clone()
    };
    if bare && bare_week == BareWeek::FirstDay {
        let first = if p.week_from_sun().is_some() {
            chrono::Weekday::Sun
        } else {
            chrono::Weekday::Mon
        };
        p.set_weekday(first).map_err(text)?;
    }
    let has_year = p.year().is_some()
        || p.year_div_100().is_some()
        || p.year_mod_100().is_some()
        || p.isoyear().is_some();
    let has_date_in_year = p.ordinal().is_some() || has_week(&p);
    if !has_year {
        p.set_year(1900).map_err(text)?;
    }
    if p.month().is_none() && !has_date_in_year {
        p.set_month(1).map_err(text)?;
    }
    if p.day().is_none() && !has_date_in_year {
        p.set_day(1).map_err(text)?;
    }
    if p.hour_mod_12().is_none() {
        p.set_hour(0).map_err(text)?;
    } else if p.hour_div_12().is_none() {
        p.set_ampm(false).map_err(text)?;
    }
    if p.minute().is_none() {
        p.set_minute(0).map_err(text)?;
    }
    if p.second().is_none() {
        p.set_second(0).map_err(text)?;
    }
    let date = p.to_naive_date().map_err(text)?;
    let time = p.to_naive_time().map_err(text)?;
    Ok(date.and_time(time))
}

/// Whether `p` has a week number.
fn has_week(p: &Parsed) -> bool {
    p.week_from_sun().is_some() || p.week_from_mon().is_some() || p.isoweek().is_some()
}

/// A `Parsed` setter.
type Setter = fn(&mut Parsed, i64) -> chrono::format::ParseResult<()>;

/// `p` without its week number: the year, month, day, day of year and time.
fn without_week(p: &Parsed) -> chrono::format::ParseResult<Parsed> {
    let mut q = Parsed::new();
    let copies: [(Option<i32>, Setter); 3] = [
        (p.year(), Parsed::set_year),
        (p.year_div_100(), Parsed::set_year_div_100),
        (p.year_mod_100(), Parsed::set_year_mod_100),
    ];
    for (value, set) in copies {
        if let Some(v) = value {
            set(&mut q, i64::from(v))?;
        }
    }
    let unsigned: [(Option<u32>, Setter); 5] = [
        (p.month(), Parsed::set_month),
        (p.day(), Parsed::set_day),
        (p.ordinal(), Parsed::set_ordinal),
        (p.minute(), Parsed::set_minute),
        (p.second(), Parsed::set_second),
    ];
    for (value, set) in unsigned {
        if let Some(v) = value {
            set(&mut q, i64::from(v))?;
        }
    }
    if let Some(hour) = p.hour_mod_12() {
        q.set_hour12(if hour == 0 { 12 } else { i64::from(hour) })?;
    }
    if let Some(pm) = p.hour_div_12() {
        q.set_ampm(pm == 1)?;
    }
    if let Some(offset) = p.offset() {
        q.set_offset(i64::from(offset))?;
    }
    Ok(q)
}

fn instant(tz: Tz, parsed: &Parsed) -> Result<DateTime<Utc>, String> {
    let naive = naive(parsed, BareWeek::FirstDay)?;
    let candidates = match tz.from_local_datetime(&naive) {
        LocalResult::None => return Err(format!("{naive} does not exist in {tz}")),
        LocalResult::Single(dt) => vec![dt],
        LocalResult::Ambiguous(a, b) => vec![a, b],
    };
    let chosen = match parsed.offset() {
        None => candidates.first(),
        Some(offset) => candidates
            .iter()
            .find(|dt| chrono::Offset::fix(dt.offset()).local_minus_utc() == offset),
    };
    chosen
        .map(|dt| dt.with_timezone(&Utc))
        .ok_or_else(|| format!("{naive} has no occurrence with that UTC offset in {tz}"))
}
