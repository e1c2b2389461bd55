//! CRC-16 of EN 13757-4 (polynomial 0x3D65, initial 0, result complemented) and the wired checksum.

/// The CRC tables for polynomial 0x3D65 (MSB first), built at compile time, for "slicing by 16"
/// (then by 8): `TABLES[0][v]` is the register after shifting the byte `v` through it (the
/// classic one-byte table), and `TABLES[k][v]` the same followed by `k` zero bytes. Sixteen
/// bytes then cost sixteen independent look-ups instead of a chain of sixteen dependent ones.
const TABLES: [[u16; 256]; 16] = {
    let mut t = [[0u16; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x3D65
            } else {
                crc << 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// One byte at a time (the tail after the 8-byte chunks).
#[inline]
fn step(crc: u16, b: u8) -> u16 {
    (crc << 8) ^ TABLES[0][usize::from((crc >> 8) as u8 ^ b)]
}

/// CRC-16/EN-13757 over `data`: 16 bytes at a time, then 8, then byte by byte. In a chunk the
/// first two bytes meet the register; every byte goes through the table of its distance to the
/// chunk's end.
pub fn crc16_en13757(data: &[u8]) -> u16 {
    let t = &TABLES;
    let ix = usize::from;
    let mut chunks = data.chunks_exact(16);
    let mut crc: u16 = 0;
    for c in &mut chunks {
        let &[b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15] = c else {
            continue;
        };
        let [h, l] = (crc ^ u16::from_be_bytes([b0, b1])).to_be_bytes();
        crc = (t[15][ix(h)] ^ t[14][ix(l)] ^ t[13][ix(b2)] ^ t[12][ix(b3)])
            ^ (t[11][ix(b4)] ^ t[10][ix(b5)] ^ t[9][ix(b6)] ^ t[8][ix(b7)])
            ^ (t[7][ix(b8)] ^ t[6][ix(b9)] ^ t[5][ix(b10)] ^ t[4][ix(b11)])
            ^ (t[3][ix(b12)] ^ t[2][ix(b13)] ^ t[1][ix(b14)] ^ t[0][ix(b15)]);
    }
    let mut rest = chunks.remainder();
    if let &[b0, b1, b2, b3, b4, b5, b6, b7, ref tail @ ..] = rest {
        let [h, l] = (crc ^ u16::from_be_bytes([b0, b1])).to_be_bytes();
        crc = (t[7][ix(h)] ^ t[6][ix(l)] ^ t[5][ix(b2)] ^ t[4][ix(b3)])
            ^ (t[3][ix(b4)] ^ t[2][ix(b5)] ^ t[1][ix(b6)] ^ t[0][ix(b7)]);
        rest = tail;
    }
    !rest.iter().fold(crc, |crc, &b| step(crc, b))
}

/// Wired M-Bus checksum: arithmetic sum of the bytes modulo 256.
pub fn sum8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: u16) {
        assert_eq!(crc16_en13757(input), expected, "input {input:02X?}");
    }

    #[test]
    fn catalogue_check_value() {
        // The CRC catalogue's check value for CRC-16/EN-13757 over "123456789" is 0xC2B7.
        check(b"123456789", 0xC2B7);
        check(&[], 0xFFFF);
    }

    /// The bit-by-bit definition, to check the sliced tables against.
    fn crc_bitwise(data: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &b in data {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x3D65
                } else {
                    crc << 1
                };
            }
        }
        !crc
    }

    #[test]
    fn sliced_matches_bitwise_for_every_length() {
        let mut x: u32 = 12345;
        let data: Vec<u8> = (0..300)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for n in 0..data.len() {
            for start in [0, 1, 3] {
                let d = &data[start.min(n)..n];
                assert_eq!(crc16_en13757(d), crc_bitwise(d), "length {}", d.len());
            }
        }
    }

    #[test]
    fn checksum() {
        assert_eq!(sum8(&[0xFF, 0x02]), 0x01);
    }
}
