//! The dry run's comparison: a new file's lines against the layout's last file, by meter.

use super::{Changed, MeterLine};
use std::collections::HashMap;

/// The differences between the last file's lines and the new ones, both by meter.
#[derive(Debug, Default, PartialEq)]
pub struct Diff {
    pub added: Vec<MeterLine>,
    pub removed: Vec<MeterLine>,
    pub changed: Vec<Changed>,
    pub unchanged: u64,
}

/// Compare `new` (meter, line) with `old` (by meter). Added and changed follow `new`'s
/// order, removed `old`'s keys sorted.
pub fn diff<'a>(mut old: HashMap<String, String>, new: impl Iterator<Item = (&'a str, &'a str)>) -> Diff {
    let mut d = Diff::default();
    for (meter, line) in new {
        match old.remove(meter) {
            None => d.added.push(MeterLine { meter: meter.to_string(), line: line.to_string() }),
            Some(before) if before == line => d.unchanged += 1,
            Some(before) => d.changed.push(Changed { meter: meter.to_string(), old: before, new: line.to_string() }),
        }
    }
    let mut removed: Vec<(String, String)> = old.into_iter().collect();
    removed.sort();
    d.removed = removed.into_iter().map(|(meter, line)| MeterLine { meter, line }).collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_added_removed_changed_or_unchanged() {
        let old: HashMap<String, String> =
            [("A", "A;1"), ("B", "B;2"), ("C", "C;3")].iter().map(|(m, l)| (m.to_string(), l.to_string())).collect();
        let d = diff(old, [("A", "A;1"), ("C", "C;4"), ("D", "D;5")].into_iter());
        assert_eq!(d.unchanged, 1);
        assert_eq!(d.added, vec![MeterLine { meter: "D".into(), line: "D;5".into() }]);
        assert_eq!(d.removed, vec![MeterLine { meter: "B".into(), line: "B;2".into() }]);
        assert_eq!(d.changed, vec![Changed { meter: "C".into(), old: "C;3".into(), new: "C;4".into() }]);
    }
}
