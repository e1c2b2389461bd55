//! When a scheduled export runs (its slots, in the utility's local time) and which billing
//! period each slot exports. Pure: no store, no clock.

use crate::error::{Error, Result};
use crate::store::export_jobs::Job;
use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// How often a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Daily,
    /// 1 = Monday .. 7 = Sunday.
    Weekly(u32),
    /// Day of the month, 1..=28 so that every month has it.
    Monthly(u32),
}

/// Which billing period a run exports, relative to the local date of its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRule {
    PreviousDay,
    PreviousWeek,
    PreviousMonth,
    MonthToDate,
}

/// A job's schedule, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub every: Every,
    pub hour: u32,
    pub minute: u32,
    pub period: PeriodRule,
}

impl Schedule {
    /// Read and check a job's schedule fields; the error names the field.
    pub fn of(job: &Job) -> Result<Schedule> {
        let every = match job.every.as_str() {
            "daily" => Every::Daily,
            "weekly" if (1..=7).contains(&job.weekday) => Every::Weekly(job.weekday),
            "weekly" => return Err(Error::bad_input("weekday", format!("{} is not a day of the week (1 = Monday .. 7 = Sunday)", job.weekday))),
            "monthly" if (1..=28).contains(&job.day) => Every::Monthly(job.day),
            "monthly" => return Err(Error::bad_input("day", format!("{} is not a day every month has (1 to 28)", job.day))),
            other => return Err(Error::bad_input("every", format!("'{other}': choose daily, weekly or monthly"))),
        };
        if job.hour > 23 || job.minute > 59 {
            return Err(Error::bad_input("time", format!("{}:{:02} is not a time of day", job.hour, job.minute)));
        }
        let period = match job.period.as_str() {
            "previous_day" => PeriodRule::PreviousDay,
            "previous_week" => PeriodRule::PreviousWeek,
            "previous_month" => PeriodRule::PreviousMonth,
            "month_to_date" => PeriodRule::MonthToDate,
            other => {
                return Err(Error::bad_input(
                    "period",
                    format!("'{other}': choose previous_day, previous_week, previous_month or month_to_date"),
                ))
            }
        };
        Ok(Schedule { every, hour: job.hour, minute: job.minute, period })
    }

    fn runs_on(&self, d: NaiveDate) -> bool {
        match self.every {
            Every::Daily => true,
            Every::Weekly(w) => d.weekday().number_from_monday() == w,
            Every::Monthly(day) => d.day() == day,
        }
    }

    /// The slot on local date `d` as Unix time. A time that does not exist that day (the
    /// spring clock change) runs an hour later; a time that exists twice runs the first time.
    pub fn slot_on(&self, tz: Tz, d: NaiveDate) -> Option<i64> {
        let local = d.and_hms_opt(self.hour, self.minute, 0)?;
        let at = |n: NaiveDateTime| tz.from_local_datetime(&n).earliest().map(|t| t.timestamp());
        at(local).or_else(|| at(local + chrono::Duration::hours(1)))
    }

    /// The slots with `after < slot <= until`, oldest first, at most the `max` latest.
    pub fn slots(&self, tz: Tz, after: i64, until: i64, max: usize) -> Vec<i64> {
        let mut found = Vec::new();
        let Some(mut d) = tz.timestamp_opt(until, 0).single().map(|t| t.date_naive()) else {
            return found;
        };
        // A monthly job has a slot at least every 31 days: looking back max * 31 + 1 days
        // (and never before `after`'s date) finds every slot wanted.
        for _ in 0..=(max.max(1) * 31 + 1) {
            if found.len() == max {
                break;
            }
            if self.runs_on(d) {
                if let Some(slot) = self.slot_on(tz, d) {
                    if slot <= after {
                        break;
                    }
                    if slot <= until {
                        found.push(slot);
                    }
                }
            }
            match d.pred_opt() {
                Some(p) => d = p,
                None => break,
            }
        }
        found.reverse();
        found
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, tz: Tz, t: i64) -> Option<i64> {
        let mut d = tz.timestamp_opt(t, 0).single()?.date_naive();
        for _ in 0..64 {
            if self.runs_on(d) {
                if let Some(slot) = self.slot_on(tz, d).filter(|&s| s > t) {
                    return Some(slot);
                }
            }
            d = d.succ_opt()?;
        }
        None
    }

    /// The billing period exported by the run of the slot at local date `d`: local dates,
    /// `to` included (values at `from` 00:00 and at the day after `to` 00:00). The run
    /// never exports the day it runs on.
    pub fn period_for(&self, d: NaiveDate) -> (NaiveDate, NaiveDate) {
        let before = |x: NaiveDate| x.pred_opt().unwrap_or(x);
        let first = d.with_day(1).unwrap_or(d);
        let previous_month = || (first.checked_sub_months(Months::new(1)).unwrap_or(first), before(first));
        match self.period {
            PeriodRule::PreviousDay => (before(d), before(d)),
            PeriodRule::PreviousWeek => {
                let monday = d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday()))).unwrap_or(d);
                (monday.checked_sub_days(Days::new(7)).unwrap_or(monday), before(monday))
            }
            PeriodRule::PreviousMonth => previous_month(),
            // On the 1st the month so far is empty: the month just ended is exported.
            PeriodRule::MonthToDate if d == first => previous_month(),
            PeriodRule::MonthToDate => (first, before(d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(every: &str, weekday: u32, day: u32, hour: u32, minute: u32, period: &str) -> Job {
        Job {
            id: None,
            name: "j".into(),
            layout: "l".into(),
            every: every.into(),
            weekday,
            day,
            hour,
            minute,
            period: period.into(),
            destination: "folder".into(),
            folder: String::new(),
            email_to: vec![],
            report_to: vec![],
            enabled: true,
            since: 0,
        }
    }

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        chrono_tz::Europe::Paris.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("local time").timestamp()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_monthly_job_runs_on_its_day_at_its_local_hour_and_exports_the_month_before() {
        let s = Schedule::of(&job("monthly", 1, 1, 6, 30, "previous_month")).expect("valid");
        let tz = chrono_tz::Europe::Paris;
        let slots = s.slots(tz, paris(2026, 8, 15, 0, 0), paris(2026, 11, 22, 12, 0), 31);
        assert_eq!(slots, vec![paris(2026, 9, 1, 6, 30), paris(2026, 10, 1, 6, 30), paris(2026, 11, 1, 6, 30)]);
        assert_eq!(s.period_for(date(2026, 11, 1)), (date(2026, 10, 1), date(2026, 10, 31)));
        assert_eq!(s.next_after(tz, paris(2026, 11, 22, 12, 0)), Some(paris(2026, 12, 1, 6, 30)));
        // Only the latest slots when many were missed.
        assert_eq!(s.slots(tz, 0, paris(2026, 11, 22, 12, 0), 2), vec![paris(2026, 10, 1, 6, 30), paris(2026, 11, 1, 6, 30)]);
    }

    #[test]
    fn weekly_and_daily_slots_and_their_periods() {
        let tz = chrono_tz::Europe::Paris;
        let weekly = Schedule::of(&job("weekly", 1, 1, 5, 0, "previous_week")).expect("valid");
        // 2026-11-16 and 2026-11-23 are Mondays.
        assert_eq!(weekly.slots(tz, paris(2026, 11, 10, 0, 0), paris(2026, 11, 22, 23, 0), 31), vec![paris(2026, 11, 16, 5, 0)]);
        assert_eq!(weekly.period_for(date(2026, 11, 16)), (date(2026, 11, 9), date(2026, 11, 15)));
        let daily = Schedule::of(&job("daily", 1, 1, 2, 0, "previous_day")).expect("valid");
        assert_eq!(daily.slots(tz, paris(2026, 11, 20, 2, 0), paris(2026, 11, 22, 1, 59), 31), vec![paris(2026, 11, 21, 2, 0)]);
        assert_eq!(daily.period_for(date(2026, 11, 21)), (date(2026, 11, 20), date(2026, 11, 20)));
        let mtd = Schedule::of(&job("daily", 1, 1, 2, 0, "month_to_date")).expect("valid");
        assert_eq!(mtd.period_for(date(2026, 11, 21)), (date(2026, 11, 1), date(2026, 11, 20)));
        assert_eq!(mtd.period_for(date(2026, 11, 1)), (date(2026, 10, 1), date(2026, 10, 31)));
    }

    #[test]
    fn the_spring_clock_change_moves_a_missing_time_an_hour_later() {
        // 2026-03-29 02:30 does not exist in Paris.
        let s = Schedule::of(&job("daily", 1, 1, 2, 30, "previous_day")).expect("valid");
        assert_eq!(s.slot_on(chrono_tz::Europe::Paris, date(2026, 3, 29)), Some(paris(2026, 3, 29, 3, 30)));
    }

    #[test]
    fn a_wrong_schedule_names_its_field() {
        let e = Schedule::of(&job("monthly", 1, 31, 6, 0, "previous_month")).expect_err("day 31");
        assert!(e.to_string().contains("invalid day"), "{e}");
        let e = Schedule::of(&job("hourly", 1, 1, 6, 0, "previous_month")).expect_err("hourly");
        assert!(e.to_string().contains("invalid every"), "{e}");
        let e = Schedule::of(&job("daily", 1, 1, 24, 0, "previous_month")).expect_err("24:00");
        assert!(e.to_string().contains("invalid time"), "{e}");
        let e = Schedule::of(&job("daily", 1, 1, 6, 0, "last_year")).expect_err("period");
        assert!(e.to_string().contains("invalid period"), "{e}");
    }
}
