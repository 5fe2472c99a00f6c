//! JSON logs, one line per event, and masking for personal data in them.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON log subscriber (`RUST_LOG` overrides the level). Safe to call twice.
pub fn init() {
    init_with(std::io::stdout);
}

/// The same subscriber, writing elsewhere (tests capture the logs this way).
pub fn init_with<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(writer)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .try_init();
}

/// `RUST_LOG` as `level` and `target=level` directives (e.g. `warn,shared=debug`); missing or
/// unreadable, `info`. Not `EnvFilter`: its span and field filters need a regex engine that
/// would be most of a function's logging code (BENCHMARKS.md).
fn log_filter(rust_log: Option<&str>) -> Targets {
    let info = || Targets::new().with_default(LevelFilter::INFO);
    match rust_log.map(str::trim) {
        None | Some("") => info(),
        Some(directives) => Targets::from_str(directives).unwrap_or_else(|_| info()),
    }
}

/// `+6281234567890` → `+6281*******90`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (5.min(chars.len() - 2), 2);
    let middle = chars.len() - head - tail;
    format!(
        "{}{}{}",
        chars[..head].iter().collect::<String>(),
        "*".repeat(middle),
        chars[chars.len() - tail..].iter().collect::<String>()
    )
}

/// `operator@halobestie.com` → `o***@halobestie.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_sets_a_default_level_and_per_target_levels() {
        use tracing::Level;
        let filter = log_filter(Some("warn,shared=debug"));
        assert!(filter.would_enable("shared::store", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn missing_or_unreadable_rust_log_means_info() {
        for rust_log in [None, Some(""), Some("shared=loud")] {
            let filter = log_filter(rust_log);
            assert!(filter.would_enable("shared", &tracing::Level::INFO), "{rust_log:?}");
            assert!(!filter.would_enable("shared", &tracing::Level::DEBUG), "{rust_log:?}");
        }
    }

    #[test]
    fn phone_masking_keeps_only_the_prefix_and_last_two_digits() {
        assert_eq!(mask_phone("+6281234567890"), "+6281*******90");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn email_masking_keeps_the_first_letter_and_domain() {
        assert_eq!(mask_email("operator@halobestie.com"), "o***@halobestie.com");
    }
}
