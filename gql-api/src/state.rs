//! What the server shares between requests: the store, the current snapshot, the reviews, and
//! the locks that serialise writers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ingest::Store;
use service::{AnalyzeOptions, Review, Reviews};

use crate::error::{ApiError, Code};
use crate::schema::AnalysisRun;
use crate::snapshot::Snapshot;

/// How long a review waits for the store before it fails with `STORE_UNAVAILABLE`.
pub const STORE_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Clears a flag when dropped (a blocking task's end, panic included).
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The server's shared state.
pub struct Shared {
    pub store: Arc<dyn Store>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// The reviews held, with a count of the changes made to them: a refresh swaps in what it
    /// read only when no review was written while it read.
    reviews: RwLock<(u64, Arc<Reviews>)>,
    review_lock: tokio::sync::Mutex<()>,
    /// A refresh's read of the store is out.
    refreshing: AtomicBool,
    analysis_lock: tokio::sync::Mutex<()>,
    analyze: AnalyzeOptions,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Loads the snapshot and the reviews. Blocking: call before serving or from a blocking
    /// thread.
    pub fn load(store: Arc<dyn Store>, analyze: AnalyzeOptions) -> Result<Shared, ApiError> {
        let snapshot = Snapshot::load(store.as_ref())?;
        let reviews = service::load_reviews(store.as_ref()).map_err(ApiError::service)?;
        Ok(Shared {
            store,
            snapshot: RwLock::new(Arc::new(snapshot)),
            reviews: RwLock::new((0, Arc::new(reviews))),
            review_lock: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
            analysis_lock: tokio::sync::Mutex::new(()),
            analyze,
        })
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The current reviews.
    pub fn reviews(&self) -> Arc<Reviews> {
        self.reviews
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone()
    }

    /// Stores a review and makes it visible to later requests, with the reviews other servers
    /// sharing the store have written since the last refresh. A store that does not answer
    /// within [`STORE_WRITE_TIMEOUT`] (a Neo4j server that went away, say) fails the request with
    /// `STORE_UNAVAILABLE`, and the abandoned write is not carried out when the store returns.
    pub async fn add_review(self: &Arc<Self>, review: Review) -> Result<(), ApiError> {
        let _guard = self.review_lock.lock().await;
        let me = self.clone();
        let abandoned = Arc::new(AtomicBool::new(false));
        let flag = abandoned.clone();
        let stored = review.clone();
        let write = tokio::task::spawn_blocking(move || {
            if flag.load(Ordering::SeqCst) {
                return Err(ApiError::new(Code::StoreUnavailable, "abandoned"));
            }
            service::add_review(me.store.as_ref(), &stored).map_err(ApiError::service)
        });
        match tokio::time::timeout(STORE_WRITE_TIMEOUT, write).await {
            Ok(joined) => joined.map_err(|e| ApiError::new(Code::Internal, e.to_string()))??,
            Err(_) => {
                abandoned.store(true, Ordering::SeqCst);
                return Err(ApiError::new(
                    Code::StoreUnavailable,
                    format!(
                        "the store did not answer within {} s; the review was not stored",
                        STORE_WRITE_TIMEOUT.as_secs()
                    ),
                ));
            }
        }
        // Stored. Show it with what other servers wrote, read back; if the read does not come
        // back in time, beside the reviews held.
        let me = self.clone();
        let read = tokio::task::spawn_blocking(move || service::load_reviews(me.store.as_ref()));
        let reviews = match tokio::time::timeout(STORE_WRITE_TIMEOUT, read).await {
            Ok(Ok(Ok(reviews))) => reviews,
            failed => {
                tracing::warn!(?failed, "reading the reviews back after a review");
                let mut held = (*self.reviews()).clone();
                held.by_group
                    .entry(review.group_id.clone())
                    .or_default()
                    .push(review);
                held
            }
        };
        self.set_reviews(reviews, None);
        Ok(())
    }

    /// Swaps in `reviews`; with `read_at`, only if no change was made since that count was read.
    fn set_reviews(&self, reviews: Reviews, read_at: Option<u64>) {
        let mut held = self
            .reviews
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if read_at.is_none_or(|at| at == held.0) {
            *held = (held.0 + 1, Arc::new(reviews));
        }
    }

    /// Picks up what other servers sharing the store wrote: their reviews, and an analysis that
    /// replaced the one loaded (its snapshot is built and swapped in, as after `reanalyze`). A
    /// store that does not answer leaves everything as it was; the next refresh tries again.
    pub async fn refresh(self: &Arc<Self>) {
        // A read of a store that went away can outlast the timeout (the driver retries it): do
        // not start another while one is out.
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        // No lock while reading: a store that does not answer must not hold up reviews.
        let read_at = self
            .reviews
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
        let me = self.clone();
        let read = tokio::task::spawn_blocking(move || {
            let _done = ClearOnDrop(&me.refreshing);
            let store = me.store.as_ref();
            (service::load_reviews(store), service::analysis_stamp(store))
        });
        let (reviews, stamp) = match tokio::time::timeout(STORE_WRITE_TIMEOUT, read).await {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => return tracing::warn!(error = %e, "refreshing from the store"),
            Err(_) => return tracing::warn!("refreshing from the store: it did not answer"),
        };
        match reviews {
            Ok(reviews) => self.set_reviews(reviews, Some(read_at)),
            Err(e) => tracing::warn!(error = %e, "refreshing the reviews"),
        }
        let stamp = match stamp {
            Ok(stamp) => stamp,
            Err(e) => return tracing::warn!(error = %e, "checking for a newer analysis"),
        };
        let Some(stamp) = stamp.filter(|s| *s != self.snapshot().results.created_at) else {
            return;
        };
        // Our own re-analysis swaps its snapshot in itself.
        let Ok(_guard) = self.analysis_lock.try_lock() else {
            return;
        };
        tracing::info!(analysed_at = %stamp, "loading an analysis made elsewhere");
        let me = self.clone();
        match tokio::task::spawn_blocking(move || Snapshot::load(me.store.as_ref())).await {
            Ok(Ok(snapshot)) => {
                let groups = snapshot.results.groups.len();
                self.set_snapshot(snapshot);
                tracing::info!(groups, "analysis made elsewhere swapped in");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "loading an analysis made elsewhere"),
            Err(e) => tracing::warn!(error = %e, "loading an analysis made elsewhere"),
        }
    }

    fn set_snapshot(&self, snapshot: Snapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(snapshot);
    }

    /// Re-runs the analysis on the stored data and swaps in the new snapshot; one at a time.
    pub async fn reanalyze(self: &Arc<Self>) -> Result<AnalysisRun, ApiError> {
        let Ok(_guard) = self.analysis_lock.try_lock() else {
            return Err(ApiError::new(Code::Busy, "an analysis is already running"));
        };
        let me = self.clone();
        let started = Instant::now();
        let snapshot = tokio::task::spawn_blocking(move || -> Result<Snapshot, ApiError> {
            service::analyze(me.store.as_ref(), &me.analyze, &mut |stage| {
                tracing::info!(stage, "re-analysis");
            })
            .map_err(ApiError::service)?;
            Snapshot::load(me.store.as_ref())
        })
        .await
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))??;
        let run = AnalysisRun {
            analysed_at: snapshot.results.created_at.clone(),
            groups: snapshot.results.groups.len() as i32,
            seconds: started.elapsed().as_secs_f64(),
        };
        self.set_snapshot(snapshot);
        tracing::info!(
            groups = run.groups,
            seconds = run.seconds,
            "re-analysis swapped in"
        );
        Ok(run)
    }
}
