//! express-session's cookie signature: `s:` + id + `.` + the unpadded
//! standard base64 of HMAC-SHA256(key = secret, message = id).

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit as _, Mac as _};
use session_core::{Error, SessionId};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What express-session puts before a signed value.
const SIGNED_PREFIX: &str = "s:";

/// Signs session ids as express-session does, and checks signed values
/// against several secrets, so secrets can be rotated: the first secret
/// signs, every secret is accepted.
///
/// An Express app with `secret: ["new", "old"]` and a `CookieSigner` built
/// from the same secrets in the same order read each other's cookies.
///
/// ```
/// use session_core::SessionId;
/// use session_middleware::CookieSigner;
///
/// let id = SessionId::parse("ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs")?;
/// let old = CookieSigner::new(["keyboard cat"])?;
/// let signed = old.sign(&id);
/// assert_eq!(signed, "s:ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs.jD8qzMCNLZh+l37gSqNm18fQ4O7UwXhwNQ61hYg7kL4");
///
/// // Rotation: a new secret first, the old one still accepted.
/// let rotated = CookieSigner::new(["new secret", "keyboard cat"])?;
/// assert_eq!(rotated.verify(&signed), Some(id.clone()));
/// assert_ne!(rotated.sign(&id), signed);
/// assert_eq!(old.verify(&rotated.sign(&id)), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CookieSigner {
    /// One keyed HMAC per secret, in order. Cloning a keyed state is cheaper
    /// than keying a new one for every cookie.
    keys: Vec<HmacSha256>,
}

impl CookieSigner {
    /// A signer for `secrets`, in order: the first signs.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when there is no secret or one is empty.
    pub fn new<I, S>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let keys = secrets
            .into_iter()
            .map(|secret| {
                let secret = secret.as_ref();
                if secret.is_empty() {
                    return Err(Error::InvalidInput("a secret must not be empty".into()));
                }
                // HMAC takes keys of any length, so this never fails in practice.
                HmacSha256::new_from_slice(secret)
                    .map_err(|_| Error::InvalidInput("a secret cannot be used as an HMAC key".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(Error::InvalidInput("at least one secret is needed".into()));
        }
        Ok(Self { keys })
    }

    /// `s:` + the id + `.` + its signature with the first secret: the
    /// cookie's value before percent-encoding.
    pub fn sign(&self, id: &SessionId) -> String {
        let mut signed = String::with_capacity(SIGNED_PREFIX.len() + id.as_str().len() + 44);
        signed.push_str(SIGNED_PREFIX);
        signed.push_str(id.as_str());
        signed.push('.');
        // `new` refused an empty list, so there is always a first key.
        if let Some(key) = self.keys.first() {
            let mut mac = key.clone();
            mac.update(id.as_str().as_bytes());
            STANDARD_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut signed);
        }
        signed
    }

    /// The id in `signed` (`s:` + id + `.` + signature, already
    /// percent-decoded) when one of the secrets signed it and it is a valid
    /// [`SessionId`]; `None` for anything else.
    ///
    /// The id ends at the last `.`, as in express-session, so ids holding a
    /// `.` work. Signatures are compared in constant time.
    pub fn verify(&self, signed: &str) -> Option<SessionId> {
        let (id, signature) = signed.strip_prefix(SIGNED_PREFIX)?.rsplit_once('.')?;
        let id = SessionId::parse(id).ok()?;
        // Strict decoding (no padding, no stray bits) accepts exactly the
        // one string express-session would compare equal.
        let tag = STANDARD_NO_PAD.decode(signature).ok()?;
        self.keys
            .iter()
            .any(|key| {
                let mut mac = key.clone();
                mac.update(id.as_str().as_bytes());
                mac.verify_slice(&tag).is_ok()
            })
            .then_some(id)
    }
}

impl fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieSigner")
            .field("secrets", &self.keys.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs";
    /// Computed by express-session's own signer (cookie-signature) in Node.
    const SIGNED: &str = "s:ZxkRL0Dk1h3lQmPq7i9cTb2h5vYb8mJs.jD8qzMCNLZh+l37gSqNm18fQ4O7UwXhwNQ61hYg7kL4";

    fn id(text: &str) -> SessionId {
        SessionId::parse(text).unwrap()
    }

    #[test]
    fn matches_express_session() {
        let signer = CookieSigner::new(["keyboard cat"]).unwrap();
        assert_eq!(signer.sign(&id(ID)), SIGNED);
        assert_eq!(signer.verify(SIGNED), Some(id(ID)));
    }

    #[test]
    fn rotation_signs_with_the_first_and_accepts_all() {
        let rotated = CookieSigner::new(["fresh", "keyboard cat"]).unwrap();
        assert_eq!(
            rotated.verify(SIGNED),
            Some(id(ID)),
            "the old secret still verifies"
        );
        let signed = rotated.sign(&id(ID));
        assert_ne!(signed, SIGNED, "new cookies use the first secret");
        assert_eq!(
            CookieSigner::new(["fresh"]).unwrap().verify(&signed),
            Some(id(ID))
        );
        assert_eq!(CookieSigner::new(["keyboard cat"]).unwrap().verify(&signed), None);
    }

    #[test]
    fn refuses_what_express_session_refuses() {
        let signer = CookieSigner::new(["keyboard cat"]).unwrap();
        let signature = SIGNED.rsplit_once('.').unwrap().1;
        for tampered in [
            SIGNED.trim_start_matches("s:").to_owned(), // unsigned
            SIGNED.replacen("Zxk", "Zxj", 1),           // another id
            SIGNED.replace("jD8q", "jD8r"),             // another signature
            format!("{SIGNED}="),                       // padded
            SIGNED.replace("kL4", "kL5"),               // the same bytes, with stray low bits
            SIGNED.replace('+', "-"),                   // URL-safe alphabet
            SIGNED[..SIGNED.len() - 1].to_owned(),      // truncated
            format!("{SIGNED}A"),                       // lengthened
            format!("s:{ID}"),                          // no signature at all
            format!("s:{ID}.{signature}.{signature}"),  // the id is all before the last dot
            format!("s:.{signature}"),                  // empty id
            format!("s:a b.{signature}"),               // not a valid SessionId
            String::new(),
        ] {
            assert_eq!(signer.verify(&tampered), None, "{tampered}");
        }
        assert_eq!(CookieSigner::new(["another"]).unwrap().verify(SIGNED), None);
    }

    #[test]
    fn ids_with_dots_split_at_the_last_one() {
        let signer = CookieSigner::new(["k"]).unwrap();
        let dotted = id("a.b.c");
        assert_eq!(signer.verify(&signer.sign(&dotted)), Some(dotted));
    }

    #[test]
    fn refuses_no_secret_and_empty_secrets() {
        assert!(matches!(
            CookieSigner::new(Vec::<&str>::new()),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            CookieSigner::new(["ok", ""]),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn debug_hides_the_secrets() {
        let shown = format!("{:?}", CookieSigner::new(["hunter2"]).unwrap());
        assert_eq!(shown, "CookieSigner { secrets: 1 }");
    }
}
