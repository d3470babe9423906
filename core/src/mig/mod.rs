//! Multi-Instance GPU rules (placeholder: the MIG issue fills this in).
