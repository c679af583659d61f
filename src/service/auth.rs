//! Optional bearer-token authentication for the classifier service (health and reflection stay
//! open so probes and `grpcurl list` work).

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// The token clients must send as `authorization: Bearer <token>`.
#[derive(Clone)]
pub struct BearerToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<hidden>)")
    }
}

impl BearerToken {
    /// A checker for `token` (surrounding whitespace, such as a file's final newline, is ignored).
    pub fn new(token: &str) -> Result<Self, String> {
        let token = token.trim();
        if token.is_empty() {
            return Err("the bearer token is empty".into());
        }
        Ok(Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        })
    }

    /// Accepts a request carrying the token; UNAUTHENTICATED otherwise. The comparison takes the
    /// same time whatever the token sent (both sides are hashed to 32 bytes and compared whole).
    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let sent = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let sent: [u8; 32] = Sha256::digest(sent.trim().as_bytes()).into();
        let difference = sent
            .iter()
            .zip(&self.digest)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 {
            Ok(request)
        } else {
            Err(Status::unauthenticated(
                "missing or wrong bearer token: send the metadata `authorization: Bearer <token>`",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
        request
    }

    #[test]
    fn only_the_right_token_passes() {
        let token = BearerToken::new("s3cret\n").unwrap();
        assert!(token.check(with_header("Bearer s3cret")).is_ok());
        assert_eq!(
            token.check(with_header("Bearer s3cre")).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        assert!(token.check(with_header("s3cret")).is_err());
        assert!(token.check(Request::new(())).is_err());
        assert!(BearerToken::new(" \n").is_err());
        assert_eq!(format!("{token:?}"), "BearerToken(<hidden>)");
    }
}
