//! CRC-16 of EN 13757-4 (polynomial 0x3D65, initial 0, result complemented) and the wired checksum.

/// The CRC tables for polynomial 0x3D65 (MSB first), built at compile time, for "slicing by 8":
/// `TABLES[0][v]` is the register after shifting the byte `v` through it (the classic one-byte
/// table), and `TABLES[k][v]` the same followed by `k` zero bytes. Eight bytes then cost eight
/// independent look-ups instead of a chain of eight dependent ones.
const TABLES: [[u16; 256]; 8] = {
    let mut t = [[0u16; 256]; 8];
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
    while k < 8 {
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

/// CRC-16/EN-13757 over `data`.
pub fn crc16_en13757(data: &[u8]) -> u16 {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = &TABLES;
    let mut chunks = data.chunks_exact(8);
    let mut crc: u16 = 0;
    for c in &mut chunks {
        let &[b0, b1, b2, b3, b4, b5, b6, b7] = c else {
            continue;
        };
        let x = crc ^ u16::from_be_bytes([b0, b1]);
        crc = t7[usize::from((x >> 8) as u8)]
            ^ t6[usize::from(x as u8)]
            ^ t5[usize::from(b2)]
            ^ t4[usize::from(b3)]
            ^ t3[usize::from(b4)]
            ^ t2[usize::from(b5)]
            ^ t1[usize::from(b6)]
            ^ t0[usize::from(b7)];
    }
    !chunks.remainder().iter().fold(crc, |crc, &b| step(crc, b))
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
