mod cache;
mod fixture;
mod graph;
mod kernel;
mod lsp;
mod mcp;
mod robust;
mod tui;
