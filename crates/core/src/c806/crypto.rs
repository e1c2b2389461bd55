//! The C8/06 cryptography, pure: the body's AES-128-CBC with PKCS#7 padding (the IV is the
//! key itself, as the specification's example shows: "Clé de cryptage" and "Cryptage IV"
//! are the same value), the key messages' RSA (the gateway certificate's private key) and
//! the PFX (PKCS#12) import. RustCrypto only: no OpenSSL at run time.

use crate::error::{Error, Result};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rsa::pkcs8::DecodePrivateKey;

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

/// Encrypt a body with `key` (IV = key).
pub fn encrypt(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    Enc::new(key.into(), key.into()).encrypt_padded_vec_mut::<Pkcs7>(plain)
}

/// Decrypt a body with `key` (IV = key); None when the padding is wrong (not this key).
pub fn decrypt(key: &[u8; 16], cipher: &[u8]) -> Option<Vec<u8>> {
    Dec::new(key.into(), key.into()).decrypt_padded_vec_mut::<Pkcs7>(cipher).ok()
}

/// The RSA paddings tried, in order, on a key message (the specification does not name one).
pub const PADDINGS: [&str; 3] = ["OAEP-SHA256", "OAEP-SHA1", "PKCS#1 v1.5"];

/// A gateway's private key, read from its PKCS#8 DER.
pub struct PrivateKey(rsa::RsaPrivateKey);

impl PrivateKey {
    pub fn from_pkcs8(der: &[u8]) -> Result<PrivateKey> {
        rsa::RsaPrivateKey::from_pkcs8_der(der)
            .map(PrivateKey)
            .map_err(|e| Error::bad_input("certificate", format!("the private key is not an RSA key: {e}")))
    }

    /// Decrypt what the platform encrypted with the certificate's public key: OAEP-SHA256,
    /// then OAEP-SHA1, then PKCS#1 v1.5; the plaintext and the padding that opened it.
    pub fn decrypt(&self, cipher: &[u8]) -> Option<(Vec<u8>, &'static str)> {
        if let Ok(p) = self.0.decrypt(rsa::Oaep::new::<sha2::Sha256>(), cipher) {
            return Some((p, PADDINGS[0]));
        }
        if let Ok(p) = self.0.decrypt(rsa::Oaep::new::<sha1::Sha1>(), cipher) {
            return Some((p, PADDINGS[1]));
        }
        self.0.decrypt(rsa::Pkcs1v15Encrypt, cipher).ok().map(|p| (p, PADDINGS[2]))
    }

    /// The public half (for tests and the bench, which play the platform).
    pub fn public(&self) -> rsa::RsaPublicKey {
        self.0.to_public_key()
    }
}

/// What a PFX holds: the certificate chain (DER, the gateway's first), the PKCS#8 key, and
/// the certificate's subject.
pub struct Pfx {
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
    pub subject: String,
}

/// Open a PFX with its password; the error says why in words (wrong password, no key...).
pub fn read_pfx(data: &[u8], password: &str) -> Result<Pfx> {
    let bad = |reason: String| Error::bad_input("pfx", reason);
    let store = p12_keystore::KeyStore::from_pkcs12(data, password, p12_keystore::Pkcs12ImportPolicy::Relaxed).map_err(|e| {
        let text = e.to_string();
        if text.to_lowercase().contains("mac") || text.to_lowercase().contains("password") {
            bad(format!("the password does not open this PFX file ({text})"))
        } else {
            bad(format!("not a PFX (PKCS#12) file that can be read: {text}"))
        }
    })?;
    let (_, chain) = store.private_key_chain().ok_or_else(|| bad("the PFX file holds no private key with its certificate".into()))?;
    let certs = chain.certs();
    let first = certs.first().ok_or_else(|| bad("the PFX file holds a private key but no certificate".into()))?;
    let key = chain.key().as_der().to_vec();
    PrivateKey::from_pkcs8(&key)?;
    Ok(Pfx { chain: certs.iter().map(|c| c.as_der().to_vec()).collect(), key, subject: first.subject().to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn the_specification_example_opens_with_the_key_as_iv() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let key: [u8; 16] = b64.decode("9xu0DqrgaFYgrPhudq9s6A==").expect("key").try_into().expect("16");
        // The example's ciphertext as printed (its second block was damaged in the printing):
        // its first block decrypts to the start of the example's body with IV = key.
        let cipher = b64
            .decode("9pMzn4mX5b/+y5SSPVzi6vgebzyLDQJ5bog4c3mg+8cIXS1eVw5ELNIbBUqllhYznMt872Nu7dwUyBTbYkl7IPcC9NK8XFy9wnFtVLLmFjM=")
            .expect("b64");
        let mut block = aes::cipher::generic_array::GenericArray::clone_from_slice(&cipher[..16]);
        use aes::cipher::{BlockDecrypt, KeyInit};
        aes::Aes128::new(&key.into()).decrypt_block(&mut block);
        let first: Vec<u8> = block.iter().zip(key.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(first, br#"[{"DPM":0.123,"D"#);
        // And a round trip.
        let body = br#"[{"DPM":0.123,"DPB":0.987,"AS":1,"PS":0.0,"MTS":0,"SDP":"541122334455667788"}]"#;
        let sealed = encrypt(&key, body);
        assert_eq!(sealed.len(), 80);
        assert_eq!(&sealed[..16], &cipher[..16]);
        assert_eq!(decrypt(&key, &sealed).as_deref(), Some(&body[..]));
        assert_eq!(decrypt(&[0u8; 16], &sealed), None, "another key fails the padding (almost always)");
    }
}
