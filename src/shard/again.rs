//! Reading an object of the trail again, for the merge (merge: a record two shards both
//! counted is taken out through a copy read again). The object must be the one the shard
//! read: a local file with the same size and modification time, an S3 object with the same
//! ETag (GetObject `If-Match`, which S3 answers 412 Precondition Failed otherwise).

use anyhow::{Context, Result, anyhow};

use super::merge::ReadAgain;
use crate::config::RecordFilter;
use crate::pipeline::ObjectParser;
use crate::record::Record;
use crate::source::{ObjectRef, local};
use crate::store::Store;

pub struct TrailReader<'a> {
    pub store: &'a mut Store,
    pub parser: ObjectParser,
    pub filter: RecordFilter,
}

impl ReadAgain for TrailReader<'_> {
    fn read_again(&mut self, object: &ObjectRef, each: &mut dyn FnMut(&Record<'_>)) -> Result<()> {
        let raw = match (object.path(), object.s3_object()) {
            (Some(path), _) => {
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("cannot read {} again", object.key))?;
                if local::file_etag(&meta) != object.etag {
                    return Err(anyhow!(
                        "{} changed since its shard read it (size or modification time): run \
                         the shards again",
                        object.key
                    ));
                }
                std::fs::read(path).with_context(|| format!("cannot read {} again", object.key))?
            }
            (None, Some((bucket, key))) => self
                .store
                .get(bucket, key, Some(&object.etag.as_str()))
                .with_context(|| {
                    format!(
                        "cannot read {} again (it must be unchanged since its shard read it)",
                        object.key
                    )
                })?,
            (None, None) => return Err(anyhow!("{} names no file and no S3 object", object.key)),
        };
        let len = self
            .parser
            .decode(&raw, object.key.ends_with(".gz"))
            .map_err(|e| anyhow!("cannot read {} again: {e}", object.key))?;
        let filter = &self.filter;
        self.parser
            .for_each_record(len, |r| {
                if filter.check(r).is_ok() {
                    each(r);
                }
            })
            .map_err(|e| anyhow!("cannot read {} again: {e}", object.key))
    }
}
