//! What a compaction keeps of one series (one meter's register), pure: no SQL, no clock.
//!
//! Of the readings older than the full-resolution period a series keeps:
//! - its first reading (so a chart starting at its first day has the same reference);
//! - the last reading of each local day (day and month consumption are differences of
//!   these, so they stay the same value for value);
//! - the first reading at or after each local month start (the usual billing dates: a
//!   billing value read at such a date finds the same reading);
//! - around each anchor of its meter (an info code's start or end, a meter exchange, the
//!   first telegram of each new target date): the last reading at or before it and the
//!   first at or after it.
//!
//! Everything else of the window goes, as runs of consecutive readings, so a run is one
//! primary-key range to delete.

/// The local calendar over the compaction window: midnights, ascending.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// Every local midnight from the window's first day to the end of its last day.
    pub days: Vec<i64>,
    /// The local midnights starting a month, within the window.
    pub months: Vec<i64>,
}

impl Calendar {
    /// Index of the local day holding `ts` (days before the first midnight share index 0).
    fn day_of(&self, ts: i64) -> usize {
        self.days.partition_point(|&d| d <= ts)
    }
}

/// For each reading time of `ts` (ascending, all inside the window), whether it is kept.
/// `anchors` (ascending) are the meter's times whose readings around are kept.
pub fn keep(ts: &[i64], cal: &Calendar, anchors: &[i64]) -> Vec<bool> {
    let n = ts.len();
    let mut keep = vec![false; n];
    if n == 0 {
        return keep;
    }
    keep[0] = true;
    for i in 0..n {
        if i + 1 == n || cal.day_of(ts[i + 1]) != cal.day_of(ts[i]) {
            keep[i] = true;
        }
    }
    for &m in &cal.months {
        let k = ts.partition_point(|&t| t < m);
        if k < n {
            keep[k] = true;
        }
    }
    for &a in anchors {
        let j = ts.partition_point(|&t| t <= a);
        if j > 0 {
            keep[j - 1] = true;
        }
        let k = ts.partition_point(|&t| t < a);
        if k < n {
            keep[k] = true;
        }
    }
    keep
}

/// A run of consecutive readings to delete: times `from..=to`, `count` readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub from: i64,
    pub to: i64,
    pub count: u64,
}

/// The runs of readings not kept.
pub fn runs(ts: &[i64], keep: &[bool]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut open: Option<Run> = None;
    for (&t, &k) in ts.iter().zip(keep) {
        match (&mut open, k) {
            (Some(run), false) => {
                run.to = t;
                run.count += 1;
            }
            (None, false) => open = Some(Run { from: t, to: t, count: 1 }),
            (Some(_), true) => out.extend(open.take()),
            (None, true) => {}
        }
    }
    out.extend(open);
    out
}

/// The times where a meter's `target_date` register takes a new value (the first telegram
/// carrying each billing date's target values), from its series ascending.
pub fn target_changes(series: &[(i64, f64)]) -> Vec<i64> {
    let mut out = Vec::new();
    let mut last: Option<f64> = None;
    for &(ts, v) in series {
        if last != Some(v) {
            out.push(ts);
            last = Some(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;
    const D: i64 = 86_400;

    /// Three UTC days of hourly readings, months starting on day 1.
    fn hourly(days: i64) -> (Vec<i64>, Calendar) {
        let ts: Vec<i64> = (0..days * 24).map(|h| h * H).collect();
        let cal = Calendar { days: (0..=days).map(|d| d * D).collect(), months: vec![D] };
        (ts, cal)
    }

    fn kept(ts: &[i64], keep: &[bool]) -> Vec<i64> {
        ts.iter().zip(keep).filter(|(_, k)| **k).map(|(t, _)| *t).collect()
    }

    #[test]
    fn keeps_the_first_the_last_of_each_day_and_the_first_of_each_month() {
        let (ts, cal) = hourly(3);
        let k = keep(&ts, &cal, &[]);
        assert_eq!(kept(&ts, &k), vec![0, 23 * H, D, D + 23 * H, 2 * D + 23 * H]);
        let r = runs(&ts, &k);
        assert_eq!(r.iter().map(|r| r.count).sum::<u64>(), 72 - 5);
        assert_eq!(r[0], Run { from: H, to: 22 * H, count: 22 });
    }

    #[test]
    fn keeps_the_readings_around_an_anchor() {
        let (ts, cal) = hourly(2);
        // An info code starting between two readings, one ending on a reading.
        let k = keep(&ts, &cal, &[5 * H + 120, 30 * H]);
        let got = kept(&ts, &k);
        for t in [5 * H, 6 * H, 30 * H] {
            assert!(got.contains(&t), "{t} kept: {got:?}");
        }
        assert!(!got.contains(&(29 * H)) && !got.contains(&(31 * H)));
    }

    #[test]
    fn compacting_twice_keeps_the_same() {
        let (ts, cal) = hourly(40);
        let anchors = [7 * H, 100 * H + 5, 500 * H];
        let k = keep(&ts, &cal, &anchors);
        let once = kept(&ts, &k);
        let again = keep(&once, &cal, &anchors);
        assert!(again.iter().all(|k| *k), "nothing more to remove");
        assert!(runs(&once, &again).is_empty());
    }

    #[test]
    fn a_target_date_change_is_where_its_value_first_appears() {
        let s = [(10, 100.0), (20, 100.0), (30, 131.0), (40, 131.0), (50, 159.0)];
        assert_eq!(target_changes(&s), vec![10, 30, 50]);
        assert!(target_changes(&[]).is_empty());
    }

    #[test]
    fn an_empty_series_keeps_nothing_and_removes_nothing() {
        let cal = Calendar::default();
        assert!(keep(&[], &cal, &[1]).is_empty());
        assert!(runs(&[], &[]).is_empty());
    }
}
