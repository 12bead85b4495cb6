//! What a request meets first: the REST routes ([`rest`]) and WeChat's own shapes ([`wechat`]),
//! who may call them ([`auth`]), and the steps both families share ([`pipeline`]). Neither family
//! imports the other's handlers.

pub mod auth;

#[cfg(target_arch = "wasm32")]
pub mod hub;
#[cfg(target_arch = "wasm32")]
pub mod pipeline;
#[cfg(target_arch = "wasm32")]
pub mod rest;
#[cfg(target_arch = "wasm32")]
pub mod wechat;
