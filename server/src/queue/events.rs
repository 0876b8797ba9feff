//! Batch progress as it happens: workers publish the id of each batch that changed on one
//! Redis channel; each SyncStore web process keeps one subscription and fans the ids out
//! to its SSE streams.

use fred::prelude::*;
use tokio::sync::broadcast;

/// Ids of batches that changed, for this process's SSE streams.
#[derive(Clone)]
pub struct BatchEvents {
    sender: broadcast::Sender<String>,
}

impl BatchEvents {
    /// Subscribes to `channel`; the subscription is renewed after a Redis reconnect.
    pub async fn subscribe(
        redis_url: &str,
        channel: String,
    ) -> Result<BatchEvents, fred::error::Error> {
        let (sender, _) = broadcast::channel(1024);
        let subscriber = Builder::from_config(Config::from_url(redis_url)?)
            .set_policy(crate::redis::reconnect_policy())
            .build_subscriber_client()?;
        subscriber.init().await?;
        subscriber.subscribe(channel).await?;
        let _resubscribe = subscriber.manage_subscriptions();
        let mut messages = subscriber.message_rx();
        let fanout = sender.clone();
        tokio::spawn(async move {
            // Keeps the client alive as long as the task runs.
            let _subscriber = subscriber;
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Ok(batch_id) = message.value.convert::<String>() {
                            let _ = fanout.send(batch_id);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Ok(BatchEvents { sender })
    }

    pub fn listen(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }
}
