//! Many slots' small Postgres statements as one: while one statement runs, the requests
//! that arrive meanwhile wait, and the next statement carries all of them. Nothing waits
//! on a timer: a lone request goes at once, and under load a statement carries as many
//! requests as arrived while the one before it ran (group commit).

use std::future::Future;

use sea_orm::DbErr;
use tokio::sync::{mpsc, oneshot};

type Reply<Out> = oneshot::Sender<Result<Out, DbErr>>;

/// A line of requests in front of one task that serves them `max` at a time with `run`.
pub struct Coalescer<In, Out> {
    line: mpsc::UnboundedSender<(In, Reply<Out>)>,
}

impl<In, Out> Coalescer<In, Out>
where
    In: Clone + Send + 'static,
    Out: Send + 'static,
{
    /// Starts the serving task (within a Tokio runtime). `run` answers a batch of requests
    /// with one answer for each, in the same order, or fails as a whole (one statement);
    /// a batch that failed is tried again one request at a time, so one bad request fails
    /// only itself. The task ends when the coalescer is dropped.
    pub fn start<F, Fut>(max: usize, run: F) -> Self
    where
        F: Fn(Vec<In>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Out>, DbErr>> + Send + 'static,
    {
        let (line, mut waiting) = mpsc::unbounded_channel::<(In, Reply<Out>)>();
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut requests = vec![first];
                while requests.len() < max.max(1) {
                    match waiting.try_recv() {
                        Ok(request) => requests.push(request),
                        Err(_) => break,
                    }
                }
                let (inputs, replies): (Vec<In>, Vec<Reply<Out>>) = requests.into_iter().unzip();
                let alone = (inputs.len() > 1).then(|| inputs.clone());
                match answer(&run, inputs).await {
                    Ok(outputs) => {
                        for (reply, output) in replies.into_iter().zip(outputs) {
                            let _ = reply.send(Ok(output));
                        }
                    }
                    Err(e) => match alone {
                        None => {
                            for reply in replies {
                                let _ = reply.send(Err(DbErr::Custom(e.to_string())));
                            }
                        }
                        Some(inputs) => {
                            tracing::warn!(error = %e, requests = inputs.len(), "a shared statement failed; its requests go one by one");
                            for (reply, input) in replies.into_iter().zip(inputs) {
                                let output =
                                    answer(&run, vec![input]).await.and_then(|mut outputs| {
                                        outputs.pop().ok_or_else(|| {
                                            DbErr::Custom("no answer for a request".into())
                                        })
                                    });
                                let _ = reply.send(output);
                            }
                        }
                    },
                }
            }
        });
        Coalescer { line }
    }

    /// Sends one request and waits for its answer.
    pub async fn call(&self, input: In) -> Result<Out, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.line
            .send((input, reply))
            .map_err(|_| DbErr::Custom("the statement line has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the statement line dropped a request".into()))?
    }
}

/// `run` on `inputs` in a task of its own, so that a panic fails this batch's requests and
/// not the line; an answer of the wrong length fails them too.
async fn answer<In, Out, F, Fut>(run: &F, inputs: Vec<In>) -> Result<Vec<Out>, DbErr>
where
    F: Fn(Vec<In>) -> Fut,
    Fut: Future<Output = Result<Vec<Out>, DbErr>> + Send + 'static,
    Out: Send + 'static,
{
    let n = inputs.len();
    let outputs = tokio::spawn(run(inputs))
        .await
        .map_err(|e| DbErr::Custom(format!("a shared statement's task failed: {e}")))??;
    if outputs.len() != n {
        return Err(DbErr::Custom(format!(
            "{} answers for {n} requests",
            outputs.len()
        )));
    }
    Ok(outputs)
}
