//! CRC-16 of EN 13757-4 (polynomial 0x3D65, initial 0, result complemented) and the wired checksum.

/// The CRC table for polynomial 0x3D65 (MSB first), built at compile time.
const TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
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
        t[i] = crc;
        i += 1;
    }
    t
};

/// CRC-16/EN-13757 over `data`.
pub fn crc16_en13757(data: &[u8]) -> u16 {
    let crc = data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)]
    });
    !crc
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

    #[test]
    fn checksum() {
        assert_eq!(sum8(&[0xFF, 0x02]), 0x01);
    }
}
