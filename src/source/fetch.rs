//! Fetching S3 objects into memory for the rayon workers.
//!
//! Tokio tasks, at most `requests_in_flight` at once (a semaphore), each GET one object
//! and hand `(object, body)` to a bounded channel that the rayon workers drain. A task
//! keeps its request slot until its body is in the channel, so memory holds at most
//! `requests_in_flight + queued` bodies, whatever the trail's size. Bodies never touch the
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
use tokio::sync::Semaphore;

use aws_sdk_s3::operation::get_object::GetObjectError;

use super::s3::{S3Session, S3Stats, bump, cause_chain, error_detail};
use super::{Location, ObjectRef};
use crate::failure::ObjectError;

/// Attempts at streaming one body, on top of the SDK's retries of the call itself.
const BODY_ATTEMPTS: u32 = 5;

/// One fetched object, or why it could not be fetched.
pub struct Fetched {
    pub object: ObjectRef,
    pub body: Result<Bytes, ObjectError>,
}

/// Starts fetching `objects`; the bodies arrive on the returned channel, which closes once
/// every object has been handed over.
pub fn start(
    session: &S3Session,
    objects: Vec<ObjectRef>,
    queued: usize,
    max_object_bytes: u64,
) -> flume::Receiver<Fetched> {
    let (tx, rx) = flume::bounded(queued.max(1));
    let slots = Arc::new(Semaphore::new(session.stats.requests_in_flight.max(1)));
    let client = session.client.clone();
    let stats = session.stats.clone();
    session.runtime.spawn(async move {
        for object in objects {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (client, stats, tx) = (client.clone(), stats.clone(), tx.clone());
            tokio::spawn(async move {
                let body = fetch(&client, &stats, &object, max_object_bytes).await;
                // The slot is held until the body is queued: that bounds memory.
                let _ = tx.send_async(Fetched { object, body }).await;
                drop(slot);
            });
        }
    });
    rx
}

async fn fetch(
    client: &Client,
    stats: &S3Stats,
    object: &ObjectRef,
    max_object_bytes: u64,
) -> Result<Bytes, ObjectError> {
    let Location::S3 { bucket, key } = &object.location else {
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
