//! Redis through `fred`: the connection pool and the session store. Every key starts with
//! the configured prefix, so tests and several installs can share one Redis.

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::*;
use fred::types::{Expiration, SetOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Reconnect for ever, backing off from 100 ms to 5 s: a Redis restart must not leave
/// the web process or a worker without Redis until someone restarts them.
pub fn reconnect_policy() -> ReconnectPolicy {
    ReconnectPolicy::new_exponential(0, 100, 5_000, 2)
}

pub async fn connect(url: &str) -> Result<Pool, fred::error::Error> {
    let config = Config::from_url(url)?;
    let pool = Builder::from_config(config)
        .with_connection_config(|c| c.connection_timeout = Duration::from_secs(5))
        .set_policy(reconnect_policy())
        .build_pool(4)?;
    pool.init().await?;
    Ok(pool)
}

/// tower-sessions records stored as JSON under `{prefix}session:{id}`, expiring with the
/// session.
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    pool: Pool,
    prefix: String,
}

impl RedisSessionStore {
    pub fn new(pool: Pool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: format!("{prefix}session:"),
        }
    }

    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    async fn write(
        &self,
        record: &Record,
        options: Option<SetOptions>,
    ) -> session_store::Result<bool> {
        let body = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expiry = Expiration::EXAT(record.expiry_date.unix_timestamp());
        let written: Option<String> = self
            .pool
            .set(self.key(&record.id), body, Some(expiry), options, false)
            .await
            .map_err(backend)?;
        Ok(written.is_some())
    }
}

fn backend(e: fred::error::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id that happens to exist already is replaced, never overwritten.
        while !self.write(record, Some(SetOptions::NX)).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Only a session that still exists is written: a request that was running while its
    /// user signed out (which deletes the session) must not bring the session back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, Some(SetOptions::XX)).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let body: Option<String> = self.pool.get(self.key(id)).await.map_err(backend)?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self.pool.del(self.key(id)).await.map_err(backend)?;
        Ok(())
    }
}
