//! Sign-in throttling: a name's password cannot be guessed at full speed, nor many names'
//! from one address. `governor`'s keyed GCRA limiters, one per process (each replica holds
//! its own: N replicas allow N times the rate, still far below guessing speed).

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::{num::NonZeroU32, sync::Arc};

/// Sign-ins one name may try a minute (a person who mistypes gets a few more goes).
pub const SIGN_INS_PER_NAME_PER_MINUTE: u32 = 5;
/// Sign-ins one address may try a minute, over all names (an office behind one address
/// signs in at the start of a shift).
pub const SIGN_INS_PER_ADDRESS_PER_MINUTE: u32 = 30;

#[derive(Clone)]
pub struct SignInThrottle {
    names: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for SignInThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInThrottle")
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle::new(
            SIGN_INS_PER_NAME_PER_MINUTE,
            SIGN_INS_PER_ADDRESS_PER_MINUTE,
        )
    }
}

impl SignInThrottle {
    pub fn new(per_name: u32, per_address: u32) -> Self {
        SignInThrottle {
            names: Arc::new(RateLimiter::keyed(per_minute(per_name))),
            addresses: Arc::new(RateLimiter::keyed(per_minute(per_address))),
        }
    }

    /// Whether one more sign-in may be tried for `name` from `address`; each try counts
    /// against both. Names are compared as typed, lowercased.
    pub fn admit(&self, name: &str, address: &str) -> Result<(), &'static str> {
        // Forget keys that have recovered, so the maps stay small whatever is tried.
        if self.names.len() > 10_000 {
            self.names.retain_recent();
        }
        if self.addresses.len() > 10_000 {
            self.addresses.retain_recent();
        }
        if self.addresses.check_key(&address.to_string()).is_err() {
            return Err("address");
        }
        if self.names.check_key(&name.trim().to_lowercase()).is_err() {
            return Err("name");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_an_address_each_get_a_few_tries_a_minute() {
        let throttle = SignInThrottle::new(3, 5);
        for _ in 0..3 {
            assert_eq!(throttle.admit("Ana", "10.0.0.1"), Ok(()));
        }
        assert_eq!(throttle.admit("ana", "10.0.0.2"), Err("name"));
        assert_eq!(throttle.admit("bo", "10.0.0.1"), Ok(()));
        assert_eq!(throttle.admit("cy", "10.0.0.1"), Ok(()));
        assert_eq!(throttle.admit("dee", "10.0.0.1"), Err("address"));
        assert_eq!(throttle.admit("dee", "10.0.0.3"), Ok(()));
    }
}
