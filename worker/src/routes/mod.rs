//! What a request meets first: the route table ([`table`]), the REST routes ([`rest`]) and WeChat's own shapes ([`wechat`]),
//! who may call them ([`auth`]), the steps both families share ([`pipeline`]), and the decision
//! that lets the JS entry answer a plain cache hit itself ([`hit`], which reads a request's URL
//! with [`url`]). Neither family
//! imports the other's handlers.

pub mod auth;
pub mod hit;
pub mod table;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod hub;
#[cfg(target_arch = "wasm32")]
pub mod pipeline;
#[cfg(target_arch = "wasm32")]
pub mod rest;
#[cfg(target_arch = "wasm32")]
pub mod wechat;
