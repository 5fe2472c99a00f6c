//! The `halo-dev` command as a developer runs it (the README sends them here for tokens).

use std::process::{Command, Output};

use infra::devtoken::{DEV_CERT_PEM, DEV_KID};
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::Value;
use shared::firebase::keys::decoding_key_from_cert;

fn halo_dev(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_halo-dev"))
        .args(args)
        .env("FIREBASE_PROJECT_ID", "halobestie-cli-test")
        .output()
        .expect("halo-dev runs")
}

/// The token's claims, once the dev certificate verifies it for the test's project.
fn verified_claims(token: &str) -> Value {
    assert_eq!(decode_header(token).unwrap().kid.as_deref(), Some(DEV_KID));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["halobestie-cli-test"]);
    validation.set_issuer(&["https://securetoken.google.com/halobestie-cli-test"]);
    let key = decoding_key_from_cert(DEV_CERT_PEM).unwrap();
    decode::<Value>(token, &key, &validation).expect("the dev certificate verifies it").claims
}

#[test]
fn token_prints_a_phone_token_signed_by_the_dev_key_for_the_configured_project() {
    let out = halo_dev(&["token", "mitra", "--uid", "cli-mitra", "--phone", "+6281200001111"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let claims = verified_claims(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(claims["sub"], "cli-mitra");
    assert_eq!(claims["phone_number"], "+6281200001111");
    assert_eq!(claims["firebase"]["sign_in_provider"], "phone");
}

#[test]
fn token_refuses_an_unknown_kind_with_a_usage_message() {
    let out = halo_dev(&["token", "superuser"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("anonymous, phone, google, mitra, admin"));
}

#[test]
fn openapi_prints_the_committed_spec_of_each_surface() {
    for surface in ["public", "internal"] {
        let out = halo_dev(&["openapi", surface]);
        assert!(out.status.success());
        let committed =
            std::fs::read_to_string(format!("{}/../openapi/{surface}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(printed, serde_json::from_str::<Value>(&committed).unwrap(), "openapi/{surface}.json");
    }
}

/// The `sub` of the token `halo-dev token <args>` prints, verified with the dev certificate.
fn minted_uid(args: &[&str]) -> String {
    let out = halo_dev(&[&["token"], args].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["halobestie-cli-test"]);
    let key = decoding_key_from_cert(DEV_CERT_PEM).unwrap();
    let claims = decode::<Value>(String::from_utf8(out.stdout).unwrap().trim(), &key, &validation).unwrap().claims;
    claims["sub"].as_str().expect("sub is a string").to_owned()
}

#[test]
fn token_without_a_uid_names_the_same_user_every_time_so_a_bound_uid_keeps_working() {
    for kind in ["anonymous", "phone", "google", "mitra", "admin"] {
        let first = minted_uid(&[kind]);
        assert_eq!(minted_uid(&[kind]), first, "{kind}");
        assert_eq!(first, infra::devtoken::Persona::default_uid(kind), "{kind}");
    }
    assert_eq!(minted_uid(&["admin", "--uid", "someone-else"]), "someone-else");
}

#[test]
fn help_works_on_every_subcommand_and_mints_nothing() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["setup", "--help"],
        &["seed", "--help"],
        &["load", "--help"],
        &["token", "--help"],
        &["token", "admin", "--help"],
        &["openapi", "--help"],
        &["gen", "--help"],
        &["help", "token"],
    ] {
        let out = halo_dev(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("Usage: halo-dev"), "{args:?}: {stdout}");
        assert!(!stdout.contains("eyJ"), "{args:?} printed a token: {stdout}");
    }
    let token_help = String::from_utf8_lossy(&halo_dev(&["token", "--help"]).stdout).into_owned();
    for flag in ["anonymous", "phone", "google", "mitra", "admin", "--uid", "--phone", "--email", "--unverified"] {
        assert!(token_help.contains(flag), "token --help names {flag}: {token_help}");
    }
}

#[test]
fn an_unknown_subcommand_or_flag_fails_with_usage_and_runs_nothing() {
    for args in [&["serv"][..], &["token", "admin", "--uidd", "x"], &["load", "--clients", "many"]] {
        let out = halo_dev(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("try '--help'"), "{args:?}");
    }
}

#[test]
fn token_admin_takes_the_email_and_unverified_flags() {
    let out = halo_dev(&["token", "admin", "--uid", "cli-admin", "--email", "ops@halobestie.com", "--unverified"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let claims = verified_claims(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(claims["sub"], "cli-admin");
    assert_eq!(claims["email"], "ops@halobestie.com");
    assert_eq!(claims["email_verified"], false);
}
