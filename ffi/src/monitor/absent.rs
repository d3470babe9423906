//! The monitor without `std`: there is none. Every call checks its
//! arguments like the real one, then says [`WL_ERR_NOT_SUPPORTED`].

use wattledger_core::mig::ResultRecord;

use super::wl_device_window_report;
use crate::handle::{Kind, Object};
use crate::ptr::OutArray;
use crate::status::{WL_ERR_NOT_SUPPORTED, wl_status};

/// No monitor can exist in this build: the type has no values.
pub(crate) enum MonitorObj {}

impl Object for MonitorObj {
    const KIND: Kind = Kind::Monitor;
    const AVAILABLE: bool = false;
    fn busy(&self) -> bool {
        match *self {}
    }
}

impl MonitorObj {
    pub(super) fn open_nvml(_path: Option<&str>) -> Result<MonitorObj, wl_status> {
        Err(WL_ERR_NOT_SUPPORTED)
    }

    pub(super) fn open_replay(_path: &str) -> Result<MonitorObj, wl_status> {
        Err(WL_ERR_NOT_SUPPORTED)
    }

    pub(super) fn device_count(&self) -> usize {
        match *self {}
    }

    pub(super) fn begin(&self, _name: &str) -> Result<(), wl_status> {
        match *self {}
    }

    pub(super) fn end(
        &self,
        _name: &str,
        _out: &mut OutArray<'_, wl_device_window_report>,
    ) -> Result<usize, wl_status> {
        match *self {}
    }

    pub(super) fn mig_results(
        &self,
        _name: &str,
        _check: impl FnOnce(&[ResultRecord<'_>]) -> Result<(), wl_status>,
    ) -> Result<(), wl_status> {
        match *self {}
    }
}
