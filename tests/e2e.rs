mod cache;
mod fixture;
mod graph;
mod kernel;
mod lsp;
mod robust;
mod tui;
