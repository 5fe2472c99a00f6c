//! The time the caches go by (anonymity flag, signing keys, verified tokens): the real
//! clock in production, or one that only moves when a test moves it, so a test can pass
//! a TTL without sleeping through it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Manual>>);

struct Manual {
    instant: Instant,
    system: SystemTime,
    elapsed: Mutex<Duration>,
}

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock stopped at the moment it is made; it moves only by [`Clock::advance`].
    pub fn manual() -> Self {
        Self(Some(Arc::new(Manual {
            instant: Instant::now(),
            system: SystemTime::now(),
            elapsed: Mutex::new(Duration::ZERO),
        })))
    }

    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(manual) => manual.instant + manual.elapsed(),
        }
    }

    /// Seconds since the Unix epoch, as token claims count time.
    pub fn unix_secs(&self) -> i64 {
        let now = match &self.0 {
            None => SystemTime::now(),
            Some(manual) => manual.system + manual.elapsed(),
        };
        now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
    }

    /// Moves a manual clock on; every copy of it sees the move.
    ///
    /// # Panics
    /// On the system clock, which no one can move.
    pub fn advance(&self, by: Duration) {
        let manual = self.0.as_ref().expect("only a manual clock can be advanced");
        *manual.elapsed.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl Manual {
    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("Clock::system"),
            Some(manual) => write!(f, "Clock::manual(+{:?})", manual.elapsed()),
        }
    }
}

/// RFC 3339 UTC with milliseconds, as every timestamp of the API is written.
pub fn rfc3339_millis(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// [`rfc3339_millis`] of a unix instant in seconds.
pub fn rfc3339_millis_of_secs(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs).map(rfc3339_millis).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced_and_its_copies_move_with_it() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let (instant, unix) = (clock.now(), clock.unix_secs());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(copy.now(), instant);
        clock.advance(Duration::from_secs(90));
        assert_eq!(copy.now(), instant + Duration::from_secs(90));
        assert_eq!(copy.unix_secs(), unix + 90);
    }

    #[test]
    fn the_system_clock_follows_real_time() {
        let before = Instant::now();
        assert!(Clock::system().now() >= before);
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((Clock::system().unix_secs() - unix).abs() <= 1);
    }
}
