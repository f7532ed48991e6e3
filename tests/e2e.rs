mod cache;
mod fixture;
mod graph;
mod kernel;
mod robust;
mod tui;
