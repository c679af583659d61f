//! `stance.v1.StanceClassifier`: request checks, admission control, and scoring off the async
//! reactor (single calls on blocking threads, batches and documents on a rayon pool).

use std::pin::Pin;
use std::sync::Arc;
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
    pool: Arc<rayon::ThreadPool>,
    in_flight: Arc<Semaphore>,
}

impl StanceService {
    /// A service scoring with `state` under `limits`, batches on `pool`.
    pub fn new(state: Arc<ModelState>, limits: Limits, pool: Arc<rayon::ThreadPool>) -> Self {
        let in_flight = Arc::new(Semaphore::new(limits.max_concurrent));
        Self {
            state,
            limits: Arc::new(limits),
            pool,
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

    /// Runs blocking scoring work on the rayon pool, from a blocking thread.
    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Status> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.install(work))
            .await
            .map_err(|e| Status::internal(format!("scoring task failed: {e}")))
    }

    async fn classify_one(
        &self,
        request: proto::ClassifyRequest,
    ) -> Result<proto::ClassifyResponse, Status> {
        let _permit = self.admit()?;
        self.limits
            .check_paragraph(&request.text, request.explain)?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            state.score(&bundle, &request.id, &request.text, request.explain)
        })
        .await
        .map_err(|e| Status::internal(format!("scoring task failed: {e}")))
    }

    async fn classify_batch_inner(
        &self,
        request: proto::ClassifyBatchRequest,
    ) -> Result<proto::ClassifyBatchResponse, Status> {
        let _permit = self.admit()?;
        self.limits.check_batch(request.items.len())?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        let limits = self.limits.clone();
        let version = bundle.manifest.version.clone();
        let results = self
            .on_pool(move || {
                request
                    .items
                    .into_par_iter()
                    .enumerate()
                    .map(|(index, item)| {
                        let outcome = match limits.check_paragraph(&item.text, item.explain) {
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
        let _permit = self.admit()?;
        self.limits.check_document(&request.text, request.explain)?;
        let bundle = self.state.current()?;
        let state = self.state.clone();
        self.on_pool(move || {
            let paragraphs = split_article(&request.text);
            let predictions: Vec<Option<proto::ClassifyResponse>> = paragraphs
                .par_iter()
                .enumerate()
                .map(|(i, p)| {
                    (p.kind == ParagraphKind::Body).then(|| {
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
                        tokio::task::spawn_blocking(move || {
                            state.score(&bundle, &id, &item.text, item.explain)
                        })
                        .await
                        .map_err(|e| Status::internal(format!("scoring task failed: {e}")))
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
