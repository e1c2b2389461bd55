//! The C8/06 gateway's outgoing buffer in a real SQLite file: five days of 4-second values of
//! two SDPs (the specification's minimum) survive closing and opening the database, and come
//! out oldest first, grouped by SDP in at most 15 values of one minute while catching up.

use releve_core::c806::message::{next_batch, MAX_GROUP};
use releve_core::store::{c806 as db, Store};

#[test]
fn five_days_of_values_survive_a_restart_and_leave_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("c806.db");
    let start = 1_796_000_000_000i64 / 4000 * 4000;
    let slots = 5 * 86_400 / 4;
    {
        let store = Store::open(&path).expect("open");
        let mut conn = store.writer();
        let tx = conn.transaction().expect("tx");
        let values: Vec<db::Value> = (0..slots)
            .flat_map(|i| {
                ["541449000000000017", "541449000000000024"].map(|sdp| db::Value {
                    seq: 0,
                    sdp: sdp.into(),
                    mts: start + i * 4000,
                    dpm: i as f64 / 1000.0,
                    dpb: 0.0,
                    afrr: 0,
                    ps: 0.0,
                    sent_at: None,
                })
            })
            .collect();
        db::add_values(&tx, &values).expect("add");
        tx.commit().expect("commit");
    }
    let store = Store::open(&path).expect("reopen");
    let (count, oldest) = db::buffered(&store.reader().expect("reader")).expect("buffered");
    assert_eq!((count, oldest), (2 * slots, Some(start)), "five days kept across the restart");
    // The first 300 messages as the runner makes them: in order per SDP, none skipped.
    let mut last = std::collections::HashMap::new();
    let mut messages = 0;
    let mut values = 0;
    while messages < 300 {
        let pending = db::unsent(&store.reader().expect("reader"), 64).expect("unsent");
        let batch = next_batch(&pending, 2);
        if batch.is_empty() {
            break;
        }
        messages += 1;
        values += batch.len() as i64;
        assert!(batch.len() <= MAX_GROUP && batch.iter().all(|v| v.sdp == batch[0].sdp));
        for v in &batch {
            let before = last.insert(v.sdp.clone(), v.mts);
            assert_eq!(before.map_or(start, |b| b + 4000), v.mts, "{}: in order, none skipped", v.sdp);
        }
        db::mark_sent(&store.writer(), &batch.iter().map(|v| v.seq).collect::<Vec<_>>(), start).expect("sent");
    }
    assert_eq!(values, 300 * 15, "15 values a message while catching up");
    assert_eq!(db::buffered(&store.reader().expect("reader")).expect("buffered").0, 2 * slots - values);
}
