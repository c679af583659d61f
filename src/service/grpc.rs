//! `stance.v1.StanceClassifier`: request checks, admission control, and scoring off the async
//! reactor on two fixed thread pools: one for single calls and stream items, one for batches and
//! documents, so a large batch does not stall other clients' single calls.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::{Stream, StreamExt};
use rayon::prelude::*;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Request, Response, Status, Streaming};

use super::limits::Limits;
use super::state::{ModelState, model_info};
use crate::document::{ParagraphKind, split_article};
use crate::proto::stance_classifier_server::StanceClassifier;
use crate::proto::{self, batch_item_result::Outcome};

/// How many stream items are scored ahead of the one being sent.
const STREAM_PIPELINE: usize = 8;

/// The service implementation.
#[derive(Debug, Clone)]
pub struct StanceService {
    state: Arc<ModelState>,
    limits: Arc<Limits>,
    pools: Arc<ScoringPools>,
    in_flight: Arc<Semaphore>,
}

impl StanceService {
    /// A service scoring with `state` under `limits` on `pools`.
    pub fn new(state: Arc<ModelState>, limits: Limits, pools: ScoringPools) -> Self {
        let in_flight = Arc::new(Semaphore::new(limits.max_concurrent));
        Self {
            state,
            limits: Arc::new(limits),
            pools: Arc::new(pools),
            in_flight,
        }
    }

    /// Takes a slot for a call, or RESOURCE_EXHAUSTED at once when all are taken.
    fn admit(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.in_flight.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "the server is handling its limit of {} concurrent calls (--max-concurrent); retry with backoff",
                self.limits.max_concurrent
            ))
        })
    }

    /// Runs bulk scoring work on the bulk pool. The call's admission `permit` is held until the
    /// work ends, so work a client walked away from still counts against --max-concurrent; the
    /// work sees the [`Cancellation`] and can stop early.
    async fn on_bulk_pool<T: Send + 'static>(
        &self,
        permit: OwnedSemaphorePermit,
        work: impl FnOnce(&Cancellation) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let cancellation = Cancellation::default();
        let _cancel_when_dropped = CancelOnDrop(cancellation.clone());
        run_on(&self.pools.bulk, move || {
            let _permit = permit;
            work(&cancellation)
        })
        .await
    }

    async fn classify_one(
        &self,
        request: proto::ClassifyRequest,
    ) -> Result<proto::ClassifyResponse, Status> {
        let permit = self.admit()?;
        self.limits
            .check_paragraph(&request.text, request.explain)?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        run_on(&self.pools.interactive, move || {
            let _permit = permit;
            state.score(&bundle, &request.id, &request.text, request.explain)
        })
        .await
    }

    async fn classify_batch_inner(
        &self,
        request: proto::ClassifyBatchRequest,
    ) -> Result<proto::ClassifyBatchResponse, Status> {
        let permit = self.admit()?;
        self.limits.check_batch(request.items.len())?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        let limits = self.limits.clone();
        let version = bundle.manifest.version.clone();
        let results = self
            .on_bulk_pool(permit, move |cancellation| {
                request
                    .items
                    .into_par_iter()
                    .enumerate()
                    .map(|(index, item)| {
                        let checked = cancellation
                            .check()
                            .and_then(|()| limits.check_paragraph(&item.text, item.explain));
                        let outcome = match checked {
                            Ok(()) => Outcome::Response(state.score(
                                &bundle,
                                &item.id,
                                &item.text,
                                item.explain,
                            )),
                            Err(status) => Outcome::Error(item_error(&status)),
                        };
                        proto::BatchItemResult {
                            index: index as u32,
                            outcome: Some(outcome),
                        }
                    })
                    .collect()
            })
            .await?;
        Ok(proto::ClassifyBatchResponse {
            results,
            model_version: version,
        })
    }

    async fn classify_document_inner(
        &self,
        request: proto::ClassifyDocumentRequest,
    ) -> Result<proto::ClassifyDocumentResponse, Status> {
        let permit = self.admit()?;
        self.limits.check_document(&request.text, request.explain)?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        self.on_bulk_pool(permit, move |cancellation| {
            let paragraphs = split_article(&request.text);
            let predictions: Vec<Option<proto::ClassifyResponse>> = paragraphs
                .par_iter()
                .enumerate()
                .map(|(i, p)| {
                    (p.kind == ParagraphKind::Body && !cancellation.is_cancelled()).then(|| {
                        state.score(
                            &bundle,
                            &format!("{}#{i}", request.id),
                            &p.text,
                            request.explain,
                        )
                    })
                })
                .collect();
            let weights: Vec<(usize, &proto::ClassifyResponse)> = paragraphs
                .iter()
                .zip(&predictions)
                .filter_map(|(p, r)| r.as_ref().map(|r| (p.text.chars().count(), r)))
                .collect();
            let summary = summarise(&bundle.model.heads, &weights);
            let body_paragraphs = weights.len() as u32;
            proto::ClassifyDocumentResponse {
                id: request.id.clone(),
                paragraphs: paragraphs
                    .into_iter()
                    .zip(predictions)
                    .enumerate()
                    .map(|(index, (p, prediction))| proto::DocumentParagraph {
                        index: index as u32,
                        kind: paragraph_kind(p.kind) as i32,
                        text: p.text,
                        start: p.start as u32,
                        end: p.end as u32,
                        prediction,
                    })
                    .collect(),
                summary,
                model_version: bundle.manifest.version.clone(),
                body_paragraphs,
            }
        })
        .await
    }
}

/// The two thread pools that score: single calls and stream items on `interactive`, batches and
/// documents on `bulk`.
#[derive(Debug)]
pub struct ScoringPools {
    /// Single `Classify` calls and `ClassifyStream` items.
    pub interactive: rayon::ThreadPool,
    /// `ClassifyBatch` and `ClassifyDocument`, parallel within a call.
    pub bulk: rayon::ThreadPool,
}

impl ScoringPools {
    /// Two pools of `threads` threads each.
    pub fn new(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = |name: &'static str| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(move |i| format!("{name}-{i}"))
                .build()
        };
        Ok(Self {
            interactive: pool("score")?,
            bulk: pool("score-bulk")?,
        })
    }
}

/// Runs CPU-bound `work` on `pool` and awaits its result without blocking the async reactor.
async fn run_on<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Status> {
    let (done, result) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let _ = done.send(work());
    });
    result
        .await
        .map_err(|_| Status::internal("the scoring task failed"))
}

/// Set when the client of a call goes away, so queued scoring work can stop early.
#[derive(Debug, Clone, Default)]
struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// CANCELLED once the client has gone away.
    fn check(&self) -> Result<(), Status> {
        if self.is_cancelled() {
            Err(Status::cancelled("the client cancelled the call"))
        } else {
            Ok(())
        }
    }
}

/// Cancels when dropped: held by a call's future, which tonic drops when the client goes away.
struct CancelOnDrop(Cancellation);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

/// Per head: the length-weighted mean probability of each label over the body paragraphs, the
/// label with the most paragraphs (ties to the higher weighted probability), and the label
/// with the highest weighted probability.
fn summarise(
    heads: &[crate::heads::Head],
    weighted: &[(usize, &proto::ClassifyResponse)],
) -> Vec<proto::HeadSummary> {
    let total: f64 = weighted.iter().map(|(w, _)| *w as f64).sum();
    heads
        .iter()
        .enumerate()
        .map(|(h, head)| {
            let labels = head.labels();
            let mut distribution = vec![0f64; labels.len()];
            let mut votes = vec![0usize; labels.len()];
            for (weight, response) in weighted {
                let prediction = &response.heads[h];
                for (l, score) in prediction.scores.iter().enumerate() {
                    distribution[l] += *weight as f64 * f64::from(score.probability);
                }
                if let Some(l) = labels.iter().position(|l| *l == prediction.label) {
                    votes[l] += 1;
                }
            }
            if total > 0.0 {
                distribution.iter_mut().for_each(|d| *d /= total);
            }
            let best_by = |key: &dyn Fn(usize) -> (usize, f64)| {
                (0..labels.len())
                    .max_by(|&a, &b| {
                        key(a)
                            .partial_cmp(&key(b))
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .map(|l| labels[l].clone())
                    .unwrap_or_default()
            };
            let (majority_label, weighted_label) = if weighted.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    best_by(&|l| (votes[l], distribution[l])),
                    best_by(&|l| (0, distribution[l])),
                )
            };
            proto::HeadSummary {
                head: head.name().to_string(),
                distribution: labels
                    .iter()
                    .zip(&distribution)
                    .map(|(label, p)| proto::LabelScore {
                        label: label.clone(),
                        probability: *p as f32,
                    })
                    .collect(),
                majority_label,
                weighted_label,
            }
        })
        .collect()
}

fn paragraph_kind(kind: ParagraphKind) -> proto::ParagraphKind {
    match kind {
        ParagraphKind::Body => proto::ParagraphKind::Body,
        ParagraphKind::Headline => proto::ParagraphKind::Headline,
        ParagraphKind::Caption => proto::ParagraphKind::Caption,
        ParagraphKind::Byline => proto::ParagraphKind::Byline,
    }
}

/// The status of an item that could not be scored, as a batch or stream entry.
fn item_error(status: &Status) -> proto::ItemError {
    let code = match status.code() {
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::Unavailable => "UNAVAILABLE",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Cancelled => "CANCELLED",
        _ => "INTERNAL",
    };
    proto::ItemError {
        code: code.into(),
        message: status.message().into(),
    }
}

/// Logs a finished call: latency at debug level, failures at warn level.
fn finish<T>(
    method: &str,
    started: Instant,
    result: Result<T, Status>,
) -> Result<Response<T>, Status> {
    let elapsed = started.elapsed();
    match result {
        Ok(value) => {
            tracing::debug!(method, latency_us = elapsed.as_micros() as u64, "call ok");
            Ok(Response::new(value))
        }
        Err(status) => {
            tracing::warn!(method, code = ?status.code(), message = status.message(), latency_us = elapsed.as_micros() as u64, "call failed");
            Err(status)
        }
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<proto::ClassifyResponse, Status>> + Send>>;

#[tonic::async_trait]
impl StanceClassifier for StanceService {
    async fn classify(
        &self,
        request: Request<proto::ClassifyRequest>,
    ) -> Result<Response<proto::ClassifyResponse>, Status> {
        let started = Instant::now();
        finish(
            "Classify",
            started,
            self.classify_one(request.into_inner()).await,
        )
    }

    async fn classify_batch(
        &self,
        request: Request<proto::ClassifyBatchRequest>,
    ) -> Result<Response<proto::ClassifyBatchResponse>, Status> {
        let started = Instant::now();
        finish(
            "ClassifyBatch",
            started,
            self.classify_batch_inner(request.into_inner()).await,
        )
    }

    type ClassifyStreamStream = ResponseStream;

    async fn classify_stream(
        &self,
        request: Request<Streaming<proto::ClassifyRequest>>,
    ) -> Result<Response<Self::ClassifyStreamStream>, Status> {
        let permit = match self.admit() {
            Ok(permit) => Arc::new(permit),
            Err(status) => return finish("ClassifyStream", Instant::now(), Err(status)),
        };
        let service = self.clone();
        let responses = request
            .into_inner()
            .map(move |item| {
                let service = service.clone();
                let _held_for_the_stream = permit.clone();
                async move {
                    let item = item?;
                    let started = Instant::now();
                    let scored = async {
                        service.limits.check_paragraph(&item.text, item.explain)?;
                        let bundle = service.state.current()?;
                        let state = service.state.clone();
                        let id = item.id.clone();
                        run_on(&service.pools.interactive, move || {
                            state.score(&bundle, &id, &item.text, item.explain)
                        })
                        .await
                    }
                    .await;
                    match scored {
                        Ok(response) => {
                            tracing::debug!(
                                method = "ClassifyStream",
                                latency_us = started.elapsed().as_micros() as u64,
                                "item ok"
                            );
                            Ok(response)
                        }
                        Err(status) => {
                            tracing::warn!(
                                method = "ClassifyStream",
                                id = item.id,
                                message = status.message(),
                                "item failed"
                            );
                            Ok(proto::ClassifyResponse {
                                id: item.id,
                                error: Some(item_error(&status)),
                                ..Default::default()
                            })
                        }
                    }
                }
            })
            .buffered(STREAM_PIPELINE);
        Ok(Response::new(Box::pin(responses)))
    }

    async fn classify_document(
        &self,
        request: Request<proto::ClassifyDocumentRequest>,
    ) -> Result<Response<proto::ClassifyDocumentResponse>, Status> {
        let started = Instant::now();
        finish(
            "ClassifyDocument",
            started,
            self.classify_document_inner(request.into_inner()).await,
        )
    }

    async fn get_model_info(
        &self,
        _request: Request<proto::GetModelInfoRequest>,
    ) -> Result<Response<proto::ModelInfo>, Status> {
        let started = Instant::now();
        finish(
            "GetModelInfo",
            started,
            self.state.current().map(|b| model_info(&b)),
        )
    }
}
