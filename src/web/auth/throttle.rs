//! Sign-in throttling: a name's password cannot be guessed at full speed, nor many names'
//! from one address. `governor`'s keyed GCRA limiters, one per process (each replica holds
//! its own: N replicas allow N times the rate, still far below guessing speed).

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::{num::NonZeroU32, sync::Arc};

/// Failed sign-ins one name may have a minute before it is refused unchecked for a while
/// (a person who mistypes gets a few more goes; a guesser gets five a minute).
pub const SIGN_IN_FAILURES_PER_NAME_PER_MINUTE: u32 = 5;
/// Sign-ins one address may try a minute, over all names (an office behind one address
/// signs in at the start of a shift).
pub const SIGN_INS_PER_ADDRESS_PER_MINUTE: u32 = 30;

#[derive(Clone)]
pub struct SignInThrottle {
    /// Failures per name: a name whose budget is spent is refused until it recovers.
    failures: Arc<DefaultKeyedRateLimiter<String>>,
    locked: Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
    addresses: Arc<DefaultKeyedRateLimiter<String>>,
    lock_for: std::time::Duration,
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
            SIGN_IN_FAILURES_PER_NAME_PER_MINUTE,
            SIGN_INS_PER_ADDRESS_PER_MINUTE,
        )
    }
}

impl SignInThrottle {
    pub fn new(failures_per_name: u32, per_address: u32) -> Self {
        // The failure that spends the budget locks the name: a burst one smaller.
        let failures = per_minute(failures_per_name).allow_burst(
            NonZeroU32::new(failures_per_name.saturating_sub(1).max(1)).unwrap_or(NonZeroU32::MIN),
        );
        SignInThrottle {
            failures: Arc::new(RateLimiter::keyed(failures)),
            locked: Arc::default(),
            addresses: Arc::new(RateLimiter::keyed(per_minute(per_address))),
            // One failure's worth of the budget back.
            lock_for: std::time::Duration::from_secs(60 / u64::from(failures_per_name.max(1))),
        }
    }

    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Whether a sign-in may be tried for `name` from `address`: each try counts against
    /// the address; a name that failed too often is refused without its password checked.
    pub fn admit(&self, name: &str, address: &str) -> Result<(), &'static str> {
        // Forget keys that have recovered, so the maps stay small whatever is tried.
        if self.addresses.len() > 10_000 {
            self.addresses.retain_recent();
        }
        if self.failures.len() > 10_000 {
            self.failures.retain_recent();
        }
        if self.addresses.check_key(&address.to_string()).is_err() {
            return Err("address");
        }
        let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
        locked.retain(|_, until| until.elapsed() < self.lock_for);
        if locked.contains_key(&Self::key(name)) {
            return Err("name");
        }
        Ok(())
    }

    /// Counts a failed sign-in of `name`; past the budget the name is refused a while.
    pub fn failed(&self, name: &str) {
        let key = Self::key(name);
        if self.failures.check_key(&key).is_err() {
            let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
            locked.insert(key, std::time::Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gets_a_few_failures_a_minute_and_an_address_a_few_tries() {
        let throttle = SignInThrottle::new(3, 6);
        // Signing in well never locks a name.
        for _ in 0..4 {
            assert_eq!(throttle.admit("Ana", "10.0.0.9"), Ok(()));
        }
        for _ in 0..3 {
            assert_eq!(throttle.admit("bo", "10.0.0.1"), Ok(()));
            throttle.failed("Bo");
        }
        assert_eq!(throttle.admit("BO", "10.0.0.2"), Err("name"));
        assert_eq!(throttle.admit("ana", "10.0.0.2"), Ok(()));
        assert_eq!(throttle.admit("cy", "10.0.0.1"), Ok(()));
        assert_eq!(throttle.admit("dee", "10.0.0.1"), Ok(()));
        assert_eq!(throttle.admit("eve", "10.0.0.1"), Ok(()));
        assert_eq!(throttle.admit("fay", "10.0.0.1"), Err("address"));
        assert_eq!(throttle.admit("eve", "10.0.0.3"), Ok(()));
    }
}
