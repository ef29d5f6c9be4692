//! What a run has read so far: a worker's share, or the whole run's once merged. The
//! pipeline folds into it, a `--state` checkpoint saves it (resume), and the outputs are
//! written from it.

use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::tables::{Tables, TablesState};

#[derive(Debug, Default)]
pub struct Totals {
    pub tables: Tables,
    /// Objects read whole.
    pub read: u64,
    pub failures: Vec<Failure>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
}

/// [`Totals`] as a checkpoint saves it: the tables through their saved state.
#[derive(Debug, Serialize, Deserialize)]
pub struct TotalsState {
    pub tables: TablesState,
    pub read: u64,
    pub failures: Vec<Failure>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
}

impl Totals {
    /// Empty totals; `cache_max_age` configures the data key caching table.
    pub fn new(cache_max_age: i64) -> Totals {
        Totals {
            tables: Tables::new(cache_max_age),
            ..Totals::default()
        }
    }

    pub fn merge(&mut self, other: Totals) {
        self.tables.merge(other.tables);
        self.read += other.read;
        self.failures.extend(other.failures);
        self.bytes_compressed += other.bytes_compressed;
        self.bytes_decompressed += other.bytes_decompressed;
    }

    pub fn state(&self) -> Result<TotalsState, postcard::Error> {
        Ok(TotalsState {
            tables: self.tables.state()?,
            read: self.read,
            failures: self.failures.clone(),
            bytes_compressed: self.bytes_compressed,
            bytes_decompressed: self.bytes_decompressed,
        })
    }

    pub fn from_state(state: TotalsState) -> Result<Totals, String> {
        Ok(Totals {
            tables: Tables::from_state(state.tables)?,
            read: state.read,
            failures: state.failures,
            bytes_compressed: state.bytes_compressed,
            bytes_decompressed: state.bytes_decompressed,
        })
    }
}
