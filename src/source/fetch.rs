//! Fetching S3 objects into memory for the rayon workers.
//!
//! One fetcher for the whole run walks the objects in the order the workers read them
//! (delivery hour by delivery hour) and GETs each in a tokio task. Two semaphores bound it:
//! at most `requests_in_flight` GETs at once, and at most twice that many bodies held
//! (being fetched, waiting for a worker, or being read), so memory is bounded whatever the
//! trail's size. A GET's slot is given back as soon as its body is in, so a worker busy
//! with one body does not keep the next request waiting; its body's place is given back
//! once a worker has read it. Each hour's bodies reach the workers on that hour's
//! channel. The fetcher is not held at an hour's boundary: while the workers read one hour,
//! the slots it does not use go to the next hours' objects, so a request's latency is
//! hidden behind the reading of whatever came before it (with one hour of look-ahead, as
//! before, a trail of small hours waited one round trip per hour). Bodies never touch the
//! disk, and no CPU work runs on the runtime.
//!
//! The SDK retries a call (with backoff) until its response starts: 503 SlowDown, 500,
//! refused or dropped connections. A body cut off while streaming is past that point, so
//! it is fetched again here. An object that still fails is handed over as a failure with
//! its reason, to be named in summary.json; the run goes on.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use aws_sdk_s3::operation::get_object::GetObjectError;

use super::ObjectRef;
use super::s3::{S3Session, S3Stats, bump, cause_chain, error_detail};
use crate::failure::ObjectError;

/// Attempts at streaming one body, on top of the SDK's retries of the call itself.
const BODY_ATTEMPTS: u32 = 5;

/// One fetched object, or why it could not be fetched.
pub struct Fetched {
    pub object: ObjectRef,
    pub body: Result<Bytes, ObjectError>,
    /// The body's place in memory: to be dropped once the body has been read.
    pub slot: OwnedSemaphorePermit,
}

/// The run's fetcher: groups of objects (a delivery hour's S3 objects each) are added in
/// reading order as their hours are known in full, and fetched in that order.
pub struct Fetcher {
    groups: flume::Sender<(Vec<ObjectRef>, flume::Sender<Fetched>)>,
}

impl Fetcher {
    /// Starts the fetcher on the session's runtime; it stops once dropped and drained.
    pub fn start(session: &S3Session, max_object_bytes: u64) -> Fetcher {
        let (groups, queued) = flume::unbounded::<(Vec<ObjectRef>, flume::Sender<Fetched>)>();
        let in_flight = session.stats.requests_in_flight.max(1);
        let requests = Arc::new(Semaphore::new(in_flight));
        let bodies = Arc::new(Semaphore::new(2 * in_flight));
        let client = session.client.clone();
        let stats = session.stats.clone();
        session.runtime.spawn(async move {
            // In reading order, so an hour's objects all hold places before any of a later
            // hour's do: the hour being read can always finish, whatever the later ones hold.
            while let Ok((group, tx)) = queued.recv_async().await {
                for object in group {
                    if tx.is_disconnected() {
                        // The run stopped reading (an error): fetch nothing more for it.
                        return;
                    }
                    let Ok(slot) = bodies.clone().acquire_owned().await else {
                        return;
                    };
                    let Ok(request) = requests.clone().acquire_owned().await else {
                        return;
                    };
                    let (client, stats, tx) = (client.clone(), stats.clone(), tx.clone());
                    tokio::spawn(async move {
                        let body = fetch(&client, &stats, &object, max_object_bytes).await;
                        drop(request);
                        let _ = tx.send(Fetched { object, body, slot });
                    });
                }
            }
        });
        Fetcher { groups }
    }

    /// Queues `group` behind the groups added before. Returns the channel its objects
    /// come on, `None` for an empty group; it closes once each of them has been handed
    /// over.
    pub fn add(&self, group: Vec<ObjectRef>) -> Option<flume::Receiver<Fetched>> {
        if group.is_empty() {
            return None;
        }
        // Unbounded: the slots bound what can be in it.
        let (tx, rx) = flume::unbounded();
        // Sent while the fetcher runs: it stops only once this sender is dropped.
        let _ = self.groups.send((group, tx));
        Some(rx)
    }
}

async fn fetch(
    client: &Client,
    stats: &S3Stats,
    object: &ObjectRef,
    max_object_bytes: u64,
) -> Result<Bytes, ObjectError> {
    let Some((bucket, key)) = object.s3_object() else {
        return Err(ObjectError::Fetch("not an S3 object".to_owned()));
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        bump(&stats.get_requests);
        let response = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| ObjectError::Fetch(describe_get_error(&e)))?;
        let length = response
            .content_length()
            .and_then(|l| u64::try_from(l).ok());
        if let Some(size) = length.filter(|&l| l > max_object_bytes) {
            return Err(ObjectError::TooLarge {
                size,
                max: max_object_bytes,
            });
        }
        match response.body.collect().await {
            Ok(data) => {
                let bytes = data.into_bytes();
                bump(&stats.objects_fetched);
                stats
                    .bytes_fetched
                    .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                return Ok(bytes);
            }
            Err(_) if attempt < BODY_ATTEMPTS => {
                bump(&stats.body_retries);
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            Err(e) => {
                return Err(ObjectError::Fetch(format!(
                    "body cut off {attempt} times while downloading: {}",
                    cause_chain(&e)
                )));
            }
        }
    }
}

fn describe_get_error(err: &SdkError<GetObjectError>) -> String {
    let detail = error_detail(err);
    if err.as_service_error().is_some() {
        format!("GetObject failed: {detail}")
    } else {
        format!("GetObject failed after retries: {detail}")
    }
}
