//! blocks-core's integration tests, in one binary (one link instead of one
//! per file): a module per topic, [`support`] with what they share, and the
//! watchdog the thread tests share with the binaries that stay alone.
//! `cargo test -p blocks-core --test it ops_conv::` runs one module's tests.
//!
//! Alone, each its own process: `display_memory`, `io_load_memory` and
//! `io_hostile` (each installs its own counting global allocator),
//! `io_stale_temporaries` (re-runs its own binary as a child to kill it
//! mid-save), `threads_convnets` and `threads_results` (they set the
//! process-wide thread count).

mod autograd_engine;
mod buffer_reuse;
mod data_loader;
mod data_transforms;
mod datasets;
mod display;
mod engine_caller_location;
mod engine_overflow_nan;
mod engine_threads;
mod fixed_hidden_mlp_plain_ops;
mod fuzz_seeds;
mod grad_hooks;
mod io_dtype_casts;
mod io_files;
mod io_scale;
mod layers_plain_ops;
mod nn_apply;
mod nn_float64;
mod nn_init;
mod nn_init_trunc_normal;
mod nn_lazy_linear;
mod ops_activation_more;
mod ops_arithmetic;
mod ops_compare;
mod ops_conv;
mod ops_embedding_dropout;
mod ops_extrema;
mod ops_index;
mod ops_math;
mod ops_norm;
mod ops_pool;
mod ops_shape;
mod ops_softmax_loss;
mod optim_defaults;
mod optim_groups;
mod optim_hostile_state;
mod optim_known_answers;
mod optim_resume;
mod optim_schedules;
mod support;
#[path = "../watchdog/mod.rs"]
mod watchdog;
