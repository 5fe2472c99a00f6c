//! JSON logs, one line per event, and masking for personal data in them.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber (`RUST_LOG` overrides the level). Safe to call twice.
pub fn init() {
    init_with(std::io::stdout);
}

/// The same subscriber, writing elsewhere (tests capture the logs this way).
pub fn init_with<W>(writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .try_init();
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
    fn phone_masking_keeps_only_the_prefix_and_last_two_digits() {
        assert_eq!(mask_phone("+6281234567890"), "+6281*******90");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn email_masking_keeps_the_first_letter_and_domain() {
        assert_eq!(mask_email("operator@halobestie.com"), "o***@halobestie.com");
    }
}
