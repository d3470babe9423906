//! MIG rules for C: profiles, the catalog, warnings and CUDA_VISIBLE_DEVICES.
