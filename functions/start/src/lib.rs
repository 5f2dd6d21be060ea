//! `start`'s logic, as a library: the `start` function wires it to its events, and the
//! `pipeline` function (a CodePipeline action) starts rollouts through it too, so there is one
//! way a rollout begins. `handler` holds it all.

pub mod handler;
