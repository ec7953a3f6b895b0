//! `cim-nix service`: runs the NATS micro-service (see
//! [`crate::nats::service`]) until stopped.

use clap::Args;

use crate::config::NatsSettings;

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// NATS server URL(s), comma-separated (else $NATS_URL).
    #[arg(long, env = "NATS_URL", value_name = "URL")]
    pub nats: String,
    /// Subject prefix: endpoints are `{prefix}.query.document.diagnostics`, ...
    #[arg(long, default_value = "nix", value_name = "PREFIX")]
    pub prefix: String,
    /// NATS credentials file (JWT and nkey seed).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<String>,
    /// File holding an nkey seed.
    #[arg(long, value_name = "FILE")]
    pub nkey_seed: Option<String>,
    /// Token (else $NATS_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    #[arg(long, value_name = "USER", requires = "password")]
    pub user: Option<String>,
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    pub password: Option<String>,
    /// CA certificate to verify the server with (turns TLS on).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<String>,
    /// Client certificate for mutual TLS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<String>,
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<String>,
}

pub fn run(args: &ServiceArgs) -> i32 {
    if !crate::config::valid_subject_prefix(&args.prefix) {
        eprintln!(
            "cim-nix service: `{}` is not a valid subject prefix (tokens separated by `.`, no spaces, `*` or `>`)",
            args.prefix
        );
        return 2;
    }
    let settings = NatsSettings {
        url: Some(args.nats.clone()),
        creds_file: args.creds.clone(),
        nkey_seed_file: args.nkey_seed.clone(),
        token: args.token.clone(),
        user: args.user.clone(),
        password: args.password.clone(),
        tls_ca: args.tls_ca.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        subject_prefix: args.prefix.clone(),
        ..NatsSettings::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Requests are analysed on blocking threads; tree walks need stack.
        .thread_stack_size(32 << 20)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cim-nix service: cannot start: {e}");
            return 1;
        }
    };
    match runtime.block_on(crate::nats::service::run(&settings)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cim-nix service: {e}");
            1
        }
    }
}
