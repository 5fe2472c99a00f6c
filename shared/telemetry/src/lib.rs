//! JSON logs, one line per event, and masking for personal data in them. Each request
//! ends with one line of its own ([`log_request`]) that also carries its metrics in
//! CloudWatch's Embedded Metric Format.

use std::io::Write;
use std::str::FromStr;
use std::sync::OnceLock;

pub mod metrics;

use serde_json::{Map, Value, json};

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
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Clone + Send + Sync + 'static,
{
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let lines = writer.clone();
    let _ = REQUEST_LINES.set(RequestLines {
        write: Box::new(move |line| {
            let _ = lines.make_writer().write_all(line);
        }),
        info: filter.would_enable("shared::http", &tracing::Level::INFO),
    });
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(writer)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry().with(logs).with(filter).try_init();
}

struct RequestLines {
    write: Box<dyn Fn(&[u8]) + Send + Sync>,
    /// Whether `RUST_LOG` lets info lines through; a failed request's line always goes.
    info: bool,
}

static REQUEST_LINES: OnceLock<RequestLines> = OnceLock::new();

/// What a request's line says besides its metrics.
#[derive(Debug)]
pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub uid: Option<&'a str>,
    pub lambda_request_id: Option<&'a str>,
    /// The internal cause of a failure, with its chain; never sent to the caller.
    pub error: Option<String>,
    pub metrics: crate::metrics::RequestMetrics<'a>,
}

/// Writes the request's one line: who, what, how long, and its EMF metrics. Not a
/// `tracing` event: EMF needs objects and numbers at the top level of the line.
pub fn log_request(line: RequestLine<'_>) {
    let Some(lines) = REQUEST_LINES.get() else { return };
    if line.error.is_none() && !lines.info {
        return;
    }
    let mut object = Map::new();
    let (level, message) = if line.error.is_some() { ("ERROR", "request failed") } else { ("INFO", "request") };
    object.insert("level".into(), json!(level));
    object.insert("message".into(), json!(message));
    object.insert("request_id".into(), json!(line.request_id));
    object.insert("route".into(), json!(line.metrics.route));
    object.insert("status".into(), json!(line.metrics.status));
    object.insert("latency_ms".into(), json!(line.metrics.latency_ms));
    for (key, value) in [("uid", line.uid), ("lambda_request_id", line.lambda_request_id)] {
        if let Some(value) = value {
            object.insert(key.into(), json!(value));
        }
    }
    if let Some(error) = &line.error {
        object.insert("error".into(), json!(error));
    }
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    object.extend(crate::metrics::emf(&line.metrics, now_ms));
    let mut text = serde_json::to_vec(&Value::Object(object)).unwrap_or_default();
    text.push(b'\n');
    (lines.write)(&text);
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
