//! NATS, the I/O side of domain events: the connection (auth, TLS), the
//! durable outbox, delivery with JetStream acknowledgements, and the
//! `cim-nix service` request-reply endpoints. What to publish comes from
//! the pure [`crate::events`].

pub mod outbox;
pub mod publisher;
pub mod service;

use std::time::Duration;

use async_nats::{ConnectOptions, Event};
use tokio::sync::watch;

use crate::config::NatsSettings;

pub use publisher::EventSink;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    Connected,
    Disconnected,
}

/// The connect options `settings` describe: credentials, nkey seed, token
/// (or `NATS_TOKEN`), user and password, TLS; reconnecting forever.
pub async fn options(settings: &NatsSettings, name: &str) -> Result<ConnectOptions, String> {
    let mut options = ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .ping_interval(Duration::from_secs(10))
        .reconnect_delay_callback(|attempt| {
            Duration::from_millis((100 * 2u64.saturating_pow(attempt.min(5) as u32)).min(2000))
        });
    if let Some(path) = &settings.creds_file {
        options = options.credentials_file(path).await.map_err(|e| {
            format!("cannot read the NATS credentials file {path} (`nats.credsFile`): {e}")
        })?;
    }
    if let Some(path) = &settings.nkey_seed_file {
        let seed = std::fs::read_to_string(path).map_err(|e| {
            format!("cannot read the NATS nkey seed file {path} (`nats.nkeySeedFile`): {e}")
        })?;
        options = options.nkey(seed.trim().to_string());
    }
    let token = settings
        .token
        .clone()
        .or_else(|| std::env::var("NATS_TOKEN").ok().filter(|t| !t.is_empty()));
    if let Some(token) = token {
        options = options.token(token);
    }
    match (&settings.user, &settings.password) {
        (Some(user), Some(password)) => {
            options = options.user_and_password(user.clone(), password.clone())
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("set both `nats.user` and `nats.password`, or neither".into())
        }
        (None, None) => {}
    }
    if let Some(ca) = &settings.tls_ca {
        options = options.add_root_certificates(ca.into()).require_tls(true);
    }
    match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            options = options
                .add_client_certificate(cert.into(), key.into())
                .require_tls(true)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("set both `nats.tls.cert` and `nats.tls.key`, or neither".into())
        }
        (None, None) => {}
    }
    Ok(options)
}

/// Connects in the background (a server that is down now is retried
/// forever) and reports the connection's state as it changes.
pub async fn connect(
    settings: &NatsSettings,
    name: &str,
) -> Result<(async_nats::Client, watch::Receiver<ConnectionState>), String> {
    let url = settings.url.clone().ok_or("no `nats.url` is set")?;
    let (state_tx, state_rx) = watch::channel(ConnectionState::Connecting);
    let options = options(settings, name).await?.event_callback(move |event| {
        let state_tx = state_tx.clone();
        async move {
            match event {
                Event::Connected => {
                    tracing::info!("connected to NATS");
                    let _ = state_tx.send(ConnectionState::Connected);
                }
                Event::Disconnected => {
                    tracing::warn!("disconnected from NATS; reconnecting");
                    let _ = state_tx.send(ConnectionState::Disconnected);
                }
                Event::Closed => {
                    let _ = state_tx.send(ConnectionState::Disconnected);
                }
                other => tracing::debug!("NATS: {other}"),
            }
        }
    });
    let addresses: Vec<String> = url.split(',').map(|u| u.trim().to_string()).collect();
    let client = async_nats::connect_with_options(addresses, options)
        .await
        .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
    Ok((client, state_rx))
}
