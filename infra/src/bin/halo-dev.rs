//! Local development commands. See the README.
//!
//!   halo-dev serve    prepare the local stage, then serve the public and internal APIs
//!   halo-dev setup    create tables and the anonymity parameter, and seed (local stages)
//!   halo-dev seed     seed roles and the super admin (any stage)
//!   halo-dev load [--clients 32] [--seconds 120]   a bounded load run against a running local API
//!   halo-dev load --chaos [--clients 16]   serve behind fault proxies, break them in turn, reconcile
//!   halo-dev token <anonymous|phone|google|mitra|admin> [--uid U] [--phone P] [--email E] [--unverified]
//!   halo-dev tokens   one token per stdin line of `token`'s arguments
//!   halo-dev openapi <public|internal>   print that surface's OpenAPI spec (as in openapi/*.json)

//! Local development commands. See the README, or `halo-dev --help`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use infra::certs::CertServer;
use infra::devtoken::{Minter, Persona};
use infra::gateway::{Gateway, serve};
use shared::App;
use shared::routes::Surface;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// HaloBestie's local development commands.
#[derive(Parser)]
#[command(name = "halo-dev")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare the local stage, then serve the public and internal APIs (PUBLIC_PORT, INTERNAL_PORT).
    Serve,
    /// Create the tables and the anonymity parameter, and seed (local stages).
    Setup,
    /// Seed the roles and the super admin SUPER_ADMIN_EMAIL (any stage).
    Seed,
    /// A bounded load run against a running local API.
    Load {
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// How long to run.
        #[arg(long, default_value_t = 120, conflicts_with = "chaos")]
        seconds: u64,
        /// Start the API itself, its DynamoDB, SSM and certificates behind fault proxies
        /// (DYNAMODB_PROXY_PORT, SSM_PROXY_PORT, CERTS_PROXY_PORT), fail each in turn under
        /// the traffic, then reconcile storage with the answers.
        #[arg(long)]
        chaos: bool,
        /// The served API's log (with --chaos).
        #[arg(long, default_value = "halo-dev-serve.log")]
        server_log: PathBuf,
    },
    /// Print a dev ID token, signed by the dev key, for FIREBASE_PROJECT_ID.
    Token(TokenArgs),
    /// Mint many tokens: each stdin line holds the arguments of `token`, each stdout line its
    /// token, or nothing for arguments it cannot take (one process, not one per token).
    Tokens,
    /// Print a surface's OpenAPI spec (as in openapi/*.json).
    Openapi {
        #[arg(value_enum)]
        surface: SurfaceArg,
    },
    /// Store on the local stage what a route's example needs, then print its event fixture
    /// (events/<route>.json) filled in: ready for `sam local invoke -e` or the RIE.
    Event {
        /// The route's name, as its function is named.
        route: String,
    },
    /// Write every file derived from the route table (shared::routes::ALL).
    Gen {
        /// Write nothing; list the files that differ and fail if any does.
        #[arg(long)]
        check: bool,
        /// The repository to write into.
        #[arg(long, default_value_os_t = infra::generate::default_root())]
        root: PathBuf,
    },
}

#[derive(clap::Args)]
struct TokenArgs {
    #[arg(value_enum)]
    kind: Kind,
    /// The token's uid (sub); a fresh one when not given.
    #[arg(long)]
    uid: Option<String>,
    /// The phone number of a phone or mitra token.
    #[arg(long, default_value = "+6281234567890")]
    phone: String,
    /// The email of a google or admin token (admin: SUPER_ADMIN_EMAIL by default).
    #[arg(long)]
    email: Option<String>,
    /// An admin token whose email is not verified.
    #[arg(long)]
    unverified: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Anonymous,
    Phone,
    Google,
    Mitra,
    Admin,
}

#[derive(Clone, Copy, ValueEnum)]
enum SurfaceArg {
    Public,
    Internal,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve => run_local().await,
        Command::Setup => {
            shared::telemetry::init();
            let app = App::from_env().await?;
            shared::seed::prepare_local(&app, &env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com")).await
        }
        Command::Seed => {
            shared::telemetry::init();
            let app = App::from_env().await?;
            let email = std::env::var("SUPER_ADMIN_EMAIL").context("SUPER_ADMIN_EMAIL must be set")?;
            shared::seed::seed_super_admin(&app, &email).await
        }
        Command::Load { clients, chaos: true, server_log, .. } => {
            infra::chaos::run(infra::chaos::ChaosPlan {
                public_port: env_or("PUBLIC_PORT", "3000"),
                internal_port: env_or("INTERNAL_PORT", "3001"),
                certs_port: env_or("DEV_CERTS_PORT", "3002"),
                proxy_ports: [
                    env_or("DYNAMODB_PROXY_PORT", "3003"),
                    env_or("SSM_PROXY_PORT", "3004"),
                    env_or("CERTS_PROXY_PORT", "3005"),
                ],
                admin_email: env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com"),
                project_id: env_or("FIREBASE_PROJECT_ID", "halobestie-local"),
                clients,
                server_log,
            })
            .await
        }
        Command::Load { clients, seconds, chaos: false, .. } => {
            infra::load::run(infra::load::LoadPlan {
                public_url: format!("http://127.0.0.1:{}", env_or("PUBLIC_PORT", "3000")),
                internal_url: format!("http://127.0.0.1:{}", env_or("INTERNAL_PORT", "3001")),
                admin_email: env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com"),
                project_id: env_or("FIREBASE_PROJECT_ID", "halobestie-local"),
                clients,
                duration: std::time::Duration::from_secs(seconds),
            })
            .await
        }
        Command::Token(args) => {
            println!("{}", mint(args)?);
            Ok(())
        }
        Command::Tokens => mint_lines(),
        Command::Openapi { surface } => {
            let surface = match surface {
                SurfaceArg::Public => Surface::Public,
                SurfaceArg::Internal => Surface::Internal,
            };
            print!("{}", infra::specs::to_json(surface));
            Ok(())
        }
        Command::Event { route } => print_event(&route).await,
        Command::Gen { check: true, root } => {
            let stale = infra::generate::stale(&root, &shared::routes::ALL)?;
            if stale.is_empty() {
                return Ok(());
            }
            for file in &stale {
                eprintln!("stale: {file}");
            }
            eprintln!("{} file(s) differ from the route table; run `halo-dev gen`", stale.len());
            std::process::exit(1)
        }
        Command::Gen { check: false, root } => {
            for file in infra::generate::write(&root, &shared::routes::ALL)? {
                eprintln!("wrote {file}");
            }
            let mounted: Vec<_> = infra::endpoints::all().into_iter().map(|m| m.route).collect();
            let new: Vec<&str> = shared::routes::ALL.iter().filter(|r| !mounted.contains(r)).map(|r| r.name).collect();
            if !new.is_empty() {
                // This build's specs cannot describe them: the mount table it just wrote is not in it.
                eprintln!(
                    "not yet in the specs: {}; run `cargo run -p infra --bin halo-dev -- gen` again",
                    new.join(", ")
                );
            }
            Ok(())
        }
    }
}

async fn run_local() -> anyhow::Result<()> {
    shared::telemetry::init();
    let cert_port = env_or("DEV_CERTS_PORT", "3002");
    let max_age = env_or("DEV_CERTS_MAX_AGE", "3600").parse().context("DEV_CERTS_MAX_AGE must be whole seconds")?;
    let certs = CertServer::dev_key(&format!("127.0.0.1:{cert_port}"), max_age)
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

async fn print_event(name: &str) -> anyhow::Result<()> {
    let route = shared::routes::ALL.into_iter().find(|r| r.name == name).with_context(|| format!("no route {name}"))?;
    // The super admin signs in through the handler, which fetches the dev certificate: served
    // here unless `halo-dev serve` already serves it on that port.
    let cert_port = env_or("DEV_CERTS_PORT", "3002");
    let _certs = CertServer::dev_key(&format!("127.0.0.1:{cert_port}"), 3600).await.ok();
    let app = App::from_env().await?;
    let minter = Minter::dev(&app.config.firebase.project_id)?;
    let super_admin_uid = Persona::default_uid("admin");
    let super_admin_email = env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com");
    let stage = infra::fixture::Stage {
        app: &app,
        mint: Box::new(move |persona| minter.token(&persona)),
        super_admin_uid: &super_admin_uid,
        super_admin_email: &super_admin_email,
    };
    let prepared = stage.prepare(&route).await?;
    let fixture = infra::generate::default_root().join("events").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&fixture).with_context(|| format!("reading {}", fixture.display()))?;
    print!("{}", prepared.fill(&text));
    Ok(())
}

fn mint_lines() -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lines() {
        let line = line?;
        let token = match Cli::try_parse_from(["halo-dev", "token"].into_iter().chain(line.split_whitespace())) {
            Ok(Cli { command: Command::Token(args) }) => mint(args)?,
            _ => String::new(),
        };
        writeln!(out, "{token}")?;
        out.flush()?;
    }
    Ok(())
}

fn mint(args: TokenArgs) -> anyhow::Result<String> {
    let kind = args.kind.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
    let uid = args.uid.unwrap_or_else(|| Persona::default_uid(&kind));
    let persona = match args.kind {
        Kind::Anonymous => Persona::Anonymous { uid },
        Kind::Phone => Persona::PhoneCustomer { uid, phone: args.phone },
        Kind::Google => {
            Persona::GoogleCustomer { uid, email: args.email.unwrap_or_else(|| "customer@example.com".into()) }
        }
        Kind::Mitra => Persona::Mitra { uid, phone: args.phone },
        Kind::Admin => Persona::ControlCenter {
            uid,
            email: args.email.unwrap_or_else(|| env_or("SUPER_ADMIN_EMAIL", "admin@halobestie.com")),
            email_verified: !args.unverified,
        },
    };
    Ok(Minter::dev(&env_or("FIREBASE_PROJECT_ID", "halobestie-local"))?.token(&persona))
}
