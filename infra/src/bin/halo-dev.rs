//! Local development commands. See the README.
//!
//!   halo-dev serve    prepare the local stage, then serve the public and internal APIs
//!   halo-dev setup    create tables and the anonymity parameter, and seed (local stages)
//!   halo-dev seed     seed roles and the super admin (any stage)
//!   halo-dev load [--clients 32] [--seconds 120]   a bounded load run against a running local API
//!   halo-dev token <anonymous|phone|google|mitra|admin> [--uid U] [--phone P] [--email E] [--unverified]
//!   halo-dev openapi <public|internal>   print that surface's OpenAPI spec (as in openapi/*.json)

use std::sync::Arc;

use anyhow::{Context, bail};
use infra::certs::CertServer;
use infra::devtoken::{Minter, Persona};
use infra::gateway::{Gateway, serve};
use shared::App;
use shared::routes::Surface;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => run_local().await,
        Some("setup") => {
            shared::telemetry::init();
            let app = App::from_env().await?;
            shared::seed::prepare_local(&app, &env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com")).await
        }
        Some("seed") => {
            shared::telemetry::init();
            let app = App::from_env().await?;
            shared::seed::seed_super_admin(
                &app,
                &std::env::var("SUPER_ADMIN_EMAIL").context("SUPER_ADMIN_EMAIL must be set")?,
            )
            .await
        }
        Some("load") => {
            infra::load::run(infra::load::LoadPlan {
                public_url: format!("http://127.0.0.1:{}", env_or("PUBLIC_PORT", "3000")),
                internal_url: format!("http://127.0.0.1:{}", env_or("INTERNAL_PORT", "3001")),
                admin_email: env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com"),
                project_id: env_or("FIREBASE_PROJECT_ID", "halobestie-local"),
                clients: flag(&args, "--clients").map(|c| c.parse()).transpose()?.unwrap_or(32),
                duration: std::time::Duration::from_secs(
                    flag(&args, "--seconds").map(|s| s.parse()).transpose()?.unwrap_or(120),
                ),
            })
            .await
        }
        Some("token") => {
            println!("{}", mint(&args[1..])?);
            Ok(())
        }
        Some("openapi") => {
            let surface = match args.get(1).map(String::as_str) {
                Some("public") => Surface::Public,
                Some("internal") => Surface::Internal,
                _ => bail!("usage: halo-dev openapi <public|internal>"),
            };
            print!("{}", infra::openapi::to_json(surface));
            Ok(())
        }
        _ => bail!(
            "usage: halo-dev serve | setup | seed | openapi <public|internal> | token <anonymous|phone|google|mitra|admin> [--uid U] [--phone P] [--email E] [--unverified]"
        ),
    }
}

async fn run_local() -> anyhow::Result<()> {
    shared::telemetry::init();
    let cert_port = env_or("DEV_CERTS_PORT", "3002");
    let certs = CertServer::dev_key(&format!("127.0.0.1:{cert_port}"), 3600)
        .await
        .context("starting the dev certificate server")?;
    let app = Arc::new(App::from_env().await?);
    let admin = env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com");
    shared::seed::prepare_local(&app, &admin).await?;
    let public_port = env_or("PUBLIC_PORT", "3000");
    let internal_port = env_or("INTERNAL_PORT", "3001");
    let public =
        tokio::net::TcpListener::bind(format!("127.0.0.1:{public_port}")).await.context("binding the public port")?;
    let internal = tokio::net::TcpListener::bind(format!("127.0.0.1:{internal_port}"))
        .await
        .context("binding the internal port")?;
    let minter = Minter::dev(&app.config.firebase.project_id)?;
    let admin_token = minter.token(&Persona::ControlCenter {
        uid: Persona::default_uid("admin"),
        email: admin.clone(),
        email_verified: true,
    });
    let customer_token = minter.token(&Persona::Anonymous { uid: Persona::default_uid("anonymous") });
    eprintln!(
        "\nHaloBestie is up.\n  public API:    http://127.0.0.1:{public_port}\n  internal API:  http://127.0.0.1:{internal_port}\n  \
         dev certs:     {}\n  Firebase certs in use: {}\n\nTry:\n  curl -s http://127.0.0.1:{public_port}/api/shared/config/anonymity -H 'Authorization: Bearer {customer_token}'\n  \
         curl -s -X POST http://127.0.0.1:{internal_port}/internal/auth/verify -H 'Authorization: Bearer {admin_token}'\n\n\
         More tokens: {} token <anonymous|phone|google|mitra|admin>\n",
        certs.url(),
        app.config.firebase.certs_url,
        std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "halo-dev".into()),
    );
    tokio::try_join!(
        serve(Gateway::new(app.clone(), Surface::Public), public),
        serve(Gateway::new(app, Surface::Internal), internal)
    )?;
    Ok(())
}

/// The value after `--name` on the command line.
fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn mint(args: &[String]) -> anyhow::Result<String> {
    let uid = flag(args, "--uid").unwrap_or_else(|| Persona::default_uid(args.first().map_or("", String::as_str)));
    let phone = flag(args, "--phone").unwrap_or_else(|| "+6281234567890".into());
    let persona = match args.first().map(String::as_str) {
        Some("anonymous") => Persona::Anonymous { uid },
        Some("phone") => Persona::PhoneCustomer { uid, phone },
        Some("google") => Persona::GoogleCustomer {
            uid,
            email: flag(args, "--email").unwrap_or_else(|| "customer@example.com".into()),
        },
        Some("mitra") => Persona::Mitra { uid, phone },
        Some("admin") => Persona::ControlCenter {
            uid,
            email: flag(args, "--email").unwrap_or_else(|| env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com")),
            email_verified: !args.iter().any(|a| a == "--unverified"),
        },
        _ => bail!("token kind must be one of: anonymous, phone, google, mitra, admin"),
    };
    Ok(Minter::dev(&env_or("FIREBASE_PROJECT_ID", "halobestie-local"))?.token(&persona))
}
