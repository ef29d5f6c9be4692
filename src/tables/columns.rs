//! Parquet columns, declared by each table module as a list of [`Column`]s: a name (a
//! contract with users' SQL: add columns freely, never rename or drop one), a one-line doc
//! and how to build it from the table's rows.
//!
//! Types chosen for DuckDB and Athena engine v3: timestamps are INT64 milliseconds marked
//! UTC, counts INT64, unknown strings null; Snappy compression; row groups of up to
//! 131,072 rows.

use std::fs::File;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Builds one column's array from the rows.
type Build<'c, R> = Box<dyn Fn(&[R]) -> ArrayRef + 'c>;

/// One column of a table's file.
pub struct Column<'c, R> {
    pub name: &'static str,
    /// What the column holds, in a line (the README says more).
    pub doc: &'static str,
    build: Build<'c, R>,
}

impl<'c, R: 'c> Column<'c, R> {
    pub fn new(
        name: &'static str,
        doc: &'static str,
        build: impl Fn(&[R]) -> ArrayRef + 'c,
    ) -> Column<'c, R> {
        Column {
            name,
            doc,
            build: Box::new(build),
        }
    }
}

/// The column builders of one row type: `columns::of::<Row>()` fixes the type, so that the
/// closures of a table's column list need no annotations.
pub struct Of<R>(PhantomData<fn(&R)>);

pub fn of<R>() -> Of<R> {
    Of(PhantomData)
}

impl<R> Of<R> {
    pub fn text<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl for<'r> Fn(&'r R) -> Option<&'r str> + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(&f).collect::<StringArray>())
        })
    }

    pub fn int<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> i64 + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(|r| Some(f(r))).collect::<Int64Array>())
        })
    }

    pub fn int_opt<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> Option<i64> + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(&f).collect::<Int64Array>())
        })
    }

    pub fn float<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> Option<f64> + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(&f).collect::<Float64Array>())
        })
    }

    pub fn bool_opt<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> Option<bool> + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(&f).collect::<BooleanArray>())
        })
    }

    pub fn binary<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl for<'r> Fn(&'r R) -> &'r [u8] + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            Arc::new(rows.iter().map(|r| Some(f(r))).collect::<BinaryArray>())
        })
    }

    /// Epoch seconds to a UTC millisecond timestamp.
    pub fn timestamp<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> i64 + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            let millis: Vec<i64> = rows.iter().map(|r| f(r) * 1000).collect();
            Arc::new(TimestampMillisecondArray::from(millis).with_timezone("UTC"))
        })
    }

    pub fn timestamp_opt<'c>(
        &self,
        name: &'static str,
        doc: &'static str,
        f: impl Fn(&R) -> Option<i64> + 'c,
    ) -> Column<'c, R>
    where
        R: 'c,
    {
        Column::new(name, doc, move |rows| {
            let millis: Vec<Option<i64>> = rows.iter().map(|r| f(r).map(|s| s * 1000)).collect();
            Arc::new(TimestampMillisecondArray::from(millis).with_timezone("UTC"))
        })
    }
}

/// Rows encoded into Arrow arrays at a time, so that the arrays never hold a whole table:
/// built for every row at once, kms_calls' arrays alone were 300 MB of the 1.34 GB heap peak
/// of a month-long organization trail (heaptrack). At 65,536 rows a batch of kms_calls and
/// one of kms_rates (rows and arrays, written side by side) were still 90 MB of the 315 MB
/// peak; at 8,192 they are 11 MB, for the same run time. A table of fewer rows is one batch.
const ROWS_PER_BATCH: usize = 8 * 1024;

/// Rows per row group. The writer holds a row group's pages until the group is full: at
/// the writer's default (1,048,576) that was all of kms_calls on a month of an organization
/// trail. 131,072 is about DuckDB's own row group (122,880 rows), which it reads in
/// parallel; Athena splits a file at row groups too.
const ROWS_PER_ROW_GROUP: usize = 128 * 1024;

/// Writes `rows` as the file of `columns`.
pub fn write<R>(path: &Path, columns: &[Column<'_, R>], rows: &[R]) -> Result<()> {
    write_chunks(path, columns, rows.chunks(ROWS_PER_BATCH))
}

/// Writes the rows an iterator yields (resolved as they come: tables::TallyRows), holding
/// one batch of them at a time. The same rows give the same bytes as [`write`]: the batches
/// are cut at the same rows.
pub fn write_iter<R>(
    path: &Path,
    columns: &[Column<'_, R>],
    rows: impl Iterator<Item = R>,
) -> Result<()> {
    let mut rows = rows.peekable();
    let batches = std::iter::from_fn(|| {
        rows.peek()?;
        Some(rows.by_ref().take(ROWS_PER_BATCH).collect::<Vec<R>>())
    });
    write_chunks(path, columns, batches)
}

/// Writes the rows of `chunks`, one Arrow batch each (none: an empty file with the schema).
fn write_chunks<R, C: AsRef<[R]>>(
    path: &Path,
    columns: &[Column<'_, R>],
    mut chunks: impl Iterator<Item = C>,
) -> Result<()> {
    let batch_of = |rows: &[R]| {
        RecordBatch::try_from_iter(columns.iter().map(|c| (c.name, (c.build)(rows))))
            .context("building Arrow batch")
    };
    let first = match chunks.next() {
        Some(c) => batch_of(c.as_ref())?,
        None => batch_of(&[])?,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROWS_PER_ROW_GROUP))
        .set_created_by(format!("trailsift {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = ArrowWriter::try_new(file, first.schema(), Some(props))?;
    writer.write(&first)?;
    drop(first);
    for chunk in chunks {
        writer.write(&batch_of(chunk.as_ref())?)?;
    }
    writer
        .close()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
