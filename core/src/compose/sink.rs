//! Where closed stages' records go, without a heap.

use super::{StageRecord, SubgraphRecord};
pub use crate::SinkFull;

/// Where closed stages' records go.
///
/// Implement it to stream records anywhere without a heap. A sink is first
/// asked to [`Sink::reserve`] room for one stage and its subgraphs; if it
/// refuses, the composer returns [`CloseError::SinkFull`](super::CloseError::SinkFull) and changes
/// nothing. After a successful reserve every record of the stage is handed
/// over: the subgraphs in push order, then the stage, unless the sink says
/// by [`Sink::wants_records`] that it takes none.
pub trait Sink {
    /// Whether the sink takes records at all. When it does not (`()`), the
    /// composer does not build them: the totals alone cost less per stage.
    /// [`Sink::reserve`] is asked either way.
    fn wants_records(&self) -> bool {
        true
    }
    /// Makes room for one stage record and `subgraphs` subgraph records.
    ///
    /// # Errors
    /// [`SinkFull`] when the records would not fit.
    fn reserve(&mut self, subgraphs: usize) -> Result<(), SinkFull> {
        let _ = subgraphs;
        Ok(())
    }
    /// Receives one subgraph's record.
    fn subgraph(&mut self, record: &SubgraphRecord) {
        let _ = record;
    }
    /// Receives a closed stage's record, after its subgraphs'.
    fn stage(&mut self, record: &StageRecord) {
        let _ = record;
    }
}

/// Discards every record, so the composer builds none.
impl Sink for () {
    fn wants_records(&self) -> bool {
        false
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn wants_records(&self) -> bool {
        (**self).wants_records()
    }
    fn reserve(&mut self, subgraphs: usize) -> Result<(), SinkFull> {
        (**self).reserve(subgraphs)
    }
    fn subgraph(&mut self, record: &SubgraphRecord) {
        (**self).subgraph(record);
    }
    fn stage(&mut self, record: &StageRecord) {
        (**self).stage(record);
    }
}

/// One record, as a [`FnSink`] closure receives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record<'a> {
    /// A subgraph's record.
    Subgraph(&'a SubgraphRecord),
    /// A stage's record.
    Stage(&'a StageRecord),
}

/// A sink that hands every record to a closure. It never refuses.
#[derive(Debug)]
pub struct FnSink<F>(pub F);

impl<F: FnMut(Record<'_>)> Sink for FnSink<F> {
    fn subgraph(&mut self, record: &SubgraphRecord) {
        (self.0)(Record::Subgraph(record));
    }
    fn stage(&mut self, record: &StageRecord) {
        (self.0)(Record::Stage(record));
    }
}

/// A sink that keeps records in fixed-capacity buffers.
///
/// It refuses a stage whose records would not all fit, so what it holds is
/// always whole stages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recorder<const STAGES: usize, const SUBGRAPHS: usize> {
    /// Stage records, in stage order.
    pub stages: heapless::Vec<StageRecord, STAGES>,
    /// Subgraph records, in stream order.
    pub subgraphs: heapless::Vec<SubgraphRecord, SUBGRAPHS>,
}

impl<const STAGES: usize, const SUBGRAPHS: usize> Recorder<STAGES, SUBGRAPHS> {
    /// An empty recorder.
    pub const fn new() -> Self {
        Recorder {
            stages: heapless::Vec::new(),
            subgraphs: heapless::Vec::new(),
        }
    }
}

impl<const STAGES: usize, const SUBGRAPHS: usize> Sink for Recorder<STAGES, SUBGRAPHS> {
    fn reserve(&mut self, subgraphs: usize) -> Result<(), SinkFull> {
        let stage_room = self.stages.len() < STAGES;
        let subgraph_room = SUBGRAPHS - self.subgraphs.len() >= subgraphs;
        if stage_room && subgraph_room {
            Ok(())
        } else {
            Err(SinkFull)
        }
    }
    fn subgraph(&mut self, record: &SubgraphRecord) {
        // Room was reserved; a failure here cannot happen, and ignoring it
        // keeps the library free of panics.
        let _ = self.subgraphs.push(*record);
    }
    fn stage(&mut self, record: &StageRecord) {
        let _ = self.stages.push(*record);
    }
}
