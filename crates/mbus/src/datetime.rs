//! Date and time data types of EN 13757-3 annex A (types G, F, I, J) rendered as ISO text.

/// Year from the 7 split year bits (3 low bits in the day byte, 4 high bits in the month byte).
fn year(day_byte: u8, month_byte: u8) -> u32 {
    let y = u32::from((day_byte & 0xE0) >> 5) | u32::from((month_byte & 0xF0) >> 1);
    // Two-digit years: 81-99 are the 1900s, everything else counts from 2000.
    if (81..=99).contains(&y) {
        1900 + y
    } else {
        2000 + y
    }
}

/// Append `v` (below 10,000) as `width` decimal digits (2 or 4), zero-padded: what
/// `format!("{v:02}")` / `{v:04}` print for these small fields, without the formatting machinery.
fn push_digits(s: &mut String, v: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    while div > 0 {
        s.push(char::from(b'0' + ((v / div) % 10) as u8));
        div /= 10;
    }
}

/// "YYYY-MM-DD" for a calendar date, as `format!("{y:04}-{m:02}-{d:02}")` prints it (for the
/// families that build dates from their own fields), digit by digit.
pub(crate) fn ymd(y: u32, m: u32, d: u32) -> String {
    if y > 9999 || m > 99 || d > 99 {
        return format!("{y:04}-{m:02}-{d:02}");
    }
    let mut s = String::with_capacity(10);
    push_digits(&mut s, y, 4);
    s.push('-');
    push_digits(&mut s, m, 2);
    s.push('-');
    push_digits(&mut s, d, 2);
    s
}

fn date(s: &mut String, d: u8, m: u8) {
    push_digits(s, year(d, m), 4);
    s.push('-');
    push_digits(s, u32::from(m & 0x0F), 2);
    s.push('-');
    push_digits(s, u32::from(d & 0x1F), 2);
}

fn time(s: &mut String, hour: u8, min: u8, sec: Option<u8>) {
    push_digits(s, u32::from(hour & 0x1F), 2);
    s.push(':');
    push_digits(s, u32::from(min & 0x3F), 2);
    if let Some(sec) = sec {
        s.push(':');
        push_digits(s, u32::from(sec & 0x3F), 2);
    }
}

/// Type G (16 bits): date "YYYY-MM-DD".
fn type_g(b: [u8; 2]) -> String {
    let [d, m] = b;
    let mut s = String::with_capacity(10);
    date(&mut s, d, m);
    s
}

/// Type F (32 bits): "YYYY-MM-DDTHH:MM".
fn type_f(b: [u8; 4]) -> String {
    let [min, hour, d, m] = b;
    let mut s = String::with_capacity(16);
    date(&mut s, d, m);
    s.push('T');
    time(&mut s, hour, min, None);
    s
}

/// Type I (48 bits): "YYYY-MM-DDTHH:MM:SS".
fn type_i(b: [u8; 6]) -> String {
    let [sec, min, hour, d, m, _] = b;
    let mut s = String::with_capacity(19);
    date(&mut s, d, m);
    s.push('T');
    time(&mut s, hour, min, Some(sec));
    s
}

/// Type J (24 bits): time of day "HH:MM:SS".
fn type_j(b: [u8; 3]) -> String {
    let [sec, min, hour] = b;
    let mut s = String::with_capacity(8);
    time(&mut s, hour, min, Some(sec));
    s
}

/// Render the date/time data field by its length; `None` for lengths without a date type.
pub(crate) fn render(data: &[u8]) -> Option<String> {
    match *data {
        [a, b] => Some(type_g([a, b])),
        [a, b, c] => Some(type_j([a, b, c])),
        [a, b, c, d] => Some(type_f([a, b, c, d])),
        [a, b, c, d, e, f] => Some(type_i([a, b, c, d, e, f])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: Option<&str>) {
        assert_eq!(render(input).as_deref(), expected, "input {input:02X?}");
    }

    #[test]
    fn types() {
        check(&[0x81, 0x28], Some("2020-08-01"));
        check(&[0x3B, 0x17, 0xDF, 0x2C], Some("2022-12-31T23:59"));
        check(&[0x02, 0x37, 0x37, 0x23], Some("2017-03-23T23:02"));
        check(
            &[0x1E, 0x3B, 0x17, 0xDF, 0x2C, 0x00],
            Some("2022-12-31T23:59:30"),
        );
        check(&[0x1E, 0x3B, 0x17], Some("23:59:30"));
        check(&[1], None);
    }

    /// The hand-written digits agree with `format!` for every value of every field.
    #[test]
    fn ymd_is_format() {
        for (y, m, d) in [
            (0, 0, 0),
            (7, 1, 9),
            (999, 12, 31),
            (2024, 2, 29),
            (9999, 99, 99),
            (10000, 1, 1),
            (2024, 100, 7),
        ] {
            assert_eq!(super::ymd(y, m, d), format!("{y:04}-{m:02}-{d:02}"));
        }
    }

    #[test]
    fn same_text_as_format() {
        for d in 0..=255u8 {
            for m in [0x00u8, 0x1C, 0x2C, 0x5F, 0xAF, 0xFF] {
                let expected = format!("{:04}-{:02}-{:02}", year(d, m), m & 0x0F, d & 0x1F);
                assert_eq!(type_g([d, m]), expected);
            }
            let (h, mi, se) = (d, d.wrapping_mul(7), d.wrapping_mul(13));
            assert_eq!(
                type_j([se, mi, h]),
                format!("{:02}:{:02}:{:02}", h & 0x1F, mi & 0x3F, se & 0x3F)
            );
        }
    }
}
