//! Encryption: OMS security mode 5 (AES-128-CBC, static IV), mode 7 (AES-128-CBC with a zero IV
//! and keys derived with AES-CMAC, plus the AFL MAC) and the ELL AES-128-CTR keystream.

use aes::cipher::{
    block_padding::NoPadding, BlockDecrypt, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher,
};

use cmac::{Cmac, Mac};

use crate::key::AesKey;

type DesCbcDec = cbc::Decryptor<des::Des>;
type DesCbcEnc = cbc::Encryptor<des::Des>;
type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
/// CTR only encrypts the counter: the encryption key schedule alone (no inverse round keys).
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128Enc>;

/// The two bytes every OMS mode 5 payload starts with after decryption.
pub(crate) const VERIFY: [u8; 2] = [0x2F, 0x2F];

/// Mode 5 IV (OMS Vol. 2 / EN 13757-7): manufacturer (2 bytes as sent), address (6 bytes as sent:
/// id, version, device type), then the access number eight times.
pub(crate) fn mode5_iv(m: [u8; 2], a: [u8; 6], access_number: u8) -> [u8; 16] {
    let mut iv = [access_number; 16];
    iv[..2].copy_from_slice(&m);
    iv[2..8].copy_from_slice(&a);
    iv
}

/// AES-128-CBC decryption of whole 16-byte blocks; a trailing partial block is left as it is.
pub(crate) fn cbc_decrypt(key: &AesKey, iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    cbc_decrypt_in_place(key, iv, &mut buf);
    buf
}

/// [`cbc_decrypt`] in place.
///
/// CBC by hand over the decryption-only cipher: `cbc::Decryptor<Aes128>` copies the whole
/// cipher state (both key schedules, about 700 bytes with the software fallback's) twice per
/// call, which cost as much as the decryption of a short telegram. Up to 16 blocks are
/// decrypted together (the AES-NI backend pipelines them), then each is XORed with the
/// ciphertext block before it (the IV for the first).
pub(crate) fn cbc_decrypt_in_place(key: &AesKey, iv: &[u8; 16], buf: &mut [u8]) {
    let whole = buf.len() - buf.len() % 16;
    let Some(data) = buf.get_mut(..whole) else {
        return;
    };
    if data.is_empty() {
        return;
    }
    let cipher = aes::Aes128Dec::new(key.as_bytes().into());
    let mut prev: [u8; 16] = *iv;
    for group in data.chunks_mut(16 * 16) {
        let mut blocks = [aes::Block::default(); 16];
        let n = group.len() / 16;
        for (b, c) in blocks.iter_mut().zip(group.chunks_exact(16)) {
            b.copy_from_slice(c);
        }
        if let Some(bs) = blocks.get_mut(..n) {
            cipher.decrypt_blocks(bs);
        }
        for (out, plain) in group.chunks_exact_mut(16).zip(blocks.iter()) {
            // `out` still holds ciphertext block i: keep it as the next block's chaining value.
            let mut cipher_block = [0u8; 16];
            cipher_block.copy_from_slice(out);
            for ((o, p), c) in out.iter_mut().zip(plain.iter()).zip(prev.iter()) {
                *o = p ^ c;
            }
            prev = cipher_block;
        }
    }
}

/// DES-CBC decryption (security modes 2 and 3) of whole 8-byte blocks; a trailing partial block
/// is left as it is.
pub(crate) fn des_cbc_decrypt(key: &[u8; 8], iv: &[u8; 8], data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    let whole = buf.len() - buf.len() % 8;
    if whole > 0 {
        let dec = DesCbcDec::new(key.into(), iv.into());
        if let Some(blocks) = buf.get_mut(..whole) {
            // Cannot fail: whole blocks, no padding to remove.
            let _ = dec.decrypt_padded_mut::<NoPadding>(blocks);
        }
    }
    buf
}

/// DES-CBC encryption of whole 8-byte blocks (for the encoder and tests); a trailing partial
/// block is left as it is.
pub(crate) fn des_cbc_encrypt(key: &[u8; 8], iv: &[u8; 8], data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    let whole = buf.len() - buf.len() % 8;
    if whole > 0 {
        let enc = DesCbcEnc::new(key.into(), iv.into());
        if let Some(blocks) = buf.get_mut(..whole) {
            let _ = enc.encrypt_padded_mut::<NoPadding>(blocks, whole);
        }
    }
    buf
}

/// Security mode 3 IV (EN 13757-7:2018 9.4.3, after the 2004 edition of EN 13757-3): the meter's
/// identification number (4 bytes as sent), its manufacturer (2 bytes as sent), then the date of
/// the day the telegram was sent as a type G date (EN 13757-3 annex A: day in bits 0-4 and the
/// year's low 3 bits in bits 5-7 of the first byte, month in bits 0-3 and the year's high 4 bits
/// in bits 4-7 of the second; year counted from 2000). wmbusmeters packs the two date bytes
/// differently (month bits in the first byte); we follow the standard's type G.
pub(crate) fn mode3_iv(id: [u8; 4], m: [u8; 2], year: u16, month: u8, day: u8) -> [u8; 8] {
    let y = (year.saturating_sub(2000) & 0x7F) as u8;
    [
        id[0],
        id[1],
        id[2],
        id[3],
        m[0],
        m[1],
        ((y & 0x07) << 5) | (day & 0x1F),
        ((y >> 3) << 4) | (month & 0x0F),
    ]
}

/// AES-128-CBC encryption of whole 16-byte blocks; a trailing partial block is left as it is.
pub(crate) fn cbc_encrypt(key: &AesKey, iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let whole = data.len() - data.len() % 16;
    let mut buf = data.to_vec();
    if whole > 0 {
        let enc = Aes128CbcEnc::new(key.as_bytes().into(), iv.into());
        if let Some(blocks) = buf.get_mut(..whole) {
            let _ = enc.encrypt_padded_mut::<NoPadding>(blocks, whole);
        }
    }
    buf
}

/// AES-128-CTR (big-endian 128-bit counter starting at `iv`); encryption and decryption are the same.
pub(crate) fn ctr_apply(key: &AesKey, iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    let mut c = Aes128Ctr::new(key.as_bytes().into(), iv.into());
    c.apply_keystream(&mut buf);
    buf
}

/// AES-CMAC (NIST SP 800-38B / RFC 4493) of `data` under `key`.
pub(crate) fn cmac(key: &[u8; 16], data: &[u8]) -> [u8; 16] {
    // `new_from_slice` only fails for a wrong key length, impossible with a 16-byte array.
    let Ok(mut m) = <Cmac<aes::Aes128> as Mac>::new_from_slice(key) else {
        return [0; 16];
    };
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Mode 7 key derivation (OMS Vol. 2 / EN 13757-7 KDF-A): K = CMAC(master, D || MCR || ID || 07 x 7)
/// where D is 00 for the encryption key and 01 for the MAC key of a message from the meter,
/// MCR the AFL message counter and ID the meter's identification number, both as sent (LSB first).
pub(crate) fn derive_key(master: &AesKey, constant: u8, mcr: [u8; 4], id: [u8; 4]) -> AesKey {
    let mut msg = [0x07u8; 16];
    msg[0] = constant;
    msg[1..5].copy_from_slice(&mcr);
    msg[5..9].copy_from_slice(&id);
    AesKey::from_bytes(cmac(master.as_bytes(), &msg))
}

/// Derivation constant of the mode 7 encryption key (message from the meter).
pub(crate) const KDF_ENC: u8 = 0x00;
/// Derivation constant of the mode 7 MAC key (message from the meter).
pub(crate) const KDF_MAC: u8 = 0x01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4493_cmac_vectors() {
        // RFC 4493 section 4: key 2B7E1516 28AED2A6 ABF71588 09CF4F3C.
        let key = AesKey::from_hex("2B7E151628AED2A6ABF7158809CF4F3C").expect("key");
        let k = key.as_bytes();
        assert_eq!(
            hex::encode(cmac(k, &[])),
            "bb1d6929e95937287fa37d129b756746"
        );
        let m = hex::decode("6bc1bee22e409f96e93d7e117393172a").expect("hex");
        assert_eq!(hex::encode(cmac(k, &m)), "070a16b46b4d4144f79bdd9dd04a287c");
        let m40 = hex::decode(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411",
        )
        .expect("hex");
        assert_eq!(
            hex::encode(cmac(k, &m40)),
            "dfa66747de9ae63030ca32611497c827"
        );
    }

    #[test]
    fn cbc_round_trip_and_partial_block() {
        let key = AesKey::from_bytes([7; 16]);
        let iv = mode5_iv([0x2D, 0x2C], [1, 2, 3, 4, 5, 6], 9);
        assert_eq!(&iv[..10], &[0x2D, 0x2C, 1, 2, 3, 4, 5, 6, 9, 9]);
        let data: Vec<u8> = (0..37).collect();
        let enc = cbc_encrypt(&key, &iv, &data);
        assert_ne!(enc[..32], data[..32]);
        assert_eq!(enc[32..], data[32..]);
        assert_eq!(cbc_decrypt(&key, &iv, &enc), data);
        assert_eq!(ctr_apply(&key, &iv, &ctr_apply(&key, &iv, &data)), data);
        // Longer than one group of 16 blocks, and every length around the block size.
        for n in [0usize, 1, 15, 16, 17, 255, 256, 257, 300, 530] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let enc = cbc_encrypt(&key, &iv, &data);
            assert_eq!(cbc_decrypt(&key, &iv, &enc), data, "length {n}");
        }
    }

    /// The hand-made CBC decryption agrees with the cbc crate's.
    #[test]
    fn cbc_decrypt_matches_the_cbc_crate() {
        let key = AesKey::from_bytes([0x5A; 16]);
        let iv = [0x11; 16];
        let data: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        let mut expected = data.clone();
        let dec = cbc::Decryptor::<aes::Aes128>::new(key.as_bytes().into(), (&iv).into());
        let _ = dec.decrypt_padded_mut::<NoPadding>(&mut expected);
        assert_eq!(cbc_decrypt(&key, &iv, &data), expected);
    }

    #[test]
    fn des_known_answer_and_round_trip() {
        // FIPS 81 / the classic DES example: key 133457799BBCDFF1, plaintext 0123456789ABCDEF
        // -> 85E813540F0AB405 (one block, so CBC with a zero IV is ECB).
        let key = [0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1];
        let pt = hex::decode("0123456789ABCDEF").expect("hex");
        assert_eq!(hex::encode_upper(des_cbc_encrypt(&key, &[0; 8], &pt)), "85E813540F0AB405");
        let data: Vec<u8> = (0..21).collect();
        let iv = mode3_iv([1, 2, 3, 4], [0x2D, 0x2C], 2024, 12, 31);
        // 2024-12-31: year 24 = 0b0011000 -> low bits 000, high bits 0011.
        assert_eq!(iv[6..], [0x1F, 0x3C]);
        let enc = des_cbc_encrypt(&key, &iv, &data);
        assert_eq!(enc[16..], data[16..]);
        assert_eq!(des_cbc_decrypt(&key, &iv, &enc), data);
    }

    #[test]
    fn fips197_aes128_vector() {
        // FIPS-197 appendix C.1: key 000102..0F, plaintext 00112233..FF -> 69C4E0D8 6A7B0430 D8CDB780 70B4C55A.
        let key = AesKey::from_hex("000102030405060708090A0B0C0D0E0F").expect("key");
        let pt = hex::decode("00112233445566778899AABBCCDDEEFF").expect("hex");
        let ct = cbc_encrypt(&key, &[0; 16], &pt);
        assert_eq!(hex::encode_upper(ct), "69C4E0D86A7B0430D8CDB78070B4C55A");
    }
}
