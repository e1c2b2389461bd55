//! Encryption: OMS security mode 5 (AES-128-CBC, static IV) and the ELL AES-128-CTR keystream.

use aes::cipher::{
    block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit, StreamCipher,
};

use crate::key::AesKey;

type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;
type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

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
    let whole = data.len() - data.len() % 16;
    let mut buf = data.to_vec();
    if whole > 0 {
        let dec = Aes128CbcDec::new(key.as_bytes().into(), iv.into());
        if let Some(blocks) = buf.get_mut(..whole) {
            // Cannot fail: the slice is a whole number of blocks and NoPadding removes nothing.
            let _ = dec.decrypt_padded_mut::<NoPadding>(blocks);
        }
    }
    buf
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

#[cfg(test)]
mod tests {
    use super::*;

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
