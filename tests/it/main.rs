//! The root package's integration tests, in one binary (one link instead
//! of one per file): a module per topic, and [`support`] with what they
//! share. `cargo test --test it chain::` runs one module's tests.
//! The MPI test (`tests/distributed.rs`) stays a binary of its own: it has
//! no harness and launches itself under `mpirun`.

mod caller_lines;
mod chain;
mod chain_float64;
mod concat;
mod conformance;
mod conformance_attention;
mod conformance_layers;
mod conformance_ops;
mod conformance_optim;
mod conformance_rnn;
mod conformance_training;
mod conformance_vision;
mod convnet_examples;
mod custom_layers;
mod deep_copy;
mod derive;
mod derive_attributes;
mod derive_float64;
mod dyn_sequential;
mod examples_output;
mod forward;
mod gpt2_example;
mod hooks;
mod hooks_calls_with_state;
mod hooks_float64;
mod hooks_instance;
mod layer_blocks;
mod layer_gaps;
mod recurrent;
mod repeat;
mod resnet18;
mod sequential_entries;
mod sequential_iter;
mod state_dict;
mod support;
mod train_digits_example;
