//! Reading datasets into ctrlgraph: parsing, validation, normalisation and the stores.

pub mod checks;
