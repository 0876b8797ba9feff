//! Marketplace tokens at rest: AES-256-GCM under a key derived from `SYNCSTORE_SECRET` with
//! HKDF-SHA256. A previous secret can be configured beside the current one, so the secret
//! can be rotated without reconnecting a shop: what the previous key sealed still opens, and
//! is sealed again under the current key the next time it is written.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// Marks the format, so a later change can be told apart.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// Separates this key from anything else derived from the same secret.
const INFO: &[u8] = b"syncstore marketplace tokens v1";

#[derive(Clone)]
pub struct TokenCipher {
    current: Aes256Gcm,
    previous: Option<Aes256Gcm>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a stored shop token could not be opened: it was sealed under another SYNCSTORE_SECRET (set SYNCSTORE_PREVIOUS_SECRET to the old one) or it is damaged")]
pub struct OpenError;

fn key(secret: &str) -> Aes256Gcm {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"syncstore"), secret.as_bytes())
        .expand(INFO, &mut okm)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    Aes256Gcm::new(&okm.into())
}

impl TokenCipher {
    pub fn new(secret: &str, previous: Option<&str>) -> TokenCipher {
        TokenCipher {
            current: key(secret),
            previous: previous.map(key),
        }
    }

    /// `version ‖ nonce ‖ ciphertext+tag`, with a fresh random nonce each time.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .current
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("AES-GCM encrypts any token-sized input");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext, and whether it was sealed under the previous secret (so the caller
    /// seals it again under the current one).
    pub fn open(&self, sealed: &[u8]) -> Result<(String, bool), OpenError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let nonce = Nonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        let body = &sealed[1 + NONCE_LEN..];
        let (bytes, old) = match self.current.decrypt(nonce, body) {
            Ok(b) => (b, false),
            Err(_) => match &self.previous {
                Some(previous) => (previous.decrypt(nonce, body).map_err(|_| OpenError)?, true),
                None => return Err(OpenError),
            },
        };
        Ok((String::from_utf8(bytes).map_err(|_| OpenError)?, old))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "first-secret-of-at-least-thirty-two-chars";
    const B: &str = "second-secret-of-at-least-thirty-two-chars";

    #[test]
    fn a_sealed_token_opens_and_does_not_contain_the_plaintext() {
        let cipher = TokenCipher::new(A, None);
        let sealed = cipher.seal("tok-very-secret");
        assert!(!sealed
            .windows("tok-very-secret".len())
            .any(|w| w == b"tok-very-secret"));
        assert_eq!(cipher.open(&sealed), Ok(("tok-very-secret".into(), false)));
        assert_ne!(sealed, cipher.seal("tok-very-secret"), "nonces are fresh");
    }

    #[test]
    fn another_secret_cannot_open_it_but_a_configured_previous_one_can() {
        let sealed = TokenCipher::new(A, None).seal("tok");
        assert_eq!(TokenCipher::new(B, None).open(&sealed), Err(OpenError));
        assert_eq!(
            TokenCipher::new(B, Some(A)).open(&sealed),
            Ok(("tok".into(), true))
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let cipher = TokenCipher::new(A, None);
        let mut sealed = cipher.seal("tok");
        *sealed.last_mut().unwrap() ^= 1;
        assert_eq!(cipher.open(&sealed), Err(OpenError));
        assert_eq!(cipher.open(&[VERSION, 1, 2]), Err(OpenError));
    }
}
