//! The measuring monitor (needs `std`).
